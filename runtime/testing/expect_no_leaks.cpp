// fsan::testing::expect_no_leaks (include/fsan/testing.hpp), goleak's
// VerifyNone: waits until only the caller is left (besides fibers already
// reported as deadlocked, which never exit) or leak_grace_ms has passed with
// no fewer fibers alive, polling num_fibers() with short, growing sleeps (it may be called from a
// thread, not only from a fiber); then reports the fibers still alive with
// the leak tracker's grouping (leak/fiber_leaks.hpp) and fails the current
// test once per finding.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <fsan/testing.hpp>

#include "leak/fiber_leaks.hpp"
#include "report/report.hpp"
#include "sched/scheduler.hpp"
#include "testing/failed_findings.hpp"

namespace fsan::testing {
namespace {

void pause(std::chrono::milliseconds d) {
  if (fsan::fiber_id() != 0)
    fsan::sleep_for(d);  // parks: the fibers we wait for can run here
  else
    std::this_thread::sleep_for(d);
}

}  // namespace

bool expect_no_leaks() {
  int grace_ms = 0;
  {
    fsan::detail::SchedRef ref;
    if (ref.get() == nullptr) {
      ADD_FAILURE() << "fibersan: expect_no_leaks() called with no fsan::run in progress";
      return false;
    }
    grace_ms = std::max(0, ref.get()->options().leak_grace_ms);
  }
  const std::size_t stay = (fsan::fiber_id() != 0 ? 1 : 0) + fsan::detail::deadlocked_fibers().size();
  // As at run end (leak/run_end_check.hpp): the grace period starts again
  // while fibers keep exiting, at most kMaxGraceRounds times.
  constexpr int kMaxGraceRounds = 10;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  std::size_t fewest = fsan::num_fibers();
  int rounds = 1;
  auto delay = std::chrono::milliseconds(1);
  while (fsan::num_fibers() > stay) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      const std::size_t live = fsan::num_fibers();
      if (live >= fewest || rounds == kMaxGraceRounds) break;
      fewest = live;
      ++rounds;
      deadline = now + std::chrono::milliseconds(grace_ms);
    }
    pause(std::min(
        delay, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + std::chrono::milliseconds(1)));
    delay = std::min(delay * 2, std::chrono::milliseconds(50));
  }
  if (fsan::num_fibers() <= stay) return true;

  const std::vector<std::string> ids =
      fsan::detail::report_fiber_leaks(fsan::detail::FiberLeakScan{"expect_no_leaks()", grace_ms, detail::current_test_name()});
  if (ids.empty()) return true;
  const std::vector<Finding> all = fsan::findings();
  for (const std::string& id : ids) {
    for (const Finding& stored : all)
      if (stored.id == id) {
        ADD_FAILURE() << "fibersan: [fiber_leak] " << stored.summary << "\n" << fsan::detail::format_text(stored);
        break;
      }
    detail::note_failed_finding(id);
  }
  return false;
}

}  // namespace fsan::testing
