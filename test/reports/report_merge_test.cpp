// Merging: one entry per signature, occurrences counted, the processes and
// FSAN_TESTs each came from remembered, first-seen order kept.
#include "report_merge.hpp"

#include <gtest/gtest.h>

#include "report_test_util.hpp"

namespace fsan::reports {
namespace {

using testing::deadlock_json;
using testing::race_json;
using testing::report_json;

ReportFile parse(const std::string& text, const std::string& name) {
  std::vector<std::string> errors;
  std::optional<ReportFile> f = parse_report_json(text, name, errors);
  EXPECT_TRUE(f.has_value() && errors.empty()) << name;
  return f ? *f : ReportFile{};
}

TEST(ReportMerge, SameSignatureIsOneFindingCountedPerOccurrence) {
  ReportMerger m;
  m.add(parse(report_json({race_json("r1", 12, "A.one"), deadlock_json("d1")}, 1), "1.json"));
  m.add(parse(report_json({race_json("r1", 12, "A.two")}, 2), "2.json"));
  m.add(parse(report_json({race_json("r2", 14), race_json("r1", 12, "A.one")}, 3), "3.json"));
  Report r = m.take();
  ASSERT_EQ(r.processes.size(), 3u);
  ASSERT_EQ(r.findings.size(), 3u);
  const MergedFinding& race = r.findings[0];
  EXPECT_EQ(race.finding.signature, "r1");
  EXPECT_EQ(race.count, 3);
  EXPECT_EQ(race.processes, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(race.tests, (std::vector<std::string>{"A.one", "A.two"}));
  ASSERT_EQ(race.occurrences.size(), 3u);
  EXPECT_EQ(race.occurrences[1].process, 1u);
  EXPECT_EQ(race.occurrences[1].test, "A.two");
  EXPECT_EQ(race.occurrences[2].test, "A.one");
  EXPECT_EQ(r.findings[1].finding.signature, "d1");
  EXPECT_EQ(r.findings[1].count, 1);
  EXPECT_TRUE(r.findings[1].tests.empty());
  EXPECT_EQ(r.findings[2].finding.signature, "r2");
  EXPECT_EQ(r.findings[2].processes, (std::vector<std::size_t>{2}));
  for (const MergedFinding& f : r.findings) EXPECT_FALSE(f.suppressed);
}

TEST(ReportMerge, SameSignatureOfDifferentKindsStaysApart) {
  ReportMerger m;
  std::string leak = R"j({"kind": "fiber_leak", "signature": "same"})j";
  std::string race = R"j({"kind": "data_race", "signature": "same"})j";
  m.add(parse(report_json({leak, race}), "1.json"));
  EXPECT_EQ(m.take().findings.size(), 2u);
}

TEST(ReportMerge, FindingsWithoutSignatureMergeBySummaryAndMessage) {
  ReportMerger m;
  std::string a = R"j({"kind": "panic", "summary": "panic: x", "message": "x"})j";
  std::string b = R"j({"kind": "panic", "summary": "panic: y", "message": "y"})j";
  m.add(parse(report_json({a, b}), "1.json"));
  m.add(parse(report_json({a}), "2.json"));
  Report r = m.take();
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].count, 2);
  EXPECT_EQ(r.findings[1].count, 1);
}

TEST(ReportMerge, TakeLeavesTheMergerEmpty) {
  ReportMerger m;
  m.add(parse(report_json({race_json("r1")}), "1.json"));
  m.add_error("x.json: broken");
  Report first = m.take();
  EXPECT_EQ(first.findings.size(), 1u);
  EXPECT_EQ(first.errors.size(), 1u);
  m.add(parse(report_json({race_json("r1")}), "2.json"));
  Report second = m.take();
  ASSERT_EQ(second.findings.size(), 1u);
  EXPECT_EQ(second.findings[0].count, 1);
  EXPECT_TRUE(second.errors.empty());
}

}  // namespace
}  // namespace fsan::reports
