// WaitTable: where agents blocked on sync objects wait (Go's semtable). A
// fixed array of buckets, each a Lock and the FIFO queues of the objects that
// hash to it. Keeping the queues out of the objects keeps every sync type a
// few bytes, and because the table lives forever a waker may still touch its
// bucket after the object whose waiter it woke has been destroyed.
// Invariants: a SyncWaiter lives on its agent's stack and is linked into at
// most one queue, only while its agent is parked (or about to park with the
// bucket lock held); only the agent that unlinks a waiter may ready() it.
// Lock order: a bucket lock is a leaf among sync and channel locks (never
// held with another bucket's lock or a channel lock); parking under it takes
// scheduler locks.
#pragma once

#include <cstdint>

#include "base/lock.hpp"
#include "sched/wait_reason.hpp"

namespace fsan::detail {

struct Fiber;

struct SyncWaiter {
  Fiber* agent = nullptr;
  const void* key = nullptr;       // the queue: an object's (or a semaphore word's) address
  SyncWaiter* next = nullptr;      // same key, FIFO
  SyncWaiter* tail = nullptr;      // queue head only: the last waiter of its queue
  SyncWaiter* next_key = nullptr;  // queue head only: the bucket's next queue
  std::int64_t since_ns = 0;       // Mutex: when the agent first queued
  std::uint32_t ticket = 0;        // Cond: the wait's ticket
  bool linked = false;
  bool handoff = false;  // Mutex: woken as the new owner
  // Run end with the agent still queued: called under the bucket lock after
  // unlinking, to fix the object's own count of queued waiters (may be null).
  void (*on_cancel)(SyncWaiter* w) = nullptr;
};

struct alignas(64) WaitBucket {
  Lock lock;
  SyncWaiter* queues FSAN_GUARDED_BY(lock) = nullptr;  // one head per distinct key

  // push_back: w (key set) joins the end of its key's queue.
  void push_back(SyncWaiter* w) FSAN_REQUIRES(lock);
  // push_front: w jumps its key's queue (a Mutex waiter that lost a race after being woken, as in Go).
  void push_front(SyncWaiter* w) FSAN_REQUIRES(lock);
  // front: the first waiter on key, or nullptr.
  SyncWaiter* front(const void* key) FSAN_REQUIRES(lock);
  // pop_front: unlinks and returns the first waiter on key, or nullptr.
  SyncWaiter* pop_front(const void* key) FSAN_REQUIRES(lock);
  // pop_all: unlinks every waiter on key; returns them chained by `next`, FIFO.
  SyncWaiter* pop_all(const void* key) FSAN_REQUIRES(lock);
  // pop_ticket: unlinks and returns the waiter on key holding `ticket`, or nullptr.
  SyncWaiter* pop_ticket(const void* key, std::uint32_t ticket) FSAN_REQUIRES(lock);
  // remove: unlinks w if linked.
  void remove(SyncWaiter* w) FSAN_REQUIRES(lock);

 private:
  SyncWaiter** find(const void* key) FSAN_REQUIRES(lock);
  void unlink_after(SyncWaiter** head_link, SyncWaiter* prev, SyncWaiter* w) FSAN_REQUIRES(lock);
};

// wait_bucket: the bucket of key.
WaitBucket& wait_bucket(const void* key);

// park_in: w is linked into b (agent and key set); parks the current agent
// with reason `why` on `obj` and releases b.lock once it is parked. Returns
// after a waker unlinked w and readied the agent. If the run ends first, the
// run-end sweep unlinks w (Fiber::cancel_wait) and the agent never returns.
void park_in(WaitBucket& b, SyncWaiter* w, WaitReason why, const void* obj) FSAN_RELEASE(b.lock);

// wake_chain: readies every waiter of a pop_all() chain. Call without the
// bucket lock; it reads each link before waking that waiter (a woken waiter's
// record dies with its wait) and touches nothing else.
void wake_chain(SyncWaiter* w);

}  // namespace fsan::detail
