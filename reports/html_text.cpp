// Runtime-conformant words of the HTML page: see html_text.hpp. Switches over
// FindingKind have no default, so a new kind does not compile until named here.
#include "html_text.hpp"

#include <cstdio>

namespace fsan::reports {

const char* kind_headline(FindingKind k) {
  switch (k) {
    case FindingKind::data_race:
      return "data race";
    case FindingKind::global_deadlock:
      return "global deadlock";
    case FindingKind::partial_deadlock:
      return "partial deadlock";
    case FindingKind::lock_order_inversion:
      return "lock-order inversion";
    case FindingKind::fiber_leak:
      return "fiber leak";
    case FindingKind::timer_leak:
      return "timer leak";
    case FindingKind::lost_cancel:
      return "lost cancel";
    case FindingKind::panic:
      return "panic";
  }
  return "?";
}

std::string wait_duration_text(std::int64_t ns) {
  // Go shows whole minutes from 1 minute on; below that the runtime shows
  // "250ms" / "3.2s" because fibers in tests are short-lived.
  char buf[32];
  if (ns < 1'000'000)
    std::snprintf(buf, sizeof(buf), "%.0fus", static_cast<double>(ns) / 1e3);
  else if (ns < 1'000'000'000)
    std::snprintf(buf, sizeof(buf), "%.0fms", static_cast<double>(ns) / 1e6);
  else if (ns < 60'000'000'000)
    std::snprintf(buf, sizeof(buf), "%.1fs", static_cast<double>(ns) / 1e9);
  else if (ns < 120'000'000'000)
    std::snprintf(buf, sizeof(buf), "1 minute");
  else
    std::snprintf(buf, sizeof(buf), "%lld minutes", static_cast<long long>(ns / 60'000'000'000));
  return buf;
}

std::string fiber_ref_text(std::uint64_t id, const std::string& name) {
  std::string s = "fiber " + std::to_string(id);
  if (!name.empty()) s += " \"" + name + "\"";
  return s;
}

std::string fiber_header_text(const FiberInfo& fi) {
  constexpr std::int64_t kShowWaitFromNs = 1'000'000;
  std::string s = fi.id == 0 ? fi.name : fiber_ref_text(fi.id, fi.name);  // id 0: "foreign thread <tid>"
  s += " [" + (fi.wait_reason.empty() ? fi.state : fi.wait_reason);
  if (!fi.wait_reason.empty() && fi.wait_ns >= kShowWaitFromNs) s += ", " + wait_duration_text(fi.wait_ns);
  return s + "]";
}

std::string created_by_text(const FiberInfo& fi) {
  if (fi.parent_id == 0) return "created outside any fiber at:";
  return "created by fiber " + std::to_string(fi.parent_id) + " at:";
}

std::string hex_text(std::uintptr_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(v));
  return buf;
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace fsan::reports
