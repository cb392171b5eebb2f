// SyncHooks: the one interface through which the runtime tells detectors
// about synchronization events. The race detector, wait-for graph and leak
// tracker implement it. With no detector installed every hook site costs one
// predictable, not-taken branch (FSAN_HOOK).
// Threading: hooks run on the thread doing the operation, sometimes with the
// object's internal lock held (noted per event); they must not block.
#pragma once

#include <cstdint>

#include <fsan/detail/config.hpp>

#include "base/internal_scope.hpp"
#include "sched/wait_reason.hpp"

namespace fsan::detail {

struct Fiber;

// What an acquire/release event is about (the happens-before rule it feeds).
enum class SyncOp : std::uint8_t {
  chan_send,      // release on the channel before a value is handed over
  chan_recv,      // acquire on the channel after a value is taken
  chan_close,     // release on the channel by close
  chan_recv_closed,  // acquire by a receive that saw the close
  chan_slot,      // buffered k / k+C rule: acquire+release on a slot address
  // Mutex, and RWMutex's writer side: acquire when lock() returns, release
  // at unlock(). RWMutex keeps two clocks (Go's race model): the writer's
  // release reaches later readers and writers; readers' releases are merged
  // and reach only the next writer.
  mutex,
  mutex_try,         // acquire by a successful try_lock: orders like mutex, adds no lock-order edge
  rwmutex_read,      // RWMutex reader: acquire of the last writer release; release merges into the next writer's acquire
  rwmutex_read_try,  // acquire by a successful try_lock_shared (no lock-order edge)
  waitgroup,         // release (merged) by add(<0)/done(); acquire when wait() returns
  once,              // release when f completes (or throws); acquire when call() returns
  cond,              // release by signal()/broadcast(); acquire when the woken wait() returns (before relocking)
  context,
  annotation,
};

class SyncHooks {
 public:
  virtual ~SyncHooks() = default;
  // child is runnable but has not run; called on the parent's thread.
  virtual void on_spawn(Fiber* parent, Fiber* child) = 0;
  virtual void on_exit(Fiber* f) = 0;
  // f is about to park on obj (the wait queue's lock is held).
  virtual void on_block(Fiber* f, WaitReason why, const void* obj) = 0;
  // f was made runnable by `by` (nullptr: a timer or a foreign thread).
  virtual void on_unblock(Fiber* f, Fiber* by) = 0;
  virtual void on_acquire(Fiber* f, const void* obj, SyncOp op) = 0;
  virtual void on_release(Fiber* f, const void* obj, SyncOp op) = 0;
};

// The installed detector set; nullptr when none.
extern SyncHooks* g_sync_hooks;

// Called when a run has ended and its workers are joined (the race detector
// forgets that run's shadow and clocks); nullptr when nothing needs it.
extern void (*g_run_end_hook)();

// install_sync_hooks: adds h to the set (several detectors fan out).
void install_sync_hooks(SyncHooks* h);
void uninstall_sync_hooks(SyncHooks* h);

}  // namespace fsan::detail

#define FSAN_HOOK(call)                                                          \
  do {                                                                           \
    if (FSAN_UNLIKELY(::fsan::detail::g_sync_hooks != nullptr)) {                \
      ::fsan::detail::InternalScope fsan_hook_scope_; /* detectors' locks are not user sync */                                \
      ::fsan::detail::g_sync_hooks->call;                                        \
    }                                                                            \
  } while (0)
