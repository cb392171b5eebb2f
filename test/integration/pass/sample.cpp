// sample.cpp: one of each thing FsanPass instruments or must leave alone.
// check_pass.py compiles it at -O0..-O3, with and without -g, and checks the
// IR function by function. Test functions have C names so the IR is easy to
// search; nothing here runs.
#include <atomic>
#include <cstdint>
#include <cstring>

#include <fsan/detail/config.hpp>  // FSAN_NO_SANITIZE

extern "C" {
std::uint8_t g1;
std::uint16_t g2;
std::uint32_t g4;
std::uint64_t g8;
unsigned __int128 g16;
long double g_ld;  // a 10-byte store: a range access
struct __attribute__((packed)) Packed {
  char c;
  std::uint32_t u;  // at offset 1: unaligned
} g_packed;
const int k_table[4] = {1, 2, 3, 4};
std::atomic<std::uint8_t> a1;
std::atomic<std::uint16_t> a2;
std::atomic<std::uint32_t> a4;
std::atomic<std::uint64_t> a8;
std::uint32_t g_lambda_target;
std::uint32_t g_quiet;
char g_dst1[64], g_src1[64], g_dst2[64], g_dst3[64];
void thrower() noexcept(false);
void escape(int*);

// Aligned reads of 1, 2, 8 bytes and a 4-byte write; a 16-byte write; a
// range write; an unaligned read and write; a constant-table read (skipped).
__attribute__((noinline)) std::uint32_t plain_accesses(int i) {
  g4 = static_cast<std::uint32_t>(g8) + g2 + g1 + k_table[i & 3];
  g16 = 5;
  g_ld = 1.5L;
  g_packed.u = g_packed.u + 1;
  return g4;
}

__attribute__((noinline)) std::uint64_t atomics() {
  std::uint8_t v1 = a1.load(std::memory_order_acquire);
  a2.store(7, std::memory_order_release);
  std::uint32_t v4 = a4.fetch_add(1, std::memory_order_acq_rel);
  v4 += a4.exchange(3, std::memory_order_relaxed);
  std::uint64_t expected = 1;
  a8.compare_exchange_strong(expected, 2, std::memory_order_seq_cst, std::memory_order_acquire);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  return v1 + v4 + expected;
}

__attribute__((noinline)) void memops(std::size_t n) {
  std::memcpy(g_dst1, g_src1, n);
  std::memmove(g_dst2 + 1, g_dst2, n);  // overlapping: stays a memmove
  std::memset(g_dst3, 0, n);
}

// Accesses to locals whose address never escapes get no hooks (an array
// indexed at run time stays in memory even at -O3).
__attribute__((noinline)) int local_only(int n) {
  int slots[16];
  for (int k = 0; k < 16; ++k) slots[(k * 7) & 15] = k + n;
  return slots[n & 15];
}

// An escaping local is.
__attribute__((noinline)) int escaping_local() {
  int x = 1;
  escape(&x);
  return x;
}

FSAN_NO_SANITIZE void quiet_fn() { g_quiet++; }

// Skips with their own counters (check_pass.py asserts each is counted).
__attribute__((disable_sanitizer_instrumentation)) void attr_quiet_fn() { g_quiet++; }
// The read of g8 is covered by the write after it (no call in between).
__attribute__((noinline)) void read_then_write() { g8 = g8 * 3 + 1; }
// No call, no access to shared memory: no entry/exit either.
__attribute__((noinline)) int leaf_pure(int x) { return x * 3 + 1; }
// memset of a private buffer: no hook.
__attribute__((noinline)) int local_memset(int n) {
  char buf[64];
  std::memset(buf, n, sizeof buf);
  buf[(n * 7) & 63] = 1;
  return buf[n & 63];
}
// Another address space (e.g. GPU or segment-relative memory): left alone.
__attribute__((noinline)) int other_address_space(__attribute__((address_space(256))) int* p) { return *p; }

// The exceptional path leaves through __fsan_func_exit too.
__attribute__((noinline)) void may_throw_caller() {
  thrower();
  g4 = 1;
}
}  // extern "C"

// Stand-ins for the runtime's inline headers (namespace fsan).
namespace fsan::sample {
__attribute__((noinline)) int runtime_like(int* p) { return ++*p; }
__attribute__((always_inline)) inline void retain(std::atomic<std::uint32_t>* r) {
  r->fetch_add(1, std::memory_order_relaxed);
}
template <class F>
__attribute__((always_inline)) inline void call(F f) {
  f();
}
}  // namespace fsan::sample

struct Shape {
  virtual ~Shape() = default;
  virtual int area() const = 0;
};

extern "C" {
// The runtime's atomic inlined here: left alone.
__attribute__((noinline)) void uses_runtime_inline(std::atomic<std::uint32_t>* r) { fsan::sample::retain(r); }
// The same std:: atomic called by user code: instrumented.
__attribute__((noinline)) std::uint32_t user_fetch_add(std::atomic<std::uint32_t>* r) {
  return r->fetch_add(1, std::memory_order_relaxed);
}
// User code inlined into a runtime template: instrumented.
__attribute__((noinline)) void user_lambda_through_runtime() {
  fsan::sample::call([] { g_lambda_target = 7; });
}
__attribute__((noinline)) int runtime_caller(int* p) { return fsan::sample::runtime_like(p); }
// A virtual call: the vtable load is skipped (at -O1 and up, where TBAA marks it).
__attribute__((noinline)) int virtual_call(const Shape* s) { return s->area(); }
}
