// kind_name: a finding kind's schema name ("data_race", ...), written once
// for the runtime's fsan::to_string and for host tools that read reports
// without linking libfsan (reports/kinds.cpp). A switch with no default: a
// new kind does not compile until it has a name here.
#pragma once

#include <fsan/finding.hpp>

namespace fsan::detail {

constexpr const char* kind_name(FindingKind k) {
  switch (k) {
    case FindingKind::data_race:
      return "data_race";
    case FindingKind::global_deadlock:
      return "global_deadlock";
    case FindingKind::partial_deadlock:
      return "partial_deadlock";
    case FindingKind::lock_order_inversion:
      return "lock_order_inversion";
    case FindingKind::fiber_leak:
      return "fiber_leak";
    case FindingKind::timer_leak:
      return "timer_leak";
    case FindingKind::lost_cancel:
      return "lost_cancel";
    case FindingKind::panic:
      return "panic";
  }
  return "?";
}

}  // namespace fsan::detail
