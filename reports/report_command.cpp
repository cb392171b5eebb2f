// `fsan report` (report_command.hpp).
#include "report_command.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "junit_writer.hpp"
#include "kinds.hpp"
#include "report_loader.hpp"
#include "sarif_writer.hpp"
#include "suppressions.hpp"

#ifndef FSAN_VERSION
#define FSAN_VERSION "0.0.0"
#endif

namespace fsan::reports {
namespace {

std::vector<FindingKind> every_kind() { return std::vector<FindingKind>(all_kinds.begin(), all_kinds.end()); }

bool write_file(const std::string& path, const std::string& content, std::vector<std::string>& errors) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << content;
  if (out) out.flush();
  if (!out) {
    errors.push_back(path + ": cannot write: " + std::strerror(errno));
    return false;
  }
  return true;
}

std::string absolute_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = dir.empty() ? std::filesystem::current_path(ec) : std::filesystem::absolute(dir, ec);
  if (ec) return dir;
  return p.lexically_normal().string();
}

// one_line: an error as one line of text, whatever a file name holds.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

bool fails_gate(const MergedFinding& m, const std::vector<FindingKind>& fail_on) {
  return !m.suppressed && std::find(fail_on.begin(), fail_on.end(), m.finding.kind) != fail_on.end();
}

}  // namespace

std::optional<std::vector<FindingKind>> parse_fail_on(const std::string& text, std::string* error) {
  if (text == "all") return every_kind();
  if (text == "none") return std::vector<FindingKind>{};
  std::vector<FindingKind> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    pos = comma + 1;
    bool known = false;
    for (FindingKind k : all_kinds) {
      if (item == to_string(k) || item == suppression_type(k)) {
        known = true;
        if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
      }
    }
    if (!known) {
      std::string kinds;
      for (FindingKind k : all_kinds) kinds += std::string(kinds.empty() ? "" : ", ") + to_string(k);
      *error = "--fail-on: unknown kind \"" + item + "\" (expected all, none, or a comma list of " + kinds +
               ", race, deadlock, leak)";
      return std::nullopt;
    }
  }
  return out;
}

bool parse_report_option(const std::vector<std::string>& args, std::size_t& i, ReportOptions& options,
                         std::string* error) {
  const std::string& arg = args[i];
  if (arg == "--show-suppressed") {
    options.show_suppressed = true;
    ++i;
    return true;
  }
  struct Spec {
    const char* name;
    std::string* target;
  };
  std::string fail_on_text;
  bool is_fail_on = false;
  Spec specs[] = {{"-o", &options.html_path},
                  {"--output", &options.html_path},
                  {"--sarif", &options.sarif_path},
                  {"--junit", &options.junit_path},
                  {"--suppressions", &options.suppressions_path},
                  {"--source-root", &options.source_root},
                  {"--title", &options.title},
                  {"--fail-on", &fail_on_text}};
  for (const Spec& s : specs) {
    std::string name = s.name;
    std::string value;
    std::size_t next = i;
    if (arg == name) {
      if (i + 1 >= args.size()) {
        *error = name + " needs a value";
        return true;
      }
      value = args[i + 1];
      next = i + 2;
    } else if (arg.compare(0, name.size() + 1, name + "=") == 0 && name != "-o") {
      value = arg.substr(name.size() + 1);
      next = i + 1;
    } else {
      continue;
    }
    is_fail_on = s.target == &fail_on_text;
    if (value.empty() && s.target != &options.html_path) {
      *error = name + " needs a non-empty value";
      return true;
    }
    *s.target = value;
    i = next;
    if (is_fail_on) {
      std::optional<std::vector<FindingKind>> kinds = parse_fail_on(fail_on_text, error);
      if (kinds) options.fail_on = *kinds;
    }
    return true;
  }
  return false;
}

std::optional<ReportOptions> parse_report_args(const std::vector<std::string>& args, std::string* error) {
  ReportOptions options;
  bool only_inputs = false;
  for (std::size_t i = 0; i < args.size();) {
    const std::string& arg = args[i];
    if (only_inputs || arg.empty() || arg[0] != '-' || arg == "-") {
      options.inputs.push_back(arg);
      ++i;
      continue;
    }
    if (arg == "--") {
      only_inputs = true;
      ++i;
      continue;
    }
    error->clear();
    if (parse_report_option(args, i, options, error)) {
      if (!error->empty()) return std::nullopt;
      continue;
    }
    *error = "unknown option " + arg;
    return std::nullopt;
  }
  if (options.inputs.empty()) {
    *error = "no report files or directories given";
    return std::nullopt;
  }
  return options;
}

std::string summary_line(const Report& report, const std::vector<FindingKind>& fail_on,
                         const std::vector<std::string>& written) {
  int open = 0, suppressed = 0, failing = 0;
  std::vector<int> per_kind(all_kinds.size(), 0);
  for (const MergedFinding& m : report.findings) {
    if (m.suppressed) {
      ++suppressed;
      continue;
    }
    ++open;
    if (fails_gate(m, fail_on)) ++failing;
    for (std::size_t k = 0; k < all_kinds.size(); ++k)
      if (all_kinds[k] == m.finding.kind) ++per_kind[k];
  }
  std::string line = "fsan report: " + std::to_string(open) + (open == 1 ? " finding" : " findings");
  std::string kinds;
  for (std::size_t k = 0; k < all_kinds.size(); ++k)
    if (per_kind[k] > 0)
      kinds += (kinds.empty() ? "" : ", ") + std::to_string(per_kind[k]) + " " + to_string(all_kinds[k]);
  if (!kinds.empty()) line += " (" + kinds + ")";
  if (fail_on.size() != all_kinds.size()) line += ", " + std::to_string(failing) + " of --fail-on kinds";
  line += ", " + std::to_string(suppressed) + " suppressed, " + std::to_string(report.errors.size()) +
          (report.errors.size() == 1 ? " error" : " errors");
  if (!written.empty()) {
    line += "; wrote ";
    for (std::size_t i = 0; i < written.size(); ++i) line += (i ? ", " : "") + written[i];
  }
  return line;
}

ReportOutcome run_report(const ReportOptions& options, const HtmlRenderer& html, std::ostream& out, std::ostream& err) {
  ReportOutcome outcome;
  outcome.report = load_report(options.inputs);
  Report& report = outcome.report;
  if (!options.suppressions_path.empty()) {
    std::optional<std::vector<Suppression>> list = read_suppressions(options.suppressions_path, report.errors);
    if (list) apply_suppressions(report, *list);
  }

  std::vector<std::string> write_errors;
  if (!options.html_path.empty()) {
    if (!html) {
      write_errors.push_back(options.html_path + ": not written: this fsan was built without the HTML page");
    } else {
      std::string page;
      try {
        page = html(report, options);
      } catch (const std::exception& e) {
        write_errors.push_back(options.html_path + ": not written: the HTML page failed: " + e.what());
      }
      if (!page.empty() && write_file(options.html_path, page, write_errors))
        outcome.written.push_back(options.html_path);
    }
  }
  if (!options.sarif_path.empty()) {
    SarifOptions sarif;
    sarif.source_root = absolute_dir(options.source_root);
    sarif.tool_version = FSAN_VERSION;
    if (write_file(options.sarif_path, render_sarif(report, sarif), write_errors))
      outcome.written.push_back(options.sarif_path);
  }
  if (!options.junit_path.empty()) {
    if (write_file(options.junit_path, render_junit(report), write_errors))
      outcome.written.push_back(options.junit_path);
  }
  report.errors.insert(report.errors.end(), write_errors.begin(), write_errors.end());

  for (const std::string& e : report.errors) err << "fsan report: error: " << one_line(e) << "\n";
  for (const MergedFinding& m : report.findings)
    if (fails_gate(m, options.fail_on)) ++outcome.failing;
  out << summary_line(report, options.fail_on, outcome.written) << "\n";
  out.flush();
  err.flush();
  outcome.exit_status = outcome.failing > 0 ? kExitFindings : !report.errors.empty() ? kExitInputErrors : kExitClean;
  return outcome;
}

std::string report_usage() {
  return "usage: fsan report FILES_OR_DIRS... [options]\n"
         "  Reads fibersan JSON reports (fsan.<pid>.json; directories are searched for *.json),\n"
         "  merges them (same signature = one finding, counted), applies suppressions, renders.\n"
         "options:\n"
         "  -o FILE              the HTML page (default report.html; -o '' for none)\n"
         "  --sarif FILE         SARIF 2.1.0 log, for code scanning (GitHub, GitLab, ...)\n"
         "  --junit FILE         JUnit XML: a testcase per test binary or FSAN_TEST\n"
         "  --suppressions FILE  lines race:PAT, deadlock:PAT, leak:PAT, panic:PAT (# comments)\n"
         "  --fail-on KINDS      all (default), none, or a comma list of kinds\n"
         "                       (data_race, global_deadlock, ..., or race, deadlock, leak, panic)\n"
         "  --source-root DIR    SARIF paths are relative to DIR (default: the current directory)\n"
         "  --title TEXT         the HTML page's title\n"
         "  --show-suppressed    the HTML page lists suppressed findings too (greyed)\n"
         "exit status: 0 clean; 1 findings of --fail-on kinds remain; 2 usage error;\n"
         "             3 an input or output could not be used (and no finding fails)\n";
}

}  // namespace fsan::reports
