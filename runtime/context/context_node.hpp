// CtxNode: one node of the context tree behind fsan::Context, and the
// CancelHandle shared by the copies of one CancelFunc.
// Invariants:
//  - err goes none -> canceled|deadline_exceeded once, under `lock`; the node
//    is then unlinked from its parent, has no children and no armed timer.
//  - A child holds a reference to its parent while linked (so a parent lives
//    as long as its live children); a parent does not own its children: the
//    sibling links are guarded by the PARENT's lock, and a parent cancelling
//    takes a child only if it can still retain it (refs > 0).
//  - An armed deadline timer (timer_sched != nullptr) owns one reference.
// Lock order: a node's lock is never held while another node's lock is
// taken; node lock -> Timers::lock_ -> channel locks.
#pragma once

#include <atomic>
#include <cstdint>

#include <fsan/chan.hpp>
#include <fsan/context.hpp>

#include "base/lock.hpp"
#include "leak/creation_site.hpp"
#include "sched/timers.hpp"

namespace fsan::detail {

class Scheduler;
struct CtxNode;

// CancelHandle: one per with_* call, inside its node (one allocation per
// context, not two); `refs` counts CancelFunc copies, and the handle holds a
// counted reference to its node, so the node outlives it. The last copy to
// go checks that one was called (lost_cancel, leak/lost_cancel.hpp).
struct CancelHandle {
  std::atomic<std::uint32_t> refs{1};
  std::atomic<bool> called{false};
  CtxNode* node = nullptr;  // a counted reference
  const char* made_by = "with_cancel";  // the with_* call that made it
  CreationSite site;                    // where that call was
};

struct CtxNode {
  TimerEntry timer;  // first: the timer callbacks cast the entry back to the node
  std::atomic<std::uint32_t> refs{1};
  std::atomic<CtxError> err{CtxError::none};  // written under lock, read lock-free
  // No timer can end this node by its deadline (created outside a run, or the
  // run ended): err() and done() compare the clock with the deadline.
  std::atomic<bool> lazy{false};
  // done is written once, under lock, before done_made is set; it is read
  // without the lock after done_made is seen true.
  std::atomic<bool> done_made{false};
  Chan<Unit> done;

  bool has_deadline = false;  // immutable after creation
  std::int64_t deadline_ns = 0;

  Lock lock;
  CtxNode* parent FSAN_GUARDED_BY(lock) = nullptr;  // a counted reference while linked
  CtxNode* first_child FSAN_GUARDED_BY(lock) = nullptr;
  // Guarded by parent->lock.
  CtxNode* prev_sibling = nullptr;
  CtxNode* next_sibling = nullptr;
  bool linked = false;
  // The work list of the cancel that retained this node (owned by it).
  CtxNode* cancel_next = nullptr;

  Scheduler* timer_sched FSAN_GUARDED_BY(lock) = nullptr;
  CancelHandle cancel;  // used by with_* nodes only
};

// new_cancel_handle: the handle of node n (made by with_* `made_by`, whose
// caller is the frame above `fp`); it takes over the caller's reference to n.
CancelHandle* new_cancel_handle(CtxNode* n, const char* made_by, std::uintptr_t fp);

// ctx_cancel: ends n and its subtree with e (no-op if n already ended).
// The caller holds a reference to n.
void ctx_cancel(CtxNode* n, CtxError e);

}  // namespace fsan::detail
