// `fsan gate [--report-dir D] [report options] -- COMMAND...`: the CI gate.
// Runs COMMAND with FSAN_OPTIONS gaining report_dir=D (appended with ':' to
// any FSAN_OPTIONS already set, so it wins), then `fsan report D` with the
// report options. Stale fsan.<pid>.json files in D are removed first, so
// the report is of this run only.
//
// Exit status: 1 when findings of --fail-on kinds remain; else COMMAND's
// failure (its exit status, or 128+signal) unless that was only the
// runtime's exitcode for findings the report suppressed or does not fail
// on; else the report's status (0, or 3 for unreadable reports). 2 for usage
// errors, 127 when COMMAND cannot be started.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "report_command.hpp"

namespace fsan::reports {

struct GateOptions {
  std::string report_dir = "fsan-reports";
  ReportOptions report;              // inputs: {report_dir}
  std::vector<std::string> command;  // argv of the command to run
};

// parse_gate_args: the arguments after `fsan gate`.
std::optional<GateOptions> parse_gate_args(const std::vector<std::string>& args, std::string* error);

// gate_fsan_options: FSAN_OPTIONS for the command: `current` (may be null
// or empty) with report_dir=`dir` appended.
std::string gate_fsan_options(const char* current, const std::string& dir);

// runtime_exitcode: the exit status the runtime uses when it reported
// something: the last exitcode= in `fsan_options`, else 66.
int runtime_exitcode(const std::string& fsan_options);

// run_gate: runs the command and the report; returns the exit status.
int run_gate(const GateOptions& options, const HtmlRenderer& html, std::ostream& out, std::ostream& err);

// gate_usage: the help text of `fsan gate`.
std::string gate_usage();

}  // namespace fsan::reports
