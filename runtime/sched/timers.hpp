// Timers: one min-heap of pending timers per run. Workers fire due timers
// from their scheduling loop; an idle worker sleeps until the earliest one.
// A timer's callback runs on a worker with no lock held and must not block
// (it readies a fiber or does a non-blocking channel send).
// Lock order: Timers::lock_ before channel locks before scheduler locks.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "base/lock.hpp"

namespace fsan::detail {

struct TimerEntry {
  std::int64_t when = 0;                                 // steady-clock ns
  void (*fire)(TimerEntry* t, std::int64_t now) = nullptr;  // runs once the timer is due
  void (*discard)(TimerEntry* t) = nullptr;             // runs if the run ends first (may be null)
  std::int64_t heap_index = -1;                         // -1: not pending
};

// now_ns: the steady clock in ns (fsan::Clock).
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// coarse_now_ns: the same clock at tick resolution (1-4 ms), about 5x
// cheaper than now_ns. For wait-since stamps taken at every park: they only
// feed report durations ("chan send, 3 minutes"), where ms do not matter,
// and a full clock read was a fifth of a ping-pong round trip.
inline std::int64_t coarse_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class Timers {
 public:
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  // add: schedules t (not pending). Returns true if it became the earliest.
  bool add(TimerEntry* t) FSAN_EXCLUDES(lock_);
  bool add_locked(TimerEntry* t) FSAN_REQUIRES(lock_);
  // remove: unschedules t; false if it was not pending (fired or never added).
  bool remove(TimerEntry* t) FSAN_EXCLUDES(lock_);
  // run_due: fires every timer due at `now`; returns how many fired.
  int run_due(std::int64_t now) FSAN_EXCLUDES(lock_);
  // discard_all: at run end, drops pending timers (calling their discard).
  void discard_all() FSAN_EXCLUDES(lock_);

  std::int64_t next_when() const { return next_when_.load(std::memory_order_acquire); }
  bool empty() const { return next_when() == kNever; }

  Lock& lock() FSAN_RETURN_CAPABILITY(lock_) { return lock_; }

 private:
  void sift_up(std::size_t i) FSAN_REQUIRES(lock_);
  void sift_down(std::size_t i) FSAN_REQUIRES(lock_);
  void erase_at(std::size_t i) FSAN_REQUIRES(lock_);
  void publish() FSAN_REQUIRES(lock_);

  Lock lock_;
  std::vector<TimerEntry*> heap_ FSAN_GUARDED_BY(lock_);
  std::atomic<std::int64_t> next_when_{kNever};
};

}  // namespace fsan::detail
