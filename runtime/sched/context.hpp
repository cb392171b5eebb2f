// Machine context switch for fibers: a saved context is just a stack pointer;
// callee-saved registers (and the FP control words on x86-64) live on the
// fiber's own stack. Implemented per architecture in context_switch_*.S.
// Why not Boost.Context's fcontext: the same design in ~20 instructions with
// no dependency; test/bench measures the two side by side (BM_ContextSwitch).
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
// fsan_switch_context: saves the current context, stores its sp in *save_sp,
// and resumes the context whose sp is to_sp. Returns when switched back to.
void fsan_switch_context(void** save_sp, void* to_sp);
// fsan_context_trampoline: first code a new context runs; calls entry(arg).
void fsan_context_trampoline();
}

namespace fsan::detail {

#if defined(__x86_64__)
// Layout of a saved context, lowest address first: mxcsr+x87 cw, r15, r14,
// r13, r12, rbx, rbp, return pc.
inline constexpr std::size_t kSavedWords = 8;
inline constexpr std::size_t kSavedFpIndex = 6;
inline constexpr std::size_t kSavedPcIndex = 7;
#elif defined(__aarch64__)
// d8-d15, x19-x28, x29 (fp), x30 (lr).
inline constexpr std::size_t kSavedWords = 22;
inline constexpr std::size_t kSavedFpIndex = 20;
inline constexpr std::size_t kSavedPcIndex = 21;
#else
#error "fibersan: unsupported architecture"
#endif

// make_context: builds a context at the top of a stack that, when switched
// to, calls entry(arg) on that stack. entry must never return.
inline void* make_context(void* stack_top, void (*entry)(void*), void* arg) {
  auto top = reinterpret_cast<std::uintptr_t>(stack_top) & ~std::uintptr_t{15};
  auto* sp = reinterpret_cast<std::uintptr_t*>(top) - kSavedWords - 2;  // keeps 16-byte alignment at entry
  for (std::size_t i = 0; i < kSavedWords + 2; ++i) sp[i] = 0;
#if defined(__x86_64__)
  sp[0] = 0x037F'0000'1F80ull;  // default x87 control word : mxcsr
  sp[3] = reinterpret_cast<std::uintptr_t>(arg);    // r13
  sp[4] = reinterpret_cast<std::uintptr_t>(entry);  // r12
#else
  sp[8] = reinterpret_cast<std::uintptr_t>(entry);  // x19
  sp[9] = reinterpret_cast<std::uintptr_t>(arg);    // x20
#endif
  sp[kSavedPcIndex] = reinterpret_cast<std::uintptr_t>(&fsan_context_trampoline);
  return sp;
}

// Saved frame pointer and pc of a context that is switched out.
inline std::uintptr_t saved_fp(void* sp) { return static_cast<std::uintptr_t*>(sp)[kSavedFpIndex]; }
inline std::uintptr_t saved_pc(void* sp) { return static_cast<std::uintptr_t*>(sp)[kSavedPcIndex]; }

}  // namespace fsan::detail
