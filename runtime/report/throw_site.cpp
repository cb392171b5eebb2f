// Throw sites: an exception that escapes a fiber is a panic finding, and the
// stack worth showing is where it was thrown, long unwound by the time the
// fiber's entry catches it. The runtime defines __cxa_throw (weak; every
// `throw` in the program and in libstdc++ calls it), records the stack and
// the thrown object into the current fiber's record, then forwards to the
// real __cxa_throw (dlsym RTLD_NEXT). Only on fibers: other threads pay
// nothing. Cost on fibers: one stack unwind per throw, caught or not (a
// throw already unwinds twice, so it stays within a small factor).
// A rethrow (`throw;`) keeps the original site: it calls __cxa_rethrow.
#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "base/stack_trace.hpp"
#include "report/report.hpp"
#include "sched/scheduler.hpp"

namespace fsan::detail {
namespace {

using CxaThrow = void (*)(void*, void*, void (*)(void*));

// Resolved once, into an atomic rather than a function-local static: static
// initialization guards may themselves be intercepted (the race detector's
// are) and a guard can throw.
std::atomic<CxaThrow> g_real{nullptr};

CxaThrow real_cxa_throw() {
  CxaThrow p = g_real.load(std::memory_order_acquire);
  if (p != nullptr) return p;
  p = reinterpret_cast<CxaThrow>(dlsym(RTLD_NEXT, "__cxa_throw"));
  if (p == nullptr) {
    std::fputs("fibersan: cannot find the real __cxa_throw (dlsym RTLD_NEXT)\n", stderr);
    std::abort();
  }
  g_real.store(p, std::memory_order_release);
  return p;
}

// The thrown object an exception_ptr holds (libstdc++ and libc++ both keep
// exactly that pointer, which is what __cxa_throw received).
const void* thrown_object(const std::exception_ptr& e) {
  static_assert(sizeof(std::exception_ptr) == sizeof(void*), "exception_ptr is one pointer in libstdc++ and libc++");
  const void* p = nullptr;
  std::memcpy(&p, &e, sizeof(p));
  return p;
}

}  // namespace

int throw_site(const Fiber* f, const std::exception_ptr& e, std::uintptr_t* pcs, int max) {
  if (f == nullptr || f->n_throw == 0 || e == nullptr || thrown_object(e) != f->throw_obj) return 0;
  int n = f->n_throw < max ? f->n_throw : max;
  for (int i = 0; i < n; ++i) pcs[i] = f->throw_pcs[i];
  return n;
}

}  // namespace fsan::detail

// The type_info parameter is declared void*: the symbol is the same, and
// this file needs no <cxxabi.h> (whose declaration would have to match).
extern "C" __attribute__((weak, noreturn)) void __cxa_throw(void* obj, void* tinfo, void (*dest)(void*)) {
  using namespace fsan::detail;
  CxaThrow real = real_cxa_throw();
  if (Fiber* f = current_fiber()) {
    f->throw_obj = obj;
    // Skip this frame: the first one is the `throw` expression's function.
    f->n_throw = static_cast<std::uint8_t>(capture_stack(f->throw_pcs, kMaxThrowFrames, 1));
  }
  real(obj, tinfo, dest);
  __builtin_unreachable();
}
