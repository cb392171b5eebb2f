/* sample.c: the C side of check_pass.py: plain accesses, C11 atomics, a
 * fence, memory intrinsics, an FSAN_NO_SANITIZE function. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <fsan/detail/config.hpp>

uint32_t c_g4;
uint64_t c_g8;
uint32_t c_quiet;
atomic_uint c_a4;
char c_buf[32], c_buf2[32];

__attribute__((noinline)) uint32_t c_plain(void) {
  c_g4 = (uint32_t)c_g8 + 1;
  return c_g4;
}

__attribute__((noinline)) uint32_t c_atomics(void) {
  uint32_t v = atomic_fetch_add_explicit(&c_a4, 1, memory_order_acq_rel);
  atomic_thread_fence(memory_order_seq_cst);
  return v + atomic_load_explicit(&c_a4, memory_order_acquire);
}

__attribute__((noinline)) void c_memops(size_t n) {
  memcpy(c_buf, c_buf2, n);
  memset(c_buf2, 1, n);
}

FSAN_NO_SANITIZE void c_quiet_fn(void) { c_quiet++; }
