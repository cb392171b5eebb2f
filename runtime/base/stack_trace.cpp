// Stack capture: see stack_trace.hpp.
#include "base/stack_trace.hpp"

#include <pthread.h>
#include <unwind.h>

#include "sched/scheduler.hpp"

namespace fsan::detail {

void current_stack_bounds(std::uintptr_t* lo, std::uintptr_t* hi) {
  if (Fiber* f = current_fiber(); f != nullptr && !f->foreign) {
    *lo = reinterpret_cast<std::uintptr_t>(f->stack_lo);
    *hi = reinterpret_cast<std::uintptr_t>(f->stack_hi);
    return;
  }
  static thread_local std::uintptr_t t_lo = 0, t_hi = 0;
  if (t_hi == 0) {
    pthread_attr_t attr;
    void* addr = nullptr;
    std::size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &addr, &size);
      pthread_attr_destroy(&attr);
    }
    t_lo = reinterpret_cast<std::uintptr_t>(addr);
    t_hi = t_lo + size;
  }
  *lo = t_lo;
  *hi = t_hi;
}

int walk_frame_pointers(std::uintptr_t fp, std::uintptr_t* pcs, int max) {
  std::uintptr_t lo = 0, hi = 0;
  current_stack_bounds(&lo, &hi);
  int n = 0;
  while (n < max) {
    // A frame record is two words: saved fp, return address. Stop at the
    // first one that is not inside this stack, misaligned, or not moving up.
    if (fp < lo || fp + 2 * sizeof(std::uintptr_t) > hi || (fp & (sizeof(std::uintptr_t) - 1)) != 0) break;
    auto* rec = reinterpret_cast<const std::uintptr_t*>(fp);
    std::uintptr_t pc = rec[1];
    if (pc < 4096) break;
    pcs[n++] = pc;
    std::uintptr_t next = rec[0];
    if (next <= fp) break;
    fp = next;
  }
  return n;
}

namespace {
struct UnwindState {
  std::uintptr_t* pcs;
  int max;
  int n;
  int skip;
};

_Unwind_Reason_Code on_frame(struct _Unwind_Context* ctx, void* arg) {
  auto* st = static_cast<UnwindState*>(arg);
  std::uintptr_t pc = _Unwind_GetIP(ctx);
  if (pc == 0) return _URC_END_OF_STACK;
  if (st->skip > 0) {
    --st->skip;
    return _URC_NO_REASON;
  }
  if (st->n >= st->max) return _URC_END_OF_STACK;
  st->pcs[st->n++] = pc;
  return _URC_NO_REASON;
}
}  // namespace

int capture_stack(std::uintptr_t* pcs, int max, int skip) {
  UnwindState st{pcs, max, 0, skip + 1};
  _Unwind_Backtrace(&on_frame, &st);
  return st.n;
}

}  // namespace fsan::detail
