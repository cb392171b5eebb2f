// The instrumented-code entry points (race_abi.h). Each forwards to the race
// detector (race/detector.hpp) when it is on; atomics and memory intrinsics
// always perform the operation itself, with the requested memory order.
#include <atomic>
#include <cstring>

#include "race/detector.hpp"
#include "race/race_abi.h"

using fsan::detail::race::Detector;

namespace {

inline std::memory_order to_order(int mo) {
  switch (mo) {
    case 0:
      return std::memory_order_relaxed;
    case 1:
    case 2:
      return std::memory_order_acquire;
    case 3:
      return std::memory_order_release;
    case 4:
      return std::memory_order_acq_rel;
    default:
      return std::memory_order_seq_cst;
  }
}
inline std::memory_order load_order(int mo) {
  std::memory_order o = to_order(mo);
  return o == std::memory_order_release ? std::memory_order_relaxed
         : o == std::memory_order_acq_rel ? std::memory_order_acquire
                                          : o;
}
inline std::memory_order store_order(int mo) {
  std::memory_order o = to_order(mo);
  return o == std::memory_order_acquire ? std::memory_order_relaxed
         : o == std::memory_order_acq_rel ? std::memory_order_release
                                          : o;
}

#define PC() reinterpret_cast<std::uintptr_t>(__builtin_return_address(0))

}  // namespace

extern "C" {

extern int fsan_interceptors_anchor;  // links the malloc/pthread interceptors in
void __fsan_init(void) {
  fsan_interceptors_anchor = 1;
  Detector::enable();
}

void __fsan_func_entry(void* caller_pc) {
  if (Detector::on()) Detector::func_entry(reinterpret_cast<std::uintptr_t>(caller_pc));
}
void __fsan_func_exit(void) {
  if (Detector::on()) Detector::func_exit();
}

#define FSAN_ACCESS(name, size, is_write)                                                   \
  void __fsan_##name(const void* addr) {                                                     \
    if (Detector::on()) Detector::access(PC(), reinterpret_cast<std::uintptr_t>(addr), size, is_write, false); \
  }
FSAN_ACCESS(read1, 1, false)
FSAN_ACCESS(read2, 2, false)
FSAN_ACCESS(read4, 4, false)
FSAN_ACCESS(read8, 8, false)
FSAN_ACCESS(read16, 16, false)
FSAN_ACCESS(unaligned_read2, 2, false)
FSAN_ACCESS(unaligned_read4, 4, false)
FSAN_ACCESS(unaligned_read8, 8, false)
FSAN_ACCESS(unaligned_read16, 16, false)
#undef FSAN_ACCESS
#define FSAN_ACCESS(name, size)                                                              \
  void __fsan_##name(void* addr) {                                                           \
    if (Detector::on()) Detector::access(PC(), reinterpret_cast<std::uintptr_t>(addr), size, true, false); \
  }
FSAN_ACCESS(write1, 1)
FSAN_ACCESS(write2, 2)
FSAN_ACCESS(write4, 4)
FSAN_ACCESS(write8, 8)
FSAN_ACCESS(write16, 16)
FSAN_ACCESS(unaligned_write2, 2)
FSAN_ACCESS(unaligned_write4, 4)
FSAN_ACCESS(unaligned_write8, 8)
FSAN_ACCESS(unaligned_write16, 16)
#undef FSAN_ACCESS

void __fsan_read_range(const void* addr, size_t size) {
  if (Detector::on()) Detector::access(PC(), reinterpret_cast<std::uintptr_t>(addr), size, false, false);
}
void __fsan_write_range(void* addr, size_t size) {
  if (Detector::on()) Detector::access(PC(), reinterpret_cast<std::uintptr_t>(addr), size, true, false);
}

void* __fsan_memcpy(void* dst, const void* src, size_t n) {
  if (Detector::on()) {
    Detector::access(PC(), reinterpret_cast<std::uintptr_t>(src), n, false, false);
    Detector::access(PC(), reinterpret_cast<std::uintptr_t>(dst), n, true, false);
  }
  return std::memcpy(dst, src, n);
}
void* __fsan_memmove(void* dst, const void* src, size_t n) {
  if (Detector::on()) {
    Detector::access(PC(), reinterpret_cast<std::uintptr_t>(src), n, false, false);
    Detector::access(PC(), reinterpret_cast<std::uintptr_t>(dst), n, true, false);
  }
  return std::memmove(dst, src, n);
}
void* __fsan_memset(void* dst, int c, size_t n) {
  if (Detector::on()) Detector::access(PC(), reinterpret_cast<std::uintptr_t>(dst), n, true, false);
  return std::memset(dst, c, n);
}

// Atomics: the operation itself uses std::atomic_ref semantics through the
// __atomic builtins; the detector sees an atomic access plus, for
// acquire/release orders, a sync on the address: a release before the
// operation, an acquire after it (Detector::atomic_before/after). A CAS
// releases tentatively (a failed one then over-synchronizes, which can only
// hide a race, never invent one).
#define FSAN_ATOMIC_DEF(N)                                                                                     \
  uint##N##_t __fsan_atomic##N##_load(const volatile uint##N##_t* a, int mo) {                                 \
    uint##N##_t v = __atomic_load_n(a, static_cast<int>(load_order(mo)));                                      \
    if (Detector::on()) Detector::atomic_after(PC(), reinterpret_cast<std::uintptr_t>(a), N / 8, mo, true, false, false); \
    return v;                                                                                                  \
  }                                                                                                            \
  void __fsan_atomic##N##_store(volatile uint##N##_t* a, uint##N##_t v, int mo) {                              \
    const bool on = Detector::on();                                                                            \
    const bool released = on && Detector::atomic_before(reinterpret_cast<std::uintptr_t>(a), mo, true);        \
    __atomic_store_n(a, v, static_cast<int>(store_order(mo)));                                                 \
    if (on) Detector::atomic_after(PC(), reinterpret_cast<std::uintptr_t>(a), N / 8, mo, false, true, released); \
  }                                                                                                            \
  FSAN_ATOMIC_RMW(N, exchange, __atomic_exchange_n)                                                            \
  FSAN_ATOMIC_RMW(N, fetch_add, __atomic_fetch_add)                                                            \
  FSAN_ATOMIC_RMW(N, fetch_sub, __atomic_fetch_sub)                                                            \
  FSAN_ATOMIC_RMW(N, fetch_and, __atomic_fetch_and)                                                            \
  FSAN_ATOMIC_RMW(N, fetch_or, __atomic_fetch_or)                                                              \
  FSAN_ATOMIC_RMW(N, fetch_xor, __atomic_fetch_xor)                                                            \
  FSAN_ATOMIC_RMW(N, fetch_nand, __atomic_fetch_nand)                                                          \
  uint##N##_t __fsan_atomic##N##_compare_exchange_val(volatile uint##N##_t* a, uint##N##_t cmp, uint##N##_t v, \
                                                      int mo, int fail_mo) {                                   \
    const bool on = Detector::on();                                                                            \
    const bool released = on && Detector::atomic_before(reinterpret_cast<std::uintptr_t>(a), mo, true);        \
    uint##N##_t expected = cmp;                                                                                \
    bool ok = __atomic_compare_exchange_n(a, &expected, v, false, static_cast<int>(to_order(mo)),              \
                                          static_cast<int>(load_order(fail_mo)));                              \
    if (on)                                                                                                    \
      Detector::atomic_after(PC(), reinterpret_cast<std::uintptr_t>(a), N / 8, ok ? mo : fail_mo, true, ok, released); \
    return expected;                                                                                           \
  }
#define FSAN_ATOMIC_RMW(N, op, builtin)                                                                        \
  uint##N##_t __fsan_atomic##N##_##op(volatile uint##N##_t* a, uint##N##_t v, int mo) {                        \
    const bool on = Detector::on();                                                                            \
    const bool released = on && Detector::atomic_before(reinterpret_cast<std::uintptr_t>(a), mo, true);        \
    uint##N##_t old = builtin(a, v, static_cast<int>(to_order(mo)));                                           \
    if (on) Detector::atomic_after(PC(), reinterpret_cast<std::uintptr_t>(a), N / 8, mo, true, true, released); \
    return old;                                                                                                \
  }
FSAN_ATOMIC_DEF(8)
FSAN_ATOMIC_DEF(16)
FSAN_ATOMIC_DEF(32)
FSAN_ATOMIC_DEF(64)
#undef FSAN_ATOMIC_RMW
#undef FSAN_ATOMIC_DEF

void __fsan_atomic_thread_fence(int mo) {
  if (Detector::on()) Detector::fence(mo);
  __atomic_thread_fence(static_cast<int>(to_order(mo)));
}
void __fsan_atomic_signal_fence(int mo) { __atomic_signal_fence(static_cast<int>(to_order(mo))); }

}  // extern "C"
