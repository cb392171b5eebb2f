// Which frames are the user's: the SARIF location of a finding is its top
// user frame, not a frame of fibersan's runtime or of the C/C++ libraries.
// Library frames: module libfsan*, libc, libstdc++, libgcc_s, libm, the
// dynamic loader; files of the runtime (…/runtime/<area>/…, public headers
// …/include/fsan/…) or of the system's C++ headers (/usr/include/c++/…,
// /usr/lib/gcc/…); functions whose own qualified name is in fsan:: or std::
// (not merely taking fsan types as arguments), and the runtime's C symbols
// (__fsan_*, fsan_context_*, fsan_switch_*).
#pragma once

#include <vector>

#include <fsan/finding.hpp>

namespace fsan::reports {

// is_library_frame: the frame belongs to fibersan's runtime or to the C/C++
// libraries (see above).
bool is_library_frame(const Frame& fr);

// top_user_frame: the first user frame with a source file, looking at the
// stacks of `f` in report order (race accesses, then each fiber's stack, then
// creation stacks, then the allocation stack); failing that, the first user
// frame without a file; failing that, the first frame with a file; null when
// the finding has no frames.
const Frame* top_user_frame(const Finding& f);

}  // namespace fsan::reports
