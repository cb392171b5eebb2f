// parse_kind (kinds.hpp): kept out of kinds.cpp so that object file holds
// fsan::to_string alone.
#include "kinds.hpp"

namespace fsan::reports {

std::optional<FindingKind> parse_kind(std::string_view name) {
  for (FindingKind k : all_kinds)
    if (name == to_string(k)) return k;
  return std::nullopt;
}

}  // namespace fsan::reports
