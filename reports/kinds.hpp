// Finding kinds by name, for the host tool: parse_kind is the inverse of
// fsan::to_string(FindingKind), and all_kinds lists every kind in schema
// order. `fsan` does not link libfsan, so kinds.cpp also defines
// fsan::to_string (declared in fsan/finding.hpp) for this program; it is
// alone in its object file so it is never pulled in beside libfsan's.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include <fsan/finding.hpp>

namespace fsan::reports {

inline constexpr std::array<FindingKind, 8> all_kinds = {
    FindingKind::data_race,        FindingKind::global_deadlock,
    FindingKind::partial_deadlock, FindingKind::lock_order_inversion,
    FindingKind::fiber_leak,       FindingKind::timer_leak,
    FindingKind::lost_cancel,      FindingKind::panic,
};

// parse_kind: the kind named `name` ("data_race", ...), or nullopt.
std::optional<FindingKind> parse_kind(std::string_view name);

// suppression_type: the suppression-file prefix that covers kind `k`
// (REPORTS.md): "race", "deadlock" (all three deadlock kinds), "leak"
// (fiber_leak, timer_leak, lost_cancel) or "panic".
const char* suppression_type(FindingKind k);

// KindText: what a kind means, for SARIF rules and help output.
struct KindText {
  const char* title;        // "Data race"
  const char* description;  // what was detected, one or two sentences
  const char* help;         // how to fix it
};
KindText kind_text(FindingKind k);

}  // namespace fsan::reports
