// The leak check at run end (run_end_check.hpp).
#include "leak/run_end_check.hpp"

#include "base/checks.hpp"
#include "leak/fiber_leaks.hpp"
#include "leak/ticker_leaks.hpp"
#include "sched/scheduler.hpp"
#include "time/timer_sched.hpp"

namespace fsan::detail {
namespace {

// Fibers still exiting (a million workers draining on a loaded machine) get
// more time, one grace period after another while their number falls, but
// never more than this many periods in all.
constexpr int kMaxGraceRounds = 10;

}  // namespace

void check_leaks_at_main_return(Scheduler* s) {
  const Options& o = s->options();
  if (!kAlwaysOnChecks || !o.detect_leaks || s->stopping()) return;
  const int grace_ms = o.leak_grace_ms < 0 ? 0 : o.leak_grace_ms;
  // Deadlocked fibers never exit: waiting for them would only delay the end.
  const std::size_t stay = s->live_fibers() > 1 ? 1 + deadlocked_fibers().size() : 1;
  const std::int64_t grace_ns = static_cast<std::int64_t>(grace_ms) * 1'000'000;
  std::size_t fewest = s->live_fibers();
  for (int round = 0; round < kMaxGraceRounds && fewest > stay; ++round) {
    if (s->wait_live_at_most(stay, deadline_after(now_ns(), grace_ns))) break;
    const std::size_t live = s->live_fibers();
    if (live >= fewest) break;  // a whole grace period and not one fewer: what is left stays
    fewest = live;
  }
  if (s->stopping()) return;  // something else ended the run meanwhile
  if (s->live_fibers() > 1) report_fiber_leaks(FiberLeakScan{"main returned", grace_ms, ""});
  report_ticking_tickers(s);
}

}  // namespace fsan::detail
