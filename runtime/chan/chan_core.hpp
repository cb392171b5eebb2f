// ChanCore: the one channel implementation behind every Chan<T>.
// Invariants (Go's chan.go):
//  - At least one of sendq and recvq is empty (modulo select waiters
//    already claimed elsewhere, which the next dequeue discards).
//  - count <= cap; the buffer holds count constructed elements starting at
//    slot head, in FIFO order.
//  - closed never goes back to false; after close, sendq and recvq are empty.
// Lock order: channel locks are taken one at a time, or by select in
// increasing address order; then scheduler locks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstring>

#include <fsan/detail/chan_core.hpp>

#include "base/lock.hpp"
#include "chan/waiter.hpp"

namespace fsan::detail {

struct ChanCore {
  ChanRefs refs;  // must stay first: handles count through it inline
  Lock lock;
  const ElemOps* ops = nullptr;
  std::size_t cap = 0;
  std::size_t stride = 0;  // bytes per buffer slot
  std::size_t head FSAN_GUARDED_BY(lock) = 0;
  std::atomic<std::size_t> count{0};  // written under lock; len() reads it racily, as Go does
  bool closed FSAN_GUARDED_BY(lock) = false;
  WaitQueue sendq FSAN_GUARDED_BY(lock);
  WaitQueue recvq FSAN_GUARDED_BY(lock);
  unsigned char* buf = nullptr;  // cap slots, allocated right after this struct

  unsigned char* slot(std::size_t i) FSAN_REQUIRES(lock) { return buf + ((head + i) % cap) * stride; }
};

inline void elem_move(const ElemOps* ops, void* dst, void* src) {
  if (ops->move_construct != nullptr)
    ops->move_construct(dst, src);
  else
    std::memcpy(dst, src, ops->size);
}
inline void elem_destroy(const ElemOps* ops, void* p) {
  if (ops->destroy != nullptr) ops->destroy(p);
}

// dequeue: pops the first waiter that can still be woken. A select waiter
// is claimed by CAS on its agent's select_done; losers are dropped.
Waiter* dequeue(WaitQueue& q);

// hb_rendezvous: a send and the receive it pairs with order each other both
// ways (Go's memory model: the send happens before the receive completes;
// on an unbuffered channel the receive happens before the send completes),
// so each side acquires then releases the channel's clock. A side that
// parks releases before parking and acquires once woken.
#define FSAN_HB_RENDEZVOUS(self, c)                                \
  do {                                                             \
    FSAN_HOOK(on_acquire(self, c, ::fsan::detail::SyncOp::chan_recv)); \
    FSAN_HOOK(on_release(self, c, ::fsan::detail::SyncOp::chan_send)); \
  } while (0)

// Internal non-blocking send for timers: false if it would block.
bool chan_try_send(ChanCore* c, void* src);

}  // namespace fsan::detail
