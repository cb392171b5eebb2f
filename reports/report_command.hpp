// `fsan report` as a function (REPORTS.md "After the run"): argument
// parsing, loading and merging, suppressions, the outputs, the one-line
// summary and the exit status of the CI gate. main.cpp passes the HTML
// renderer in, so this part can be tested without it.
//
// Exit status: 0 clean; 1 unsuppressed findings of a --fail-on kind remain;
// 2 usage error (nothing read or written); 3 some input or output could not
// be used (after everything else was rendered), when no finding fails.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <fsan/finding.hpp>

#include "kinds.hpp"
#include "report_model.hpp"

namespace fsan::reports {

inline constexpr int kExitClean = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInputErrors = 3;

struct ReportOptions {
  std::vector<std::string> inputs;        // files or directories
  std::string html_path = "report.html";  // "" = no HTML page
  std::string sarif_path;
  std::string junit_path;
  std::string suppressions_path;
  std::vector<FindingKind> fail_on{all_kinds.begin(), all_kinds.end()};  // kinds that fail the gate
  std::string source_root;                                               // SARIF's SRCROOT; "" = the current directory
  std::string title;             // the HTML page's title; "" = the renderer's default
  bool show_suppressed = false;  // the HTML page lists suppressed findings too
};

// parse_fail_on: "all", "none", or a comma list of kind names and of the
// suppression types race/deadlock/leak/panic (each standing for its kinds).
// On error returns nullopt and sets *error to one line.
std::optional<std::vector<FindingKind>> parse_fail_on(const std::string& text, std::string* error);

// parse_report_option: if args[i] is a report option (-o, --sarif,
// --junit, --suppressions, --fail-on, --source-root, --title,
// --show-suppressed; "--x=v" or "--x v"), applies it, advances i past it and returns true. Returns false
// when args[i] is not one; sets *error on a bad option value.
bool parse_report_option(const std::vector<std::string>& args, std::size_t& i, ReportOptions& options,
                         std::string* error);

// parse_report_args: the arguments after `fsan report`. nullopt and *error
// on a usage error.
std::optional<ReportOptions> parse_report_args(const std::vector<std::string>& args, std::string* error);

// HtmlRenderer: renders the page (html_report.hpp's render_html, with the
// page options taken from `options`); empty = no HTML output available.
using HtmlRenderer = std::function<std::string(const Report&, const ReportOptions& options)>;

// ReportOutcome: what run_report did.
struct ReportOutcome {
  Report report;
  int exit_status = kExitClean;
  int failing = 0;  // unsuppressed findings of --fail-on kinds
  std::vector<std::string> written;
};

// run_report: loads, merges, suppresses, writes the outputs; prints each
// error as one line on `err` and the summary line on `out`.
ReportOutcome run_report(const ReportOptions& options, const HtmlRenderer& html, std::ostream& out, std::ostream& err);

// summary_line: "fsan report: 5 findings (2 data_race, ...), 1 suppressed,
// 0 errors; wrote report.html".
std::string summary_line(const Report& report, const std::vector<FindingKind>& fail_on,
                         const std::vector<std::string>& written);

// report_usage: the help text of `fsan report` (and of its options in
// `fsan gate`).
std::string report_usage();

}  // namespace fsan::reports
