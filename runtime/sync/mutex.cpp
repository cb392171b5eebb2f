// fsan::Mutex slow paths: Go's sync.Mutex algorithm on the WaitTable.
// Lock phases: spin (normal mode, other workers running), take a free mutex,
// else count ourselves as a waiter and park. Unlock: a plain release when
// nobody needs waking, else (under the bucket lock, still holding the mutex)
// wake the first waiter or, in starvation mode, hand the mutex to it.
// Lifetime rule: after the state write that lets another agent acquire the
// mutex, unlock touches only the (immortal) bucket and the woken waiter —
// whose pending lock() keeps the mutex alive until it is readied.
// Lock order: the mutex's bucket lock only; never held across report_panic.
#include <fsan/mutex.hpp>

#include "hooks/sync_hooks.hpp"
#include "report/report.hpp"
#include "sched/park.hpp"
#include "sched/scheduler.hpp"
#include "sched/timers.hpp"
#include "sync/mutex_impl.hpp"
#include "sync/wait_table.hpp"

namespace fsan {

namespace detail {

namespace {

constexpr std::uint32_t kLocked = 1;
constexpr std::uint32_t kWoken = 2;
constexpr std::uint32_t kStarving = 4;
constexpr std::uint32_t kWaiterShift = 3;
constexpr std::uint32_t kWaiter = 1u << kWaiterShift;
// Go's starvationThresholdNs: a waiter queued longer than this turns on hand-off.
constexpr std::int64_t kStarvationNs = 1'000'000;

constexpr const char* kUnlockOfUnlocked = "sync: unlock of unlocked mutex";

std::uint32_t waiters(std::uint32_t s) { return s >> kWaiterShift; }

// can_spin: spinning pays only while another worker may be running the
// holder and nothing else is waiting to run here (Go's sync_runtime_canSpin).
bool can_spin(int iter) {
  if (iter >= 4) return false;
  Worker* w = tl_worker;
  if (w == nullptr) return true;  // a foreign thread spins only its own OS thread
  return w->sched->workers() > 1 && !has_local_work(w);
}

void spin() {
  for (int i = 0; i < 30; ++i) cpu_relax();
}

// One lock() call's progress across wake-ups.
struct Attempt {
  bool awoke = false;     // we own the woken flag (unlock woke us, or we set it while spinning)
  bool starving = false;  // we have waited longer than kStarvationNs
  int iter = 0;           // spin iterations since the last wake
  std::int64_t wait_start = 0;
};

// queue_and_park: counts the caller as a waiter and parks it, unless the
// mutex was released meanwhile (returns false, nothing changed). Returns
// true once woken; *handoff says whether the caller now owns the mutex.
bool queue_and_park(std::atomic<std::uint32_t>& st, const void* m, Attempt& a, WaitReason why, bool* handoff) {
  WaitBucket& b = wait_bucket(m);
  b.lock.lock();
  std::uint32_t old = st.load(std::memory_order_relaxed);
  for (;;) {
    if ((old & (kLocked | kStarving)) == 0) {
      b.lock.unlock();
      return false;
    }
    std::uint32_t nw = old + kWaiter;
    // A starving waiter switches the mutex to hand-off as it queues again.
    if (a.starving && (old & kLocked) != 0) nw |= kStarving;
    if (a.awoke) nw &= ~kWoken;
    if (st.compare_exchange_weak(old, nw, std::memory_order_relaxed, std::memory_order_relaxed)) break;
  }
  a.awoke = false;
  SyncWaiter w;
  w.agent = current_agent();
  w.key = m;
  w.on_cancel = &MutexImpl::forget_waiter;
  // A waiter woken once that lost the race goes back to the front (Go's LIFO
  // requeue), keeping its original start so its starvation clock keeps running.
  bool requeue = a.wait_start != 0;
  if (!requeue) a.wait_start = now_ns();
  w.since_ns = a.wait_start;
  if (requeue)
    b.push_front(&w);
  else
    b.push_back(&w);
  park_in(b, &w, why, m);
  *handoff = w.handoff;
  return true;
}

// wake_or_hand_off: the caller holds the mutex and saw waiters to serve.
// Under the bucket lock: in starvation mode, passes ownership to the first
// waiter; in normal mode, releases the mutex and wakes the first waiter.
// Returns false, the mutex still held and nothing changed, when there is no
// one to wake after all (a spinner claimed the woken flag meanwhile).
bool wake_or_hand_off(std::atomic<std::uint32_t>& st, const void* m) {
  WaitBucket& b = wait_bucket(m);
  b.lock.lock();
  std::uint32_t old = st.load(std::memory_order_relaxed);
  SyncWaiter* w = nullptr;
  for (;;) {
    if ((old & kLocked) == 0) {
      b.lock.unlock();
      report_panic(kUnlockOfUnlocked);
    }
    w = b.front(m);
    if (w == nullptr) {
      // The count and the queue agree under this lock, so no waiter means a
      // count of zero; starving cannot be set either.
      b.lock.unlock();
      return false;
    }
    if ((old & kStarving) != 0) {
      // pass 1 - hand-off: the locked bit stays set and becomes w's. Leave
      // starvation mode if w is the last waiter or did not wait long.
      std::uint32_t nw = old - kWaiter;
      if (waiters(nw) == 0 || now_ns() - w->since_ns < kStarvationNs) nw &= ~kStarving;
      if (st.compare_exchange_weak(old, nw, std::memory_order_release, std::memory_order_relaxed)) {
        w->handoff = true;
        break;
      }
      continue;
    }
    if (waiters(old) == 0 || (old & kWoken) != 0) {
      b.lock.unlock();
      return false;
    }
    // pass 2 - normal mode: release and wake w, which competes with newcomers.
    std::uint32_t nw = (old - kWaiter - kLocked) | kWoken;
    if (st.compare_exchange_weak(old, nw, std::memory_order_release, std::memory_order_relaxed)) {
      w->handoff = false;
      break;
    }
  }
  b.pop_front(m);
  Fiber* agent = w->agent;
  b.lock.unlock();
  ready(agent);
  return true;
}

}  // namespace

void MutexImpl::lock(Mutex& m, WaitReason why) {
  std::atomic<std::uint32_t>& st = m.state_;
  Attempt a;
  std::uint32_t old = st.load(std::memory_order_relaxed);
  for (;;) {
    // phase 1 - spin: normal mode, the holder likely runs on another worker.
    if ((old & (kLocked | kStarving)) == kLocked && can_spin(a.iter)) {
      // Claim the woken flag so unlock does not wake a sleeper we would race with.
      if (!a.awoke && (old & kWoken) == 0 && waiters(old) != 0 &&
          st.compare_exchange_weak(old, old | kWoken, std::memory_order_relaxed, std::memory_order_relaxed))
        a.awoke = true;
      spin();
      ++a.iter;
      old = st.load(std::memory_order_relaxed);
      continue;
    }
    // phase 2 - free and not being handed off: take it.
    if ((old & (kLocked | kStarving)) == 0) {
      std::uint32_t nw = old | kLocked;
      if (a.awoke) nw &= ~kWoken;
      if (st.compare_exchange_weak(old, nw, std::memory_order_acquire, std::memory_order_relaxed)) return;
      continue;
    }
    // phase 3 - queue and park.
    bool handoff = false;
    if (queue_and_park(st, &m, a, why, &handoff)) {
      if (handoff) {
        // Pairs with the releasing CAS of the unlock that handed it over.
        (void)st.load(std::memory_order_acquire);
        return;
      }
      a.starving = a.starving || now_ns() - a.wait_start > kStarvationNs;
      a.awoke = true;
      a.iter = 0;
    }
    old = st.load(std::memory_order_relaxed);
  }
}

bool MutexImpl::try_lock(Mutex& m) {
  static_assert(Mutex::kLocked == kLocked && Mutex::kStarving == kStarving && Mutex::kWoken == kWoken &&
                Mutex::kWaiterShift == kWaiterShift);
  std::uint32_t old = m.state_.load(std::memory_order_relaxed);
  if ((old & (kLocked | kStarving)) != 0) return false;
  return m.state_.compare_exchange_strong(old, old | kLocked, std::memory_order_acquire, std::memory_order_relaxed);
}

void MutexImpl::forget_waiter(SyncWaiter* w) {
  std::atomic<std::uint32_t>& st = static_cast<Mutex*>(const_cast<void*>(w->key))->state_;
  std::uint32_t old = st.load(std::memory_order_relaxed);
  for (;;) {
    std::uint32_t nw = waiters(old) > 0 ? old - kWaiter : old;
    if (waiters(nw) == 0) nw &= ~kStarving;
    if (st.compare_exchange_weak(old, nw, std::memory_order_relaxed, std::memory_order_relaxed)) return;
  }
}

void MutexImpl::unlock(Mutex& m, const char* misuse) {
  std::atomic<std::uint32_t>& st = m.state_;
  std::uint32_t old = st.load(std::memory_order_relaxed);
  for (;;) {
    if ((old & kLocked) == 0) report_panic(misuse);
    // Nobody to wake: no waiter, or a woken (or spinning) one will take it.
    if ((old & kStarving) == 0 && (waiters(old) == 0 || (old & kWoken) != 0)) {
      if (st.compare_exchange_weak(old, old & ~kLocked, std::memory_order_release, std::memory_order_relaxed)) return;
      continue;
    }
    if (wake_or_hand_off(st, &m)) return;
    old = st.load(std::memory_order_relaxed);
  }
}

}  // namespace detail

void Mutex::lock_slow() {
  detail::MutexImpl::lock(*this, detail::WaitReason::sync_mutex_lock);
  FSAN_HOOK(on_acquire(detail::current_agent(), this, detail::SyncOp::mutex));
}

void Mutex::unlock_slow() {
  if (!detail::hooks_off()) {
    // Misuse is reported before the release event, which would otherwise
    // publish a clock for an unlock that never happened.
    if ((state_.load(std::memory_order_relaxed) & kLocked) == 0) detail::report_panic(detail::kUnlockOfUnlocked);
    FSAN_HOOK(on_release(detail::current_agent(), this, detail::SyncOp::mutex));
  }
  detail::MutexImpl::unlock(*this, detail::kUnlockOfUnlocked);
}

void Mutex::acquired_by_try() { FSAN_HOOK(on_acquire(detail::current_agent(), this, detail::SyncOp::mutex_try)); }

}  // namespace fsan
