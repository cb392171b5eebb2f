// kAlwaysOnChecks: whether this runtime carries the checks a plain build
// gets for free (ARCHITECTURE.md): a creation stack at every go(), wait
// records (reason, object, since) at every park, the stack canary check,
// the global-deadlock check when every worker idles, the leak checks (fibers
// alive when run() ends; where each Ticker and CancelFunc was made, and the
// lost-cancel check when the last CancelFunc copy dies). Always true in libfsan. test/bench builds a second copy with
// -DFSAN_ALWAYS_ON_CHECKS=0 (fsan_nochecks) only to measure, in one run,
// what those checks cost; nothing else may link it.
#pragma once

#ifndef FSAN_ALWAYS_ON_CHECKS
#define FSAN_ALWAYS_ON_CHECKS 1
#endif

namespace fsan::detail {

inline constexpr bool kAlwaysOnChecks = FSAN_ALWAYS_ON_CHECKS != 0;

}  // namespace fsan::detail
