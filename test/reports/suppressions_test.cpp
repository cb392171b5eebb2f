// Suppressions: TSan's matching rules, the type-to-kinds mapping of
// REPORTS.md, one-line errors naming file:line for bad lines.
#include "suppressions.hpp"

#include <gtest/gtest.h>

#include "report_merge.hpp"
#include "report_test_util.hpp"

namespace fsan::reports {
namespace {

using testing::deadlock_json;
using testing::race_json;
using testing::report_json;

Finding one_finding(const std::string& json) {
  std::vector<std::string> errors;
  std::optional<ReportFile> f = parse_report_json(report_json({json}), "s.json", errors);
  EXPECT_TRUE(f && f->findings.size() == 1);
  return f && !f->findings.empty() ? f->findings[0] : Finding{};
}

std::vector<Suppression> parse_ok(const std::string& text) {
  std::vector<std::string> errors;
  std::vector<Suppression> out = parse_suppressions(text, "supp.txt", errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  return out;
}

TEST(TemplateMatch, MatchesAnywhereUnlessAnchored) {
  EXPECT_TRUE(template_match("bump", "bump()"));
  EXPECT_TRUE(template_match("ump", "bump()"));
  EXPECT_TRUE(template_match("^bump", "bump()"));
  EXPECT_FALSE(template_match("^ump", "bump()"));
  EXPECT_TRUE(template_match("bump()$", "bump()"));
  EXPECT_FALSE(template_match("bump$", "bump()"));
  EXPECT_TRUE(template_match("^bump()$", "bump()"));
  EXPECT_FALSE(template_match("^bump$", "bump()"));
}

TEST(TemplateMatch, StarMatchesAnyRun) {
  EXPECT_TRUE(template_match("ns::*::run", "ns::Pool<int>::run()"));
  EXPECT_TRUE(template_match("^/src/*/counter.cpp$", "/src/app/counter.cpp"));
  EXPECT_TRUE(template_match("^/src/*/counter.cpp$", "/src/a/b/counter.cpp"));
  EXPECT_FALSE(template_match("^/src/*/counter.cpp$", "/src/counter.cpp"));
  EXPECT_TRUE(template_match("*", "anything"));
  EXPECT_TRUE(template_match("a*b*c", "xxaYYbZZcxx"));
  EXPECT_FALSE(template_match("a*b*c", "xxaYYcZZbxx"));
  EXPECT_FALSE(template_match("counter.cc", "counter.cpp"));
}

TEST(Suppressions, ParsesTypesCommentsAndBlankLines) {
  std::vector<Suppression> list = parse_ok(
      "# third-party code\n\nrace:bump\n  deadlock:^a_then_b  \nleak:libworker.so\npanic:*legacy*\r\n"
      "data_race:exact_kind\n");
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(list[0].kinds, (std::vector<FindingKind>{FindingKind::data_race}));
  EXPECT_EQ(list[0].pattern, "bump");
  EXPECT_EQ(list[0].origin, "supp.txt:3");
  EXPECT_EQ(list[1].kinds, (std::vector<FindingKind>{FindingKind::global_deadlock, FindingKind::partial_deadlock,
                                                     FindingKind::lock_order_inversion}));
  EXPECT_EQ(list[1].pattern, "^a_then_b");
  EXPECT_EQ(list[1].text, "deadlock:^a_then_b");
  EXPECT_EQ(list[2].kinds,
            (std::vector<FindingKind>{FindingKind::fiber_leak, FindingKind::timer_leak, FindingKind::lost_cancel}));
  EXPECT_EQ(list[3].kinds, (std::vector<FindingKind>{FindingKind::panic}));
  EXPECT_EQ(list[3].pattern, "*legacy*");
  EXPECT_EQ(list[4].kinds, (std::vector<FindingKind>{FindingKind::data_race}));
}

TEST(Suppressions, BadLinesAreOneErrorEachNamingFileAndLine) {
  std::vector<std::string> errors;
  std::vector<Suppression> list =
      parse_suppressions("race:ok\nthread:foo\nno colon here\nleak:\nrace:also_ok\n", "ci/supp.txt", errors);
  ASSERT_EQ(list.size(), 2u);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], "ci/supp.txt:2: unknown suppression type \"thread\" (expected race, deadlock, leak or panic)");
  EXPECT_EQ(errors[1], "ci/supp.txt:3: expected TYPE:PATTERN (race, deadlock, leak or panic), got \"no colon here\"");
  EXPECT_EQ(errors[2], "ci/supp.txt:4: empty pattern after \"leak:\"");
}

TEST(Suppressions, MatchFunctionFileOrModuleOfAnyStack) {
  Finding race = one_finding(race_json("r1"));
  EXPECT_NE(matching_suppression(parse_ok("race:bump"), race), nullptr);          // access stack, function
  EXPECT_NE(matching_suppression(parse_ok("race:counter.cpp"), race), nullptr);   // file
  EXPECT_NE(matching_suppression(parse_ok("race:^/tmp/app$"), race), nullptr);    // module
  EXPECT_NE(matching_suppression(parse_ok("race:make_counter"), race), nullptr);  // allocation stack
  EXPECT_NE(matching_suppression(parse_ok("race:locks.cpp"), race), nullptr);     // where a held lock was taken
  EXPECT_NE(matching_suppression(parse_ok("race:^main$"), race), nullptr);        // creation stack
  EXPECT_EQ(matching_suppression(parse_ok("race:^bump$"), race), nullptr);        // anchored: "bump()"
  EXPECT_EQ(matching_suppression(parse_ok("race:unrelated"), race), nullptr);
}

TEST(Suppressions, TypeMustCoverTheKind) {
  Finding race = one_finding(race_json("r1"));
  Finding deadlock = one_finding(deadlock_json("d1"));
  EXPECT_EQ(matching_suppression(parse_ok("deadlock:bump\nleak:bump\npanic:bump"), race), nullptr);
  EXPECT_EQ(matching_suppression(parse_ok("race:a_then_b"), deadlock), nullptr);
  const Suppression* s = matching_suppression(parse_ok("race:a_then_b\ndeadlock:a_then_b"), deadlock);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->origin, "supp.txt:2");
  Finding leak = one_finding(R"j({"kind": "timer_leak", "fibers": [{"id": 2, "stack": [{"function": "tick()"}]}]})j");
  EXPECT_NE(matching_suppression(parse_ok("leak:tick"), leak), nullptr);
  Finding inversion = one_finding(
      R"j({"kind": "lock_order_inversion", "fibers": [{"id": 2, "stack": [{"function": "x()", "file": "inv.cpp"}]}]})j");
  EXPECT_NE(matching_suppression(parse_ok("deadlock:inv.cpp"), inversion), nullptr);
}

TEST(Suppressions, ApplyMarksTheMergedFindingsItCovers) {
  std::vector<std::string> errors;
  ReportMerger m;
  m.add(*parse_report_json(report_json({race_json("r1"), deadlock_json("d1")}), "1.json", errors));
  Report r = m.take();
  apply_suppressions(r, parse_ok("# comment\nrace:bump\n"));
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_TRUE(r.findings[0].suppressed);
  EXPECT_EQ(r.findings[0].suppressed_by, "supp.txt:2: race:bump");
  EXPECT_FALSE(r.findings[1].suppressed);
  EXPECT_TRUE(r.findings[1].suppressed_by.empty());
}

TEST(Suppressions, MissingFileIsOneError) {
  std::vector<std::string> errors;
  EXPECT_FALSE(read_suppressions("/nonexistent/supp.txt", errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("/nonexistent/supp.txt: cannot open suppressions file: ", 0), 0u) << errors[0];
}

}  // namespace
}  // namespace fsan::reports
