// `fsan gate` (gate_command.hpp): run a command with report_dir set, then
// `fsan report` on what it wrote. The child inherits stdio; the gate ignores
// SIGINT/SIGQUIT while it waits (as system() does), so ^C stops the command
// and the gate still reports what was found until then.
#include "gate_command.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <regex>

extern char** environ;

namespace fsan::reports {
namespace {

// FSAN_OPTIONS separates flags with any of these (runtime/report/options.cpp);
// the runtime also quotes report_dir in single quotes for `mkdir -p`.
constexpr const char* kForbiddenInReportDir = ": ,\t\n'";

bool is_stale_report(const std::string& name) {
  static const std::regex pattern(R"(fsan\.[0-9]+\.json(\.tmp)?)");
  return std::regex_match(name, pattern);
}

struct Child {
  int status = 0;  // exit status, or 128+signal
  bool started = false;
};

Child run_command(const std::vector<std::string>& command, const std::string& fsan_options, std::ostream& err) {
  std::vector<std::string> env_store;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    if (std::strncmp(*e, "FSAN_OPTIONS=", 13) != 0) env_store.emplace_back(*e);
  env_store.push_back("FSAN_OPTIONS=" + fsan_options);
  std::vector<char*> envp;
  for (std::string& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_store(command);
  std::vector<char*> argv;
  for (std::string& s : argv_store) argv.push_back(s.data());
  argv.push_back(nullptr);

  struct sigaction ignore {
  }, old_int{}, old_quit{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGQUIT, &ignore, &old_quit);
  // The child gets the default dispositions back.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

  Child child;
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    err << "fsan gate: cannot run " << command[0] << ": " << std::strerror(rc) << "\n";
    child.status = 127;
  } else {
    child.started = true;
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    child.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : 1;
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);
  return child;
}

}  // namespace

std::string gate_fsan_options(const char* current, const std::string& dir) {
  std::string opts = current != nullptr ? current : "";
  if (!opts.empty() && opts.back() != ':') opts += ':';
  return opts + "report_dir=" + dir;
}

int runtime_exitcode(const std::string& fsan_options) {
  int code = 66;
  std::size_t pos = 0;
  while (pos < fsan_options.size()) {
    std::size_t end = fsan_options.find_first_of(": ,\t\n", pos);
    if (end == std::string::npos) end = fsan_options.size();
    std::string item = fsan_options.substr(pos, end - pos);
    pos = end + 1;
    if (item.compare(0, 9, "exitcode=") == 0) {
      char* stop = nullptr;
      long v = std::strtol(item.c_str() + 9, &stop, 0);
      if (stop != item.c_str() + 9 && *stop == 0) code = static_cast<int>(v & 0xff);
    }
  }
  return code;
}

std::optional<GateOptions> parse_gate_args(const std::vector<std::string>& args, std::string* error) {
  GateOptions options;
  std::size_t i = 0;
  bool saw_separator = false;
  while (i < args.size()) {
    const std::string& arg = args[i];
    if (arg == "--") {
      saw_separator = true;
      ++i;
      break;
    }
    if (arg == "--report-dir" || arg.compare(0, 13, "--report-dir=") == 0) {
      std::string value;
      if (arg == "--report-dir") {
        if (i + 1 >= args.size()) {
          *error = "--report-dir needs a value";
          return std::nullopt;
        }
        value = args[i + 1];
        i += 2;
      } else {
        value = arg.substr(13);
        ++i;
      }
      if (value.empty()) {
        *error = "--report-dir needs a non-empty value";
        return std::nullopt;
      }
      options.report_dir = value;
      continue;
    }
    error->clear();
    if (parse_report_option(args, i, options.report, error)) {
      if (!error->empty()) return std::nullopt;
      continue;
    }
    *error = arg[0] == '-' ? "unknown option " + arg : "expected -- before the command (\"" + arg + "\")";
    return std::nullopt;
  }
  if (!saw_separator || i >= args.size()) {
    *error = "no command given: fsan gate [options] -- COMMAND...";
    return std::nullopt;
  }
  options.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (options.report_dir.find_first_of(kForbiddenInReportDir) != std::string::npos) {
    *error = "--report-dir \"" + options.report_dir +
             "\": FSAN_OPTIONS cannot carry a path with ':', ',', quotes or white space";
    return std::nullopt;
  }
  return options;
}

int run_gate(const GateOptions& options, const HtmlRenderer& html, std::ostream& out, std::ostream& err) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // Absolute, so a command that changes directory (ctest, make) still
  // writes where the gate reads.
  fs::path dir = fs::absolute(options.report_dir, ec).lexically_normal();
  if (!ec) fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    err << "fsan gate: cannot create report directory " << options.report_dir << ": "
        << (ec ? ec.message() : "not a directory") << "\n";
    return kExitInputErrors;
  }
  std::string dir_text = dir.string();
  if (dir_text.find_first_of(kForbiddenInReportDir) != std::string::npos) {
    err << "fsan gate: report directory " << dir_text
        << ": FSAN_OPTIONS cannot carry a path with ':', ',', quotes or white space\n";
    return kExitUsage;
  }
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::error_code rm;
    if (e.is_regular_file(rm) && is_stale_report(e.path().filename().string())) fs::remove(e.path(), rm);
  }

  std::string fsan_options = gate_fsan_options(std::getenv("FSAN_OPTIONS"), dir_text);
  out.flush();
  Child child = run_command(options.command, fsan_options, err);
  if (child.started && child.status != 0)
    err << "fsan gate: " << options.command[0] << " exited with status " << child.status << "\n";

  ReportOptions report = options.report;
  report.inputs = {dir_text};
  ReportOutcome outcome = run_report(report, html, out, err);
  if (outcome.failing > 0) return kExitFindings;
  if (!child.started) return child.status;
  // The runtime's own exit status for findings the report settled
  // (suppressed, or of kinds the gate does not fail on) is not a failure.
  bool explained = child.status == runtime_exitcode(fsan_options) && !outcome.report.findings.empty();
  if (child.status != 0 && !explained) return child.status;
  return outcome.exit_status;
}

std::string gate_usage() {
  return "usage: fsan gate [--report-dir DIR] [report options] -- COMMAND [ARGS...]\n"
         "  Runs COMMAND with FSAN_OPTIONS gaining report_dir=DIR (default: ./fsan-reports,\n"
         "  created; earlier fsan.<pid>.json files in it are removed), then `fsan report DIR`\n"
         "  with the report options (-o, --sarif, --junit, --suppressions, --fail-on,\n"
         "  --source-root, --title; see `fsan help report`).\n"
         "exit status: 1 findings of --fail-on kinds remain; COMMAND's status when it failed\n"
         "             for another reason (128+N for signal N, 127 if it could not start);\n"
         "             2 usage error; 3 unreadable reports; 0 otherwise\n";
}

}  // namespace fsan::reports
