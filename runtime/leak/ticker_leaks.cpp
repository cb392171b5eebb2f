// timer_leak reports (ticker_leaks.hpp). Built at run end from a copy of
// the registry taken under its lock, then symbolized with no lock held.
#include "leak/ticker_leaks.hpp"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "base/symbolizer.hpp"
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
  // Tickers made at the same source line with the same period are one leak
  // ("and 9 more like it"), as a leaked pool's fibers are. The line, not the
  // pc: a call the compiler duplicated (an unrolled loop) is still one site;
  // and only the call site, not the frames above it (a frame-pointer walk
  // through code built without frame pointers may pick up stale words).
  std::vector<TickingTicker> all = ticking_tickers(s);
  if (all.empty()) return;
  std::vector<std::uintptr_t> call_pcs;
  for (const TickingTicker& t : all) call_pcs.push_back(t.site.n > 0 ? t.site.pcs[0] : 0);
  std::vector<std::vector<Frame>> call_frames = symbolize_each(call_pcs.data(), static_cast<int>(call_pcs.size()));
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::string key = std::to_string(all[i].period_ns);
    for (const Frame& fr : call_frames[i])
      key += "|" + (fr.file.empty() ? fr.module + "+" + std::to_string(fr.offset) : fr.file + ":" + std::to_string(fr.line));
    keys.push_back(std::move(key));
  }
  std::map<std::string, std::size_t> count_of;
  std::vector<std::size_t> firsts;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (count_of[keys[i]]++ == 0) firsts.push_back(i);
  for (std::size_t i : firsts) {
    const TickingTicker& t = all[i];
    const std::size_t more = count_of[keys[i]] - 1;
    const std::string what = "Ticker (period " + period_text(t.period_ns) + ")";
    Finding f;
    f.kind = FindingKind::timer_leak;
    f.location = site_location(t.site, "ticker", what);
    const std::vector<Frame>& made = f.location->alloc_stack;
    const std::string where = short_site(made);
    f.message = what + (where.empty() ? "" : " created at " + where) +
                (t.site.fiber != 0 ? " by fiber " + std::to_string(t.site.fiber) : "") +
                (more > 0 ? " (and " + std::to_string(more) + " more like it)" : "") +
                " is still ticking when the run ends: it was never stopped";
    f.summary = "timer leak: " + what + (made.empty() ? "" : " created at " + long_site(made));
    publish_finding(std::move(f));
  }
}

}  // namespace fsan::detail
