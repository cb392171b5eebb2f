// fsan::Once: the first caller moves idle -> running and runs f; others
// mark running -> running-with-waiters under the bucket lock and park there;
// finish() publishes done with one exchange (its last touch of the object)
// and wakes the parked callers from the bucket.
// Lock order: the Once's bucket lock only; f runs with no lock held.
#include <fsan/once.hpp>

#include "hooks/sync_hooks.hpp"
#include "sched/park.hpp"
#include "sync/wait_table.hpp"

namespace fsan {

void Once::call_slow(void (*fn)(void*), void* f) {
  std::uint32_t s = kIdle;
  if (state_.compare_exchange_strong(s, kRunning, std::memory_order_acquire, std::memory_order_acquire)) {
    // Go's rule: done even if f throws (the destructor runs during unwinding).
    struct Finish {
      Once* once;
      ~Finish() { once->finish(); }
    } finish_on_exit{this};
    fn(f);
    return;
  }
  if (s != kDone) {
    detail::WaitBucket& b = detail::wait_bucket(this);
    b.lock.lock();
    s = state_.load(std::memory_order_acquire);
    while (s == kRunning &&
           !state_.compare_exchange_weak(s, kRunningWaiters, std::memory_order_acquire, std::memory_order_acquire)) {
    }
    if (s == kDone) {
      b.lock.unlock();
    } else {
      detail::SyncWaiter w;
      w.agent = detail::current_agent();
      w.key = this;
      b.push_back(&w);
      detail::park_in(b, &w, detail::WaitReason::sync_once, this);
      (void)state_.load(std::memory_order_acquire);  // pairs with finish()'s exchange
    }
  }
  observed_done();
}

void Once::observed_done() { FSAN_HOOK(on_acquire(detail::current_agent(), this, detail::SyncOp::once)); }

void Once::finish() noexcept {
  FSAN_HOOK(on_release(detail::current_agent(), this, detail::SyncOp::once));
  if (state_.exchange(kDone, std::memory_order_acq_rel) != kRunningWaiters) return;
  // Callers parked (they marked the word under the bucket lock before parking).
  detail::WaitBucket& b = detail::wait_bucket(this);
  b.lock.lock();
  detail::SyncWaiter* chain = b.pop_all(this);
  b.lock.unlock();
  detail::wake_chain(chain);
}

}  // namespace fsan
