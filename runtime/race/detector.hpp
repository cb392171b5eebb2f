// The race detector's interface to the rest of the runtime. Off until an
// instrumented module calls __fsan_init(); then every hook below is live.
// Hot path: on() is one load of a global flag.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace fsan::detail::race {

class Detector {
 public:
  static bool on() { return enabled_.load(std::memory_order_relaxed); }
  static void enable();
  static void func_entry(std::uintptr_t caller_pc);
  static void func_exit();
  static void access(std::uintptr_t pc, std::uintptr_t addr, std::size_t size, bool is_write, bool is_atomic);
  // An atomic operation on [addr, addr+size), in two halves around the
  // hardware operation. atomic_before: a store's release (is_store with a
  // release order, or after a release fence); returns whether it released.
  // atomic_after: a load's acquire (is_load), the atomic access itself
  // (is_write for stores, RMWs and successful CASes), then the epoch tick
  // of a release.
  static bool atomic_before(std::uintptr_t addr, int mo, bool is_store);
  static void atomic_after(std::uintptr_t pc, std::uintptr_t addr, std::size_t size, int mo, bool is_load,
                           bool is_write, bool released);
  static void fence(int mo);

  // annotate_*: fsan::annotate_happens_before/after/benign_race.
  static void annotate_happens_before(const void* addr);
  static void annotate_happens_after(const void* addr);
  static void annotate_benign_race(const void* addr, std::size_t size);
  // Heap: a new block has no access history; its allocation is remembered
  // for reports (size and stack).
  static void on_alloc(std::uintptr_t addr, std::size_t size);
  static void on_free(std::uintptr_t addr);
  // run_ended: forget all shadow and clocks (the next run starts clean).
  static void run_ended();

 private:
  static std::atomic<bool> enabled_;
};

}  // namespace fsan::detail::race
