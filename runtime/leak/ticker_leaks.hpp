// timer_leak (SEMANTICS.md): a Ticker never stopped, still ticking when the
// run ends. Every Ticker records where it was made (creation_site.hpp); at
// run end, after the grace period, the ones still armed on the run are
// reported. One-shot Timers and after() pending at run end are not findings
// (Go does not flag them, and since Go 1.23 an unreachable one is collected).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "leak/creation_site.hpp"

namespace fsan::detail {

class Scheduler;

// TickingTicker: a Ticker armed on the run, as the leak check sees it.
struct TickingTicker {
  std::int64_t period_ns = 0;
  CreationSite site;
};

// ticking_tickers: every Ticker still armed on run s. Defined in
// time/timer.cpp, which owns the Ticker state and its registry.
std::vector<TickingTicker> ticking_tickers(const Scheduler* s);

// report_ticking_tickers: one timer_leak finding per Ticker still ticking on
// run s; those made at the same place with the same period are one finding.
void report_ticking_tickers(const Scheduler* s);

// period_text: "100ms", "1.5s", "250us" (a Ticker's period in messages).
std::string period_text(std::int64_t ns);

}  // namespace fsan::detail
