// fsan: the command-line tool of fibersan's reports (REPORTS.md "After the
// run"). `fsan report` merges per-process JSON reports and renders HTML,
// SARIF and JUnit; `fsan gate` runs a test command under report_dir and
// then reports, as a CI gate; `fsan help` explains both.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "gate_command.hpp"
#include "html_report.hpp"
#include "report_command.hpp"

#ifndef FSAN_VERSION
#define FSAN_VERSION "0.0.0"
#endif

namespace {

using namespace fsan::reports;

std::string usage() {
  return "usage: fsan <command> [arguments]\n"
         "commands:\n"
         "  report FILES_OR_DIRS... [options]   merge JSON reports; write HTML, SARIF, JUnit\n"
         "  gate [options] -- COMMAND...        run COMMAND with report_dir set, then report\n"
         "  help [report|gate]                  this text, or a command's\n"
         "  version                             the version of fibersan\n";
}

std::string html_page(const Report& report, const ReportOptions& report_options) {
  HtmlOptions options;
  if (!report_options.title.empty()) options.title = report_options.title;
  options.show_suppressed = report_options.show_suppressed;
  return render_html(report, options);
}

int usage_error(const char* command, const std::string& message) {
  std::cerr << "fsan " << command << ": " << message << " (fsan help " << command << " lists the options)\n";
  return kExitUsage;
}

bool wants_help(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--") return false;
    if (a == "-h" || a == "--help") return true;
  }
  return false;
}

}  // namespace

int run_command(std::vector<std::string> args);

int main(int argc, char** argv) {
  try {
    return run_command(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    // A bug or resource exhaustion (std::bad_alloc): one line, not an abort.
    std::cerr << "fsan: internal error: " << e.what() << "\n";
    return kExitInputErrors;
  }
}

int run_command(std::vector<std::string> args) {
  if (args.empty()) {
    std::cerr << usage();
    return kExitUsage;
  }
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "help" || command == "-h" || command == "--help") {
    if (!args.empty() && args[0] == "report") {
      std::cout << report_usage();
    } else if (!args.empty() && args[0] == "gate") {
      std::cout << gate_usage();
    } else if (!args.empty()) {
      std::cerr << "fsan help: unknown command \"" << args[0] << "\"\n" << usage();
      return kExitUsage;
    } else {
      std::cout << usage();
    }
    return kExitClean;
  }
  if (command == "version" || command == "--version") {
    std::cout << "fsan (fibersan) " << FSAN_VERSION << "\n";
    return kExitClean;
  }
  if (command == "report") {
    if (wants_help(args)) {
      std::cout << report_usage();
      return kExitClean;
    }
    std::string error;
    std::optional<ReportOptions> options = parse_report_args(args, &error);
    if (!options) return usage_error("report", error);
    return run_report(*options, html_page, std::cout, std::cerr).exit_status;
  }
  if (command == "gate") {
    if (wants_help(args)) {
      std::cout << gate_usage();
      return kExitClean;
    }
    std::string error;
    std::optional<GateOptions> options = parse_gate_args(args, &error);
    if (!options) return usage_error("gate", error);
    return run_gate(*options, html_page, std::cout, std::cerr);
  }
  std::cerr << "fsan: unknown command \"" << command << "\"\n" << usage();
  return kExitUsage;
}
