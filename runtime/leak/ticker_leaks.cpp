// timer_leak reports (ticker_leaks.hpp). Built at run end from a copy of
// the registry taken under its lock, then symbolized with no lock held.
#include "leak/ticker_leaks.hpp"

#include <cstdio>
#include <string>

#include "report/report.hpp"

namespace fsan::detail {

std::string period_text(std::int64_t ns) {
  char buf[32];
  if (ns % 1'000'000'000 == 0)
    std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(ns / 1'000'000'000));
  else if (ns >= 1'000'000'000)
    std::snprintf(buf, sizeof(buf), "%.3gs", static_cast<double>(ns) / 1e9);
  else if (ns % 1'000'000 == 0)
    std::snprintf(buf, sizeof(buf), "%lldms", static_cast<long long>(ns / 1'000'000));
  else if (ns >= 1'000'000)
    std::snprintf(buf, sizeof(buf), "%.3gms", static_cast<double>(ns) / 1e6);
  else if (ns % 1'000 == 0)
    std::snprintf(buf, sizeof(buf), "%lldus", static_cast<long long>(ns / 1'000));
  else
    std::snprintf(buf, sizeof(buf), "%lldns", static_cast<long long>(ns));
  return buf;
}

void report_ticking_tickers(const Scheduler* s) {
  for (const TickingTicker& t : ticking_tickers(s)) {
    const std::string what = "Ticker (period " + period_text(t.period_ns) + ")";
    Finding f;
    f.kind = FindingKind::timer_leak;
    f.location = site_location(t.site, "ticker", what);
    const std::vector<Frame>& made = f.location->alloc_stack;
    const std::string where = short_site(made);
    f.message = what + (where.empty() ? "" : " created at " + where) +
                (t.site.fiber != 0 ? " by fiber " + std::to_string(t.site.fiber) : "") +
                " is still ticking when the run ends: it was never stopped";
    f.summary = "timer leak: " + what + (made.empty() ? "" : " created at " + long_site(made));
    publish_finding(std::move(f));
  }
}

}  // namespace fsan::detail
