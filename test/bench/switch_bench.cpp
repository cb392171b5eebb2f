// switch_bench: the raw context switch fibersan uses (fsan_switch_context,
// runtime/sched/context_switch_*.S) against Boost.Context, which is what we
// would otherwise depend on. Each iteration is a round trip between two
// contexts (2 switches); the "ns_per_switch" counter halves it.
//   BM_ContextSwitch/fsan            fsan_switch_context + make_context
//   BM_ContextSwitch/boost_fcontext  boost::context::detail::jump_fcontext (the asm under boost::context::fiber)
//   BM_ContextSwitch/boost_fiber     boost::context::fiber::resume (the public API)
//   BM_ContextSwitch/ucontext        swapcontext (glibc; saves the signal mask with a syscall)
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <boost/context/detail/fcontext.hpp>
#include <boost/context/fiber.hpp>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>

#include "sched/context.hpp"

namespace {

constexpr std::size_t kStackSize = 64 * 1024;

struct Stack {
  void* base;
  Stack() {
    base = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
  }
  ~Stack() { munmap(base, kStackSize); }
  void* top() const { return static_cast<char*>(base) + kStackSize; }
};

void set_counters(benchmark::State& state) {
  state.counters["ns_per_switch"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 2, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// --- fsan_switch_context ----------------------------------------------------
struct FsanPair {
  void* main_sp = nullptr;
  void* fiber_sp = nullptr;
};

[[noreturn]] void fsan_entry(void* arg) {
  auto* p = static_cast<FsanPair*>(arg);
  for (;;) fsan_switch_context(&p->fiber_sp, p->main_sp);
}

void BM_ContextSwitch_fsan(benchmark::State& state) {
  Stack stack;
  FsanPair p;
  p.fiber_sp = fsan::detail::make_context(stack.top(), &fsan_entry, &p);
  for (auto _ : state) fsan_switch_context(&p.main_sp, p.fiber_sp);
  set_counters(state);
  // The fiber is parked in its loop; its stack is simply unmapped.
}

// --- boost::context::detail::jump_fcontext -----------------------------------
namespace bcd = boost::context::detail;

void fcontext_entry(bcd::transfer_t t) {
  for (;;) t = bcd::jump_fcontext(t.fctx, nullptr);
}

void BM_ContextSwitch_boost_fcontext(benchmark::State& state) {
  Stack stack;
  bcd::fcontext_t ctx = bcd::make_fcontext(stack.top(), kStackSize, &fcontext_entry);
  for (auto _ : state) ctx = bcd::jump_fcontext(ctx, nullptr).fctx;
  set_counters(state);
}

// --- boost::context::fiber ----------------------------------------------------
void BM_ContextSwitch_boost_fiber(benchmark::State& state) {
  bool stop = false;
  namespace ctx = boost::context;
  ctx::fiber f{std::allocator_arg, ctx::fixedsize_stack(kStackSize), [&stop](ctx::fiber&& caller) {
                 while (!stop) caller = std::move(caller).resume();
                 return std::move(caller);
               }};
  for (auto _ : state) f = std::move(f).resume();
  stop = true;
  f = std::move(f).resume();  // lets the fiber return and be destroyed cleanly
  set_counters(state);
}

// --- ucontext ------------------------------------------------------------------
ucontext_t uc_main, uc_fiber;
void uc_entry() {
  for (;;) swapcontext(&uc_fiber, &uc_main);
}

void BM_ContextSwitch_ucontext(benchmark::State& state) {
  Stack stack;
  getcontext(&uc_fiber);
  uc_fiber.uc_stack.ss_sp = stack.base;
  uc_fiber.uc_stack.ss_size = kStackSize;
  uc_fiber.uc_link = nullptr;
  makecontext(&uc_fiber, &uc_entry, 0);
  for (auto _ : state) swapcontext(&uc_main, &uc_fiber);
  set_counters(state);
}

}  // namespace

BENCHMARK(BM_ContextSwitch_fsan)->Name("BM_ContextSwitch/fsan");
BENCHMARK(BM_ContextSwitch_boost_fcontext)->Name("BM_ContextSwitch/boost_fcontext");
BENCHMARK(BM_ContextSwitch_boost_fiber)->Name("BM_ContextSwitch/boost_fiber");
BENCHMARK(BM_ContextSwitch_ucontext)->Name("BM_ContextSwitch/ucontext");

BENCHMARK_MAIN();
