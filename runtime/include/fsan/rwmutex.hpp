// fsan::RWMutex: Go's sync.RWMutex — many readers or one writer, writer
// preferring. Uncontended lock_shared/unlock_shared are one atomic add each.
// Invariants (Go's): reader_count_ is the number of readers holding or
// waiting, minus kMaxReaders while a writer holds or waits; reader_wait_ is
// the number of readers the pending writer still waits for. The writer
// mutex w_ serializes writers.
// Lock order: w_ before the semaphores' bucket locks (taken one at a time).
#pragma once

#include <atomic>
#include <cstdint>

#include <fsan/detail/config.hpp>
#include <fsan/detail/hooks_flag.hpp>
#include <fsan/mutex.hpp>

namespace fsan {

// RWMutex: a reader/writer mutex. Satisfies SharedLockable, so
// std::shared_lock (and std::unique_lock / std::lock_guard for the writer)
// work with it.
//  - Writer preferring, exactly like Go: once a writer waits, new
//    lock_shared() calls block until it has had its turn. A reader that
//    re-enters lock_shared() while a writer waits therefore deadlocks (the
//    "RWR" deadlock), and try_lock_shared() fails while a writer waits.
//  - unlock() of an RWMutex not write-locked panics ("sync: Unlock of
//    unlocked RWMutex"); unlock_shared() without a reader panics ("sync:
//    RUnlock of unlocked RWMutex").
//  - Happens-before: unlock() happens before later lock_shared()/lock()
//    return; unlock_shared() happens before the next lock() returns. A
//    failed try-lock orders nothing.
// Example:
//   fsan::RWMutex mu;
//   std::map<int, int> table;
//   { std::shared_lock<fsan::RWMutex> r(mu); auto it = table.find(1); }
//   { std::lock_guard<fsan::RWMutex> w(mu); table[1] = 2; }
class FSAN_CAPABILITY("mutex") RWMutex {
 public:
  constexpr RWMutex() noexcept = default;
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  // lock: waits for other writers, then blocks new readers and waits for the
  // current ones to leave.
  void lock() FSAN_ACQUIRE();
  // try_lock: write-locks if there is no writer and no reader; never blocks.
  bool try_lock() FSAN_TRY_ACQUIRE(true);
  // unlock: ends the write lock; readers that arrived meanwhile go first.
  void unlock() FSAN_RELEASE();

  // lock_shared: read-locks; blocks while a writer holds or waits.
  FSAN_ALWAYS_INLINE void lock_shared() FSAN_ACQUIRE_SHARED() {
    if (FSAN_UNLIKELY(reader_count_.fetch_add(1, std::memory_order_acquire) < 0)) wait_for_writer();
    if (FSAN_UNLIKELY(!detail::hooks_off())) acquired_shared(false);
  }
  // try_lock_shared: read-locks unless a writer holds or waits; never blocks.
  FSAN_ALWAYS_INLINE bool try_lock_shared() FSAN_TRY_ACQUIRE_SHARED(true) {
    std::int32_t c = reader_count_.load(std::memory_order_relaxed);
    do {
      if (c < 0) return false;
    } while (!reader_count_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_relaxed));
    if (FSAN_UNLIKELY(!detail::hooks_off())) acquired_shared(true);
    return true;
  }
  // unlock_shared: ends one read lock; the last reader a writer waits for
  // lets it in.
  FSAN_ALWAYS_INLINE void unlock_shared() FSAN_RELEASE_SHARED() {
    if (FSAN_UNLIKELY(!detail::hooks_off())) releasing_shared();
    std::int32_t r = reader_count_.fetch_sub(1, std::memory_order_release) - 1;
    if (FSAN_UNLIKELY(r < 0)) unlock_shared_slow(r);
  }

 private:
  static constexpr std::int32_t kMaxReaders = 1 << 30;

  FSAN_NOINLINE void wait_for_writer();
  FSAN_NOINLINE void unlock_shared_slow(std::int32_t r);
  FSAN_NOINLINE void acquired_shared(bool by_try);
  FSAN_NOINLINE void releasing_shared();

  Mutex w_;                                    // held by the writer (or a writer waiting for readers)
  std::atomic<std::uint32_t> writer_sem_{0};   // the writer waits here for departing readers
  std::atomic<std::uint32_t> reader_sem_{0};   // readers wait here for the writer to finish
  std::atomic<std::int32_t> reader_count_{0};  // pending readers (negative: a writer is pending)
  std::atomic<std::int32_t> reader_wait_{0};   // departing readers the writer waits for
};

}  // namespace fsan
