// fsan::WaitGroup: Go's algorithm (counter and waiter count in one word), on
// the WaitTable instead of a semaphore, plus a waking phase that makes reuse
// detectable at the offending add(). A waiter registers under the bucket
// lock, and the add() that drops the counter to zero wakes under it, so no
// wake-up is lost between a waiter's registration and its parking.
// Lifetime: the add() that wakes writes the object last while every woken
// waiter is still parked; each woken waiter retires its own share of
// kWaking, and the last one leaves the word at zero.
// Lock order: the WaitGroup's bucket lock only; never held across report_panic.
#include <fsan/waitgroup.hpp>

#include "hooks/sync_hooks.hpp"
#include "report/report.hpp"
#include "sched/park.hpp"
#include "sync/wait_table.hpp"

namespace fsan {

namespace {

constexpr std::uint32_t kWaking = 1u << 31;

std::int32_t counter(std::uint64_t s) { return static_cast<std::int32_t>(s >> 32); }
std::uint32_t low(std::uint64_t s) { return static_cast<std::uint32_t>(s); }

[[noreturn]] void misuse_concurrent() {
  detail::report_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
}

}  // namespace

void WaitGroup::add(std::int64_t delta) {
  if (delta < 0) FSAN_HOOK(on_release(detail::current_agent(), this, detail::SyncOp::waitgroup));
  if (delta == 0) return;
  std::uint64_t inc = static_cast<std::uint64_t>(delta) << 32;
  std::uint64_t s = state_.fetch_add(inc, std::memory_order_acq_rel) + inc;
  std::int32_t v = counter(s);
  std::uint32_t w = low(s) & ~kWaking;
  if (v < 0) detail::report_panic("sync: negative WaitGroup counter");
  if (delta > 0 && (low(s) & kWaking) != 0)
    detail::report_panic("sync: WaitGroup is reused before previous Wait has returned");
  if (delta > 0 && w != 0 && v == delta) misuse_concurrent();
  if (v > 0 || w == 0) return;
  // The counter reached zero with w waiters registered: wake them all.
  detail::WaitBucket& b = detail::wait_bucket(this);
  b.lock.lock();
  // Nothing may change the word between our add and here but a racing
  // add(): Go's check for Add concurrent with the last Done.
  if (state_.load(std::memory_order_relaxed) != s) {
    b.lock.unlock();
    misuse_concurrent();
  }
  state_.store(kWaking | w, std::memory_order_release);
  detail::SyncWaiter* chain = b.pop_all(this);
  b.lock.unlock();
  detail::wake_chain(chain);
}

void WaitGroup::wait() {
  if (counter(state_.load(std::memory_order_acquire)) != 0) {
    detail::WaitBucket& b = detail::wait_bucket(this);
    b.lock.lock();
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (counter(s) == 0) break;
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) break;
    }
    if (counter(s) == 0) {
      b.lock.unlock();
    } else {
      detail::SyncWaiter self;
      self.agent = detail::current_agent();
      self.key = this;
      b.push_back(&self);
      detail::park_in(b, &self, detail::WaitReason::sync_waitgroup_wait, this);
      // Retire our share of the waking phase; the last waiter clears it.
      std::uint64_t cur = state_.load(std::memory_order_acquire);
      for (;;) {
        std::uint32_t left = (low(cur) & ~kWaking) - 1;
        std::uint64_t nw = (cur & ~std::uint64_t{0xffffffff}) | (left == 0 ? 0 : (kWaking | left));
        if (state_.compare_exchange_weak(cur, nw, std::memory_order_acq_rel, std::memory_order_acquire)) break;
      }
    }
  }
  FSAN_HOOK(on_acquire(detail::current_agent(), this, detail::SyncOp::waitgroup));
}

}  // namespace fsan
