// Lock: the runtime's internal mutex (channels, queues, registries). Held only
// for a few hundred instructions, so it spins briefly, then sleeps on a futex
// (Drepper's three-state mutex) — a preempted holder never burns a core.
// Never held across a fiber switch except where a post-switch action
// releases it (see sched/worker.hpp).
#pragma once

#include <atomic>
#include <cstdint>

#include <fsan/detail/config.hpp>

#include "base/futex.hpp"

namespace fsan::detail {

class FSAN_CAPABILITY("mutex") Lock {
 public:
  FSAN_ALWAYS_INLINE void lock() FSAN_ACQUIRE() {
    std::uint32_t expected = 0;
    if (FSAN_LIKELY(state_.compare_exchange_strong(expected, 1, std::memory_order_acquire))) return;
    lock_slow();
  }
  FSAN_ALWAYS_INLINE bool try_lock() FSAN_TRY_ACQUIRE(true) {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire);
  }
  FSAN_ALWAYS_INLINE void unlock() FSAN_RELEASE() {
    if (FSAN_UNLIKELY(state_.exchange(0, std::memory_order_release) == 2)) futex_wake(&state_, 1);
  }

 private:
  FSAN_NOINLINE void lock_slow() {
    for (int i = 0; i < 100; ++i) {
      cpu_relax();
      std::uint32_t expected = 0;
      if (state_.load(std::memory_order_relaxed) == 0 &&
          state_.compare_exchange_weak(expected, 1, std::memory_order_acquire))
        return;
    }
    while (state_.exchange(2, std::memory_order_acquire) != 0) futex_wait(&state_, 2);
  }

  // 0 = free, 1 = held, 2 = held with sleepers.
  std::atomic<std::uint32_t> state_{0};
};

class FSAN_SCOPED_CAPABILITY LockGuard {
 public:
  explicit LockGuard(Lock& l) FSAN_ACQUIRE(l) : l_(l) { l_.lock(); }
  ~LockGuard() FSAN_RELEASE() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& l_;
};

}  // namespace fsan::detail
