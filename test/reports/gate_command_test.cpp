// `fsan gate`: argument parsing, the FSAN_OPTIONS the command gets, and the
// exit status from the command's status and the report's findings (commands
// are small shell scripts that write report files the way the runtime does).
#include "gate_command.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <sstream>

#include "report_test_util.hpp"

namespace fsan::reports {
namespace {

using testing::race_json;
using testing::report_json;
using testing::TempDir;

TEST(GateArgs, ReportDirReportOptionsAndTheCommand) {
  std::string error;
  std::optional<GateOptions> o = parse_gate_args(
      {"--report-dir", "out", "--junit=j.xml", "--fail-on", "race", "--", "ctest", "-j2", "--"}, &error);
  ASSERT_TRUE(o.has_value()) << error;
  EXPECT_EQ(o->report_dir, "out");
  EXPECT_EQ(o->report.junit_path, "j.xml");
  EXPECT_EQ(o->report.fail_on, (std::vector<FindingKind>{FindingKind::data_race}));
  EXPECT_EQ(o->command, (std::vector<std::string>{"ctest", "-j2", "--"}));
  o = parse_gate_args({"--", "./t"}, &error);
  ASSERT_TRUE(o.has_value()) << error;
  EXPECT_EQ(o->report_dir, "fsan-reports");
  EXPECT_EQ(o->report.html_path, "report.html");
}

TEST(GateArgs, UsageErrors) {
  std::string error;
  EXPECT_FALSE(parse_gate_args({}, &error));
  EXPECT_EQ(error, "no command given: fsan gate [options] -- COMMAND...");
  EXPECT_FALSE(parse_gate_args({"--"}, &error));
  EXPECT_FALSE(parse_gate_args({"./t"}, &error));
  EXPECT_EQ(error, "expected -- before the command (\"./t\")");
  EXPECT_FALSE(parse_gate_args({"--nope", "--", "./t"}, &error));
  EXPECT_EQ(error, "unknown option --nope");
  EXPECT_FALSE(parse_gate_args({"--report-dir", "a b", "--", "./t"}, &error));
  EXPECT_EQ(error.rfind("--report-dir \"a b\": FSAN_OPTIONS cannot carry", 0), 0u) << error;
  EXPECT_FALSE(parse_gate_args({"--report-dir=", "--", "./t"}, &error));
}

TEST(GateOptions, ReportDirIsAppendedSoItWins) {
  EXPECT_EQ(gate_fsan_options(nullptr, "/r"), "report_dir=/r");
  EXPECT_EQ(gate_fsan_options("", "/r"), "report_dir=/r");
  EXPECT_EQ(gate_fsan_options("halt_on_error=1", "/r"), "halt_on_error=1:report_dir=/r");
  EXPECT_EQ(gate_fsan_options("report_dir=old:", "/r"), "report_dir=old:report_dir=/r");
  EXPECT_EQ(runtime_exitcode(""), 66);
  EXPECT_EQ(runtime_exitcode("exitcode=3:report_dir=/r"), 3);
  EXPECT_EQ(runtime_exitcode("exitcode=3 exitcode=9"), 9);
  EXPECT_EQ(runtime_exitcode("exitcode=x"), 66);
}

class GateRun : public ::testing::Test {
 protected:
  // run: the gate over `sh -c script`, reports in dir/reports; the script
  // sees the report directory as $R (taken from FSAN_OPTIONS as a program
  // would).
  int run(const std::string& script, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--report-dir", dir.file("reports"), "-o", ""};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const char* a : {"--", "sh", "-c"}) args.push_back(a);
    args.push_back("R=\"${FSAN_OPTIONS##*report_dir=}\"; " + script);
    std::string error;
    std::optional<GateOptions> o = parse_gate_args(args, &error);
    EXPECT_TRUE(o.has_value()) << error;
    if (!o) return -1;
    out.str("");
    err.str("");
    return run_gate(*o, HtmlRenderer{}, out, err);
  }
  std::string write_race_report() { return dir.write("race.json", report_json({race_json("r1")}, 77, "./t")); }

  TempDir dir;
  std::ostringstream out, err;
};

TEST_F(GateRun, CleanCommandPasses) {
  EXPECT_EQ(run("exit 0"), kExitClean);
  EXPECT_EQ(out.str(), "fsan report: 0 findings, 0 suppressed, 0 errors\n");
}

TEST_F(GateRun, FindingsFailTheGate) {
  std::string race = write_race_report();
  EXPECT_EQ(run("cp " + race + " \"$R/fsan.77.json\"; exit 66"), kExitFindings);
  EXPECT_EQ(out.str(), "fsan report: 1 finding (1 data_race), 0 suppressed, 0 errors\n");
  EXPECT_NE(err.str().find("exited with status 66"), std::string::npos) << err.str();
}

TEST_F(GateRun, TheRuntimesExitCodeForSettledFindingsIsNotAFailure) {
  std::string race = write_race_report();
  std::string copy = "cp " + race + " \"$R/fsan.77.json\"; ";
  EXPECT_EQ(run(copy + "exit 66", {"--fail-on", "deadlock"}), kExitClean);
  std::string supp = dir.write("supp.txt", "race:bump\n");
  EXPECT_EQ(run(copy + "exit 66", {"--suppressions", supp}), kExitClean);
  // Another status, or 66 with no finding at all, is the command's failure.
  EXPECT_EQ(run(copy + "exit 3", {"--suppressions", supp}), 3);
  EXPECT_EQ(run("exit 66"), 66);
}

TEST_F(GateRun, CommandFailureWithoutFindingsIsItsStatus) {
  EXPECT_EQ(run("exit 7"), 7);
  EXPECT_EQ(run("kill -TERM $$"), 128 + 15);
}

TEST_F(GateRun, StaleReportsOfEarlierRunsAreRemoved) {
  std::string race = write_race_report();
  EXPECT_EQ(run("cp " + race + " \"$R/fsan.77.json\"; touch \"$R/keep.txt\""), kExitFindings);
  EXPECT_EQ(run("test -e \"$R/keep.txt\" && ! test -e \"$R/fsan.77.json\""), kExitClean);
}

TEST_F(GateRun, CommandThatCannotStartIs127) {
  std::string error;
  std::optional<GateOptions> o =
      parse_gate_args({"--report-dir", dir.file("reports"), "-o", "", "--", dir.file("no-such-program")}, &error);
  ASSERT_TRUE(o.has_value()) << error;
  EXPECT_EQ(run_gate(*o, HtmlRenderer{}, out, err), 127);
  EXPECT_EQ(err.str().rfind("fsan gate: cannot run " + dir.file("no-such-program") + ": ", 0), 0u) << err.str();
}

}  // namespace
}  // namespace fsan::reports
