// Suppression files (REPORTS.md; the runtime's format, TSan's semantics):
//   # a comment
//   race:PATTERN       data_race
//   deadlock:PATTERN   global_deadlock, partial_deadlock, lock_order_inversion
//   leak:PATTERN       fiber_leak, timer_leak, lost_cancel
//   panic:PATTERN      panic
// A kind's own name ("data_race:") is accepted as a type too. PATTERN is
// matched against the function, the file and the module of every frame of
// every stack of a finding (fiber stacks and creation stacks, access stacks
// and the stacks where held locks were taken, the allocation stack). As in
// TSan, a pattern matches anywhere in the name unless anchored: `*` is any
// run of characters, a leading `^` anchors at the start, a trailing `$` at
// the end.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fsan/finding.hpp>

#include "report_model.hpp"

namespace fsan::reports {

struct Suppression {
  std::vector<FindingKind> kinds;  // the kinds its type covers
  std::string pattern;             // as written after the colon
  std::string origin;              // "file:line", for reports
  std::string text;                // the line as written (trimmed)
};

// template_match: TSan's TemplateMatch rules (see above) for `pattern`
// against `name`.
bool template_match(std::string_view pattern, std::string_view name);

// parse_suppressions: the content of a suppressions file called `file_name`.
// A bad line (no type, unknown type, empty pattern) is one error line
// "file:N: ..." and is skipped.
std::vector<Suppression> parse_suppressions(const std::string& text, const std::string& file_name,
                                            std::vector<std::string>& errors);

// read_suppressions: parse_suppressions of the file at `path`; nullopt (and
// one error line) when it cannot be read.
std::optional<std::vector<Suppression>> read_suppressions(const std::string& path, std::vector<std::string>& errors);

// matching_suppression: the first suppression that covers `f`, or null.
const Suppression* matching_suppression(const std::vector<Suppression>& list, const Finding& f);

// apply_suppressions: marks every finding of `report` a suppression covers
// (suppressed = true, suppressed_by = "file:line: text").
void apply_suppressions(Report& report, const std::vector<Suppression>& list);

}  // namespace fsan::reports
