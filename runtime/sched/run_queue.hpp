// RunQueue: a worker's local run queue, a fixed-size Chase-Lev deque
// (Lê, Pop, Cohen, Zappa Nardelli, PPoPP'13 — the C11 version).
// The owner pushes and pops at the bottom (LIFO: the fiber just spawned or
// woken runs next, which keeps fan-out trees depth-first and their stacks
// warm); thieves and the owner's anti-starvation pick take from the top
// (oldest first). Invariant: top <= bottom; entries in [top, bottom) are
// runnable fibers owned by no other queue.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "sched/fiber.hpp"

namespace fsan::detail {

class RunQueue {
 public:
  static constexpr std::int64_t kCapacity = 4096;

  // push: owner only. Returns false when full (caller uses the global queue).
  bool push(Fiber* f) {
    std::int64_t b = bottom_.load(std::memory_order_relaxed);
    std::int64_t t = top_.load(std::memory_order_acquire);
    if (b - t >= kCapacity) return false;
    slots_[b & (kCapacity - 1)].store(f, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    bottom_.store(b + 1, std::memory_order_relaxed);
    return true;
  }

  // pop: owner only, newest first.
  Fiber* pop() {
    std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    bottom_.store(b, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_relaxed);
    if (t > b) {
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    Fiber* f = slots_[b & (kCapacity - 1)].load(std::memory_order_relaxed);
    if (t == b) {
      // Last element: race the thieves for it.
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) f = nullptr;
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return f;
  }

  // steal: any thread, oldest first. nullptr when empty or when it lost a race.
  Fiber* steal() {
    std::int64_t t = top_.load(std::memory_order_acquire);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return nullptr;
    Fiber* f = slots_[t & (kCapacity - 1)].load(std::memory_order_relaxed);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) return nullptr;
    return f;
  }

  // size: a racy estimate, exact when read by the owner with no thieves.
  std::int64_t size() const {
    std::int64_t b = bottom_.load(std::memory_order_acquire);
    std::int64_t t = top_.load(std::memory_order_acquire);
    return b > t ? b - t : 0;
  }

 private:
  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  alignas(64) std::atomic<Fiber*> slots_[kCapacity];
};

}  // namespace fsan::detail
