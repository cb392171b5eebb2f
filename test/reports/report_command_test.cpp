// `fsan report` as the CI gate: --fail-on decides the exit status,
// suppressed findings never fail, unreadable inputs make it 3 after the
// rest was rendered, usage errors are 2; the summary line counts by kind.
#include "report_command.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "report_test_util.hpp"

namespace fsan::reports {
namespace {

using testing::deadlock_json;
using testing::race_json;
using testing::read_text;
using testing::report_json;
using testing::TempDir;

std::optional<ReportOptions> parse(std::vector<std::string> args, std::string* error) {
  return parse_report_args(args, error);
}

struct RunResult {
  int status;
  std::string out, err;
  ReportOutcome outcome;
};

RunResult run(std::vector<std::string> args) {
  std::string error;
  std::optional<ReportOptions> options = parse_report_args(args, &error);
  EXPECT_TRUE(options.has_value()) << error;
  if (!options) return {kExitUsage, "", error, {}};
  options->html_path.clear();  // the HTML page has tests of its own
  std::ostringstream out, err;
  ReportOutcome outcome = run_report(*options, HtmlRenderer{}, out, err);
  return {outcome.exit_status, out.str(), err.str(), std::move(outcome)};
}

TEST(ReportArgs, DefaultsAndEveryOption) {
  std::string error;
  std::optional<ReportOptions> o = parse({"a.json", "dir"}, &error);
  ASSERT_TRUE(o.has_value()) << error;
  EXPECT_EQ(o->inputs, (std::vector<std::string>{"a.json", "dir"}));
  EXPECT_EQ(o->html_path, "report.html");
  EXPECT_EQ(o->fail_on.size(), all_kinds.size());
  o = parse({"-o", "r.html", "--sarif", "r.sarif", "--junit=r.xml", "--suppressions", "s.txt", "--fail-on",
             "data_race,deadlock", "--source-root=/src", "in"},
            &error);
  ASSERT_TRUE(o.has_value()) << error;
  EXPECT_EQ(o->html_path, "r.html");
  EXPECT_EQ(o->sarif_path, "r.sarif");
  EXPECT_EQ(o->junit_path, "r.xml");
  EXPECT_EQ(o->suppressions_path, "s.txt");
  EXPECT_EQ(o->source_root, "/src");
  EXPECT_EQ(o->fail_on, (std::vector<FindingKind>{FindingKind::data_race, FindingKind::global_deadlock,
                                                  FindingKind::partial_deadlock, FindingKind::lock_order_inversion}));
  EXPECT_EQ(o->inputs, (std::vector<std::string>{"in"}));
  EXPECT_FALSE(o->show_suppressed);
  o = parse({"--show-suppressed", "in", "--title", "nightly"}, &error);
  ASSERT_TRUE(o.has_value()) << error;
  EXPECT_TRUE(o->show_suppressed);
  EXPECT_EQ(o->title, "nightly");
}

TEST(ReportArgs, UsageErrors) {
  std::string error;
  EXPECT_FALSE(parse({}, &error));
  EXPECT_EQ(error, "no report files or directories given");
  EXPECT_FALSE(parse({"a.json", "--bogus"}, &error));
  EXPECT_EQ(error, "unknown option --bogus");
  EXPECT_FALSE(parse({"a.json", "--sarif"}, &error));
  EXPECT_EQ(error, "--sarif needs a value");
  EXPECT_FALSE(parse({"a.json", "--fail-on", "data_race,oops"}, &error));
  EXPECT_EQ(error.rfind("--fail-on: unknown kind \"oops\"", 0), 0u) << error;
  EXPECT_FALSE(parse({"a.json", "--fail-on="}, &error));
  EXPECT_FALSE(parse({"a.json", "--fail-on", "race,"}, &error));
  EXPECT_EQ(error.rfind("--fail-on: unknown kind \"\"", 0), 0u) << error;
}

TEST(FailOn, AllNoneKindsAndTypes) {
  std::string error;
  EXPECT_EQ(parse_fail_on("all", &error)->size(), all_kinds.size());
  EXPECT_TRUE(parse_fail_on("none", &error)->empty());
  EXPECT_EQ(*parse_fail_on("leak,panic,fiber_leak", &error),
            (std::vector<FindingKind>{FindingKind::fiber_leak, FindingKind::timer_leak, FindingKind::lost_cancel,
                                      FindingKind::panic}));
}

TEST(ReportCommand, FindingsOfFailOnKindsExitOne) {
  TempDir dir;
  dir.write("r/fsan.1.json", report_json({race_json("r1"), deadlock_json("d1")}, 1));
  dir.write("r/fsan.2.json", report_json({race_json("r1")}, 2));
  std::string in = dir.file("r");
  RunResult all = run({in});
  EXPECT_EQ(all.status, kExitFindings);
  EXPECT_EQ(all.outcome.failing, 2);
  EXPECT_EQ(all.out, "fsan report: 2 findings (1 data_race, 1 partial_deadlock), 0 suppressed, 0 errors\n");
  EXPECT_EQ(all.err, "");
  EXPECT_EQ(run({in, "--fail-on", "data_race"}).status, kExitFindings);
  EXPECT_EQ(run({in, "--fail-on", "deadlock"}).status, kExitFindings);
  RunResult leaks = run({in, "--fail-on", "leak,panic"});
  EXPECT_EQ(leaks.status, kExitClean);
  EXPECT_EQ(
      leaks.out,
      "fsan report: 2 findings (1 data_race, 1 partial_deadlock), 0 of --fail-on kinds, 0 suppressed, 0 errors\n");
  EXPECT_EQ(run({in, "--fail-on", "none"}).status, kExitClean);
}

TEST(ReportCommand, SuppressedFindingsDoNotFail) {
  TempDir dir;
  std::string in = dir.write("fsan.1.json", report_json({race_json("r1"), deadlock_json("d1")}));
  std::string supp = dir.write("supp.txt", "race:bump\n");
  RunResult partly = run({in, "--suppressions", supp});
  EXPECT_EQ(partly.status, kExitFindings);
  EXPECT_EQ(partly.out, "fsan report: 1 finding (1 partial_deadlock), 1 suppressed, 0 errors\n");
  dir.write("supp.txt", "race:bump\ndeadlock:a_then_b\n");
  RunResult all = run({in, "--suppressions", supp});
  EXPECT_EQ(all.status, kExitClean);
  EXPECT_EQ(all.out, "fsan report: 0 findings, 2 suppressed, 0 errors\n");
}

TEST(ReportCommand, UnreadableInputExitsThreeAfterRenderingTheRest) {
  TempDir dir;
  dir.write("in/fsan.1.json", report_json({deadlock_json("d1")}));
  dir.write("in/fsan.2.json", "{\"schema\": \"fibersan-report/1\", \"findings\": [");
  std::string sarif = dir.file("out.sarif"), junit = dir.file("out.xml");
  RunResult r = run({dir.file("in"), "--fail-on", "race", "--sarif", sarif, "--junit", junit});
  EXPECT_EQ(r.status, kExitInputErrors);
  EXPECT_EQ(r.err.rfind("fsan report: error: " + dir.file("in/fsan.2.json") + ":1:", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  EXPECT_EQ(r.out, "fsan report: 1 finding (1 partial_deadlock), 0 of --fail-on kinds, 0 suppressed, 1 error; wrote " +
                       sarif + ", " + junit + "\n");
  EXPECT_NE(read_text(sarif).find("partial_deadlock"), std::string::npos);
  EXPECT_NE(read_text(junit).find("partial deadlock"), std::string::npos);
  // Findings that fail the gate win over input errors.
  EXPECT_EQ(run({dir.file("in")}).status, kExitFindings);
}

TEST(ReportCommand, MissingInputAndBadSuppressionsAreErrors) {
  TempDir dir;
  std::string in = dir.write("fsan.1.json", report_json({}));
  RunResult missing = run({in, dir.file("nope")});
  EXPECT_EQ(missing.status, kExitInputErrors);
  EXPECT_EQ(missing.err, "fsan report: error: " + dir.file("nope") + ": no such file or directory\n");
  std::string supp = dir.write("supp.txt", "race:x\nbogus\n");
  RunResult bad = run({in, "--suppressions", supp});
  EXPECT_EQ(bad.status, kExitInputErrors);
  EXPECT_EQ(bad.err, "fsan report: error: " + supp +
                         ":2: expected TYPE:PATTERN (race, deadlock, leak or panic), got \"bogus\"\n");
  RunResult clean = run({in});
  EXPECT_EQ(clean.status, kExitClean);
  EXPECT_EQ(clean.out, "fsan report: 0 findings, 0 suppressed, 0 errors\n");
}

TEST(ReportCommand, UnwritableOutputIsAnError) {
  TempDir dir;
  std::string in = dir.write("fsan.1.json", report_json({}));
  RunResult r = run({in, "--sarif", dir.file("no/such/dir/out.sarif")});
  EXPECT_EQ(r.status, kExitInputErrors);
  EXPECT_EQ(r.err.rfind("fsan report: error: " + dir.file("no/such/dir/out.sarif") + ": cannot write: ", 0), 0u)
      << r.err;
}

TEST(ReportCommand, HtmlIsWrittenByTheRendererGiven) {
  TempDir dir;
  std::string in = dir.write("fsan.1.json", report_json({race_json("r1")}));
  ReportOptions options;
  options.inputs = {in};
  options.html_path = dir.file("page.html");
  options.title = "nightly";
  std::ostringstream out, err;
  std::string seen_title;
  std::size_t seen_findings = 0;
  HtmlRenderer renderer = [&](const Report& r, const ReportOptions& o) {
    seen_title = o.title;
    seen_findings = r.findings.size();
    return std::string("<!doctype html>");
  };
  ReportOutcome o = run_report(options, renderer, out, err);
  EXPECT_EQ(o.exit_status, kExitFindings);
  EXPECT_EQ(seen_title, "nightly");
  EXPECT_EQ(seen_findings, 1u);
  EXPECT_EQ(read_text(options.html_path), "<!doctype html>");
  EXPECT_EQ(o.written, (std::vector<std::string>{options.html_path}));
}

}  // namespace
}  // namespace fsan::reports
