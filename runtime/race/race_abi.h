/* The ABI between code instrumented by the fibersan LLVM pass
 * (instrument/FsanPass.cpp) and the race detector in the runtime. The pass
 * names its calls from the same size table (1, 2, 4, 8, 16 bytes). C linkage,
 * so C and C++ modules share it. The access pc is the hook's return address
 * (the runtime reads __builtin_return_address(0)), so no pc is passed.
 *
 * Memory orders use C++'s std::memory_order numbering:
 *   0 relaxed, 1 consume, 2 acquire, 3 release, 4 acq_rel, 5 seq_cst.
 */
#ifndef FSAN_RACE_ABI_H
#define FSAN_RACE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called from a constructor of every instrumented module: turns the race
 * detector (and the full detectors) on for this process. */
void __fsan_init(void);

/* Shadow call stack: entry records the caller's pc (the return address of
 * the instrumented function), exit pops it. */
void __fsan_func_entry(void* caller_pc);
void __fsan_func_exit(void);

/* Plain accesses. Aligned versions may assume addr % size == 0. */
void __fsan_read1(const void* addr);
void __fsan_read2(const void* addr);
void __fsan_read4(const void* addr);
void __fsan_read8(const void* addr);
void __fsan_read16(const void* addr);
void __fsan_write1(void* addr);
void __fsan_write2(void* addr);
void __fsan_write4(void* addr);
void __fsan_write8(void* addr);
void __fsan_write16(void* addr);
void __fsan_unaligned_read2(const void* addr);
void __fsan_unaligned_read4(const void* addr);
void __fsan_unaligned_read8(const void* addr);
void __fsan_unaligned_read16(const void* addr);
void __fsan_unaligned_write2(void* addr);
void __fsan_unaligned_write4(void* addr);
void __fsan_unaligned_write8(void* addr);
void __fsan_unaligned_write16(void* addr);
/* Any other size (e.g. a 12-byte aggregate load). */
void __fsan_read_range(const void* addr, size_t size);
void __fsan_write_range(void* addr, size_t size);

/* Memory intrinsics: the runtime does the operation and records it. */
void* __fsan_memcpy(void* dst, const void* src, size_t n);
void* __fsan_memmove(void* dst, const void* src, size_t n);
void* __fsan_memset(void* dst, int c, size_t n);

/* Atomics: the runtime performs the operation with the given order and
 * applies the happens-before it implies. N = 8, 16, 32, 64 bits. */
#define FSAN_ATOMIC_DECL(N)                                                                        \
  uint##N##_t __fsan_atomic##N##_load(const volatile uint##N##_t* a, int mo);                     \
  void __fsan_atomic##N##_store(volatile uint##N##_t* a, uint##N##_t v, int mo);                  \
  uint##N##_t __fsan_atomic##N##_exchange(volatile uint##N##_t* a, uint##N##_t v, int mo);        \
  uint##N##_t __fsan_atomic##N##_fetch_add(volatile uint##N##_t* a, uint##N##_t v, int mo);       \
  uint##N##_t __fsan_atomic##N##_fetch_sub(volatile uint##N##_t* a, uint##N##_t v, int mo);       \
  uint##N##_t __fsan_atomic##N##_fetch_and(volatile uint##N##_t* a, uint##N##_t v, int mo);       \
  uint##N##_t __fsan_atomic##N##_fetch_or(volatile uint##N##_t* a, uint##N##_t v, int mo);        \
  uint##N##_t __fsan_atomic##N##_fetch_xor(volatile uint##N##_t* a, uint##N##_t v, int mo);       \
  uint##N##_t __fsan_atomic##N##_fetch_nand(volatile uint##N##_t* a, uint##N##_t v, int mo);      \
  uint##N##_t __fsan_atomic##N##_compare_exchange_val(volatile uint##N##_t* a, uint##N##_t cmp,  \
                                                      uint##N##_t v, int mo, int fail_mo);
FSAN_ATOMIC_DECL(8)
FSAN_ATOMIC_DECL(16)
FSAN_ATOMIC_DECL(32)
FSAN_ATOMIC_DECL(64)
#undef FSAN_ATOMIC_DECL

/* Standalone fences (std::atomic_thread_fence / atomic_signal_fence). */
void __fsan_atomic_thread_fence(int mo);
void __fsan_atomic_signal_fence(int mo);

#ifdef __cplusplus
}
#endif

#endif /* FSAN_RACE_ABI_H */
