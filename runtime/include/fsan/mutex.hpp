// fsan::Mutex: Go's sync.Mutex for fibers (and foreign threads). Blocking
// parks the fiber, never its worker thread. One atomic word; the
// uncontended lock and unlock are one CAS each, inline. Waiters queue FIFO
// outside the object (runtime/sync/wait_table.hpp), so the Mutex is 4 bytes.
// Invariants (state word, Go's layout): bit 0 locked, bit 1 woken (a waiter
// was woken or is spinning: unlock need not wake another), bit 2 starving
// (hand-off mode), bits 3.. the number of queued waiters, which equals the
// length of the mutex's queue whenever its bucket lock is held.
// Starving implies locked: in hand-off mode ownership passes from unlock
// straight to the first waiter without the locked bit ever clearing.
#pragma once

#include <atomic>
#include <cstdint>

#include <fsan/detail/config.hpp>
#include <fsan/detail/hooks_flag.hpp>

namespace fsan {

namespace detail {
struct MutexImpl;
}

// Mutex: mutual exclusion, not reentrant. Satisfies Lockable, so
// std::lock_guard, std::unique_lock and std::scoped_lock work with it.
//  - Fairness (Go's algorithm): normally a fiber arriving at an unlocked
//    mutex may take it ahead of a woken waiter (fast, no hand-off). A waiter
//    that has waited more than 1 ms switches the mutex to starvation mode:
//    unlock then hands the mutex directly to the oldest waiter and newcomers
//    queue behind, until a waiter gets it after waiting less than 1 ms or is
//    the last one. So no waiter can be overtaken forever.
//  - A fiber may unlock a mutex another fiber locked (Go allows it).
//  - unlock() of an unlocked mutex is a panic finding
//    ("sync: unlock of unlocked mutex").
//  - Happens-before: the n-th unlock() happens before the (n+1)-th lock()
//    (or successful try_lock()) returns; a failed try_lock() orders nothing.
//  - The mutex may be destroyed by whoever locks it last as soon as that
//    agent unlocked it: unlock() never touches the object after the point
//    where another agent could acquire it.
// Example:
//   fsan::Mutex mu;
//   int hits = 0;
//   fsan::go([&] { std::lock_guard<fsan::Mutex> g(mu); ++hits; });
class FSAN_CAPABILITY("mutex") Mutex {
 public:
  constexpr Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // lock: blocks (parks) until the caller holds the mutex. Locking a mutex
  // the caller already holds blocks forever (a deadlock, as in Go).
  FSAN_ALWAYS_INLINE void lock() FSAN_ACQUIRE() {
    std::uint32_t expected = 0;
    if (FSAN_LIKELY(detail::hooks_off() && state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                                                          std::memory_order_relaxed)))
      return;
    lock_slow();
  }

  // try_lock: takes the mutex if it is free and not being handed off;
  // never blocks. Like Go's TryLock, it may fail spuriously under contention.
  FSAN_ALWAYS_INLINE bool try_lock() FSAN_TRY_ACQUIRE(true) {
    std::uint32_t old = state_.load(std::memory_order_relaxed);
    if ((old & (kLocked | kStarving)) != 0) return false;
    if (!state_.compare_exchange_strong(old, old | kLocked, std::memory_order_acquire, std::memory_order_relaxed))
      return false;
    if (FSAN_UNLIKELY(!detail::hooks_off())) acquired_by_try();
    return true;
  }

  // unlock: releases the mutex; wakes the first waiter if nobody else is
  // about to take it. Panics if the mutex is not locked.
  FSAN_ALWAYS_INLINE void unlock() FSAN_RELEASE() {
    std::uint32_t expected = kLocked;
    if (FSAN_LIKELY(detail::hooks_off() &&
                    state_.compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed)))
      return;
    unlock_slow();
  }

 private:
  friend struct detail::MutexImpl;
  static constexpr std::uint32_t kLocked = 1;
  static constexpr std::uint32_t kWoken = 2;
  static constexpr std::uint32_t kStarving = 4;
  static constexpr std::uint32_t kWaiterShift = 3;

  FSAN_NOINLINE void lock_slow();
  FSAN_NOINLINE void unlock_slow();
  FSAN_NOINLINE void acquired_by_try();

  std::atomic<std::uint32_t> state_{0};
};

}  // namespace fsan
