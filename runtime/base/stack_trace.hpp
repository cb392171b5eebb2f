// Stack capture. Two ways, for two costs:
//  - walk_frame_pointers: a bounded, validated frame-pointer walk (a few ns
//    per frame); cheap enough for every go(). Exact where frame pointers are
//    kept (the runtime, and user code built by the sanitizer driver);
//    elsewhere it may stop early, and frames that do not resolve to code are
//    dropped at symbolization.
//  - capture_stack: DWARF CFI unwinding (_Unwind_Backtrace), exact without
//    frame pointers; used for reports (panics, parked fibers).
#pragma once

#include <cstdint>

namespace fsan::detail {

// walk_frame_pointers: pcs of the frames above the frame `fp`, at most max.
int walk_frame_pointers(std::uintptr_t fp, std::uintptr_t* pcs, int max);

// capture_stack: return addresses of the calling thread's current stack,
// innermost first, skipping `skip` frames besides capture_stack itself.
int capture_stack(std::uintptr_t* pcs, int max, int skip);

// current_stack_bounds: [lo, hi) of the stack the caller runs on.
void current_stack_bounds(std::uintptr_t* lo, std::uintptr_t* hi);

}  // namespace fsan::detail
