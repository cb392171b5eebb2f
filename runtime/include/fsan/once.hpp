// fsan::Once: Go's sync.Once — run a function exactly once. One atomic word:
// idle -> running (-> running with parked callers) -> done; done is final.
// After done, call() is one acquire load, inline.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include <fsan/detail/config.hpp>
#include <fsan/detail/hooks_flag.hpp>

namespace fsan {

// Once: call(f) runs f only in the first call; every other call waits
// (parks) until that f has finished, then returns without running its own.
//  - Happens-before: the completion of f happens before any call() returns.
//  - If f throws, the Once still counts as done (Go's rule: a Once whose f
//    panicked is done, unlike std::call_once, which lets the next caller
//    retry): the exception propagates out of the first call() only, parked
//    callers return normally and later calls do nothing. So f runs at most
//    once, ever; make f handle its own failure if a retry is wanted.
//  - f calling call() on the same Once waits for itself: a deadlock, as in Go.
// Example:
//   static fsan::Once once;
//   static Config* config;
//   once.call([] { config = load_config(); });
class Once {
 public:
  constexpr Once() noexcept = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  // call: runs f if no call has run it yet; returns once it has completed.
  template <class F>
  void call(F&& f) {
    if (FSAN_LIKELY(state_.load(std::memory_order_acquire) == kDone)) {
      if (FSAN_UNLIKELY(!detail::hooks_off())) observed_done();
      return;
    }
    call_slow(&invoke<F>, const_cast<void*>(static_cast<const volatile void*>(std::addressof(f))));
  }

 private:
  static constexpr std::uint32_t kIdle = 0;
  static constexpr std::uint32_t kRunning = 1;
  static constexpr std::uint32_t kRunningWaiters = 2;  // running, and callers are parked
  static constexpr std::uint32_t kDone = 3;

  template <class F>
  static void invoke(void* p) {
    using Fn = std::remove_reference_t<F>;
    Fn& fn = *static_cast<Fn*>(p);
    std::forward<F>(fn)();
  }

  FSAN_NOINLINE void call_slow(void (*fn)(void*), void* f);
  FSAN_NOINLINE void observed_done();
  void finish() noexcept;

  std::atomic<std::uint32_t> state_{kIdle};
};

}  // namespace fsan
