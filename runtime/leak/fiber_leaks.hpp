// Fiber leaks: the fibers of the run in progress still alive at a check
// (main returned, or expect_no_leaks), reported as fiber_leak findings with
// a Go-style header, stack and creation stack. One finding per group of
// identical leaks (same state and wait reason, same blocking line, same go()
// call site): "and 9 more like it", so a leaked pool reads as one leak.
// Not double counted: fibers already in a global_deadlock/partial_deadlock
// finding of the run are only mentioned, and a fiber reported as leaked once
// in a run is not reported again.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fsan::detail {

// FiberLeakScan: how the check was made, for the finding's message.
struct FiberLeakScan {
  const char* after = "";  // "main returned", "expect_no_leaks()"
  int grace_ms = 0;        // how long it waited for fibers to exit
  std::string test;        // the test that leaked ("Suite.Name"); "" = the run's (finding_test())
};

// deadlocked_fibers: id of every fiber named by a global_deadlock or
// partial_deadlock finding of the current run -> that finding's id.
std::map<std::uint64_t, std::string> deadlocked_fibers();

// report_fiber_leaks: snapshots the run in progress (from a fiber of it or
// any thread) and publishes one fiber_leak per group of fibers other than
// the caller. Returns the ids of the findings published (none: no leak).
std::vector<std::string> report_fiber_leaks(const FiberLeakScan& scan);

}  // namespace fsan::detail
