// JUnit: a suite per binary, a case per FSAN_TEST or per binary, failing
// with the text report when it has unsuppressed findings; escaping that
// keeps the document well-formed whatever the program reported.
#include "junit_writer.hpp"

#include <gtest/gtest.h>

#include "report_merge.hpp"
#include "report_test_util.hpp"
#include "suppressions.hpp"

namespace fsan::reports {
namespace {

using testing::deadlock_json;
using testing::race_json;
using testing::report_json;

void add(ReportMerger& m, const std::string& text, const std::string& name) {
  std::vector<std::string> errors;
  std::optional<ReportFile> f = parse_report_json(text, name, errors);
  ASSERT_TRUE(f.has_value());
  m.add(std::move(*f));
}

std::size_t count_of(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// The <testcase ...> element that starts with `head`, up to the next one.
std::string testcase(const std::string& xml, const std::string& head) {
  std::size_t at = xml.find(head);
  if (at == std::string::npos) return "";
  std::size_t end = std::min(xml.find("<testcase", at + 1), xml.find("</testsuite>", at));
  return xml.substr(at, end - at);
}

TEST(JUnit, SuitePerBinaryCasePerTestFailingWithTheTextReport) {
  ReportMerger m;
  add(m, report_json({race_json("r1", 12, "Counter.Bumps"), deadlock_json("d1", "Locks.AB")}, 10, "/ci/bin/unit_tests"),
      "1.json");
  add(m, report_json({race_json("r1", 12, "Counter.Bumps")}, 11, "/ci/bin/unit_tests"), "2.json");
  add(m, report_json({}, 12, "./clean_tool"), "3.json");
  add(m, report_json({deadlock_json("d2")}, 13, "/ci/bin/server"), "4.json");
  std::string xml = render_junit(m.take());

  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"fibersan\" tests=\"4\" "
                      "failures=\"3\" errors=\"0\">",
                      0),
            0u)
      << xml;
  EXPECT_NE(xml.find("<testsuite name=\"unit_tests\" tests=\"2\" failures=\"2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testsuite name=\"clean_tool\" tests=\"1\" failures=\"0\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testsuite name=\"server\" tests=\"1\" failures=\"1\""), std::string::npos) << xml;

  std::string bumps = testcase(xml, "<testcase classname=\"unit_tests.Counter\" name=\"Bumps\"");
  ASSERT_FALSE(bumps.empty()) << xml;
  EXPECT_EQ(count_of(bumps, "<failure "), 1u);  // twice in the input, one finding
  EXPECT_NE(bumps.find("<failure message=\"data race counter.cpp:12:5 in bump()\" type=\"data_race\">"),
            std::string::npos)
      << bumps;
  EXPECT_NE(bumps.find("WARNING: fibersan: data race (pid=10)\n  Write of size 4 at 0x7f0010 by fiber 7 "
                       "&quot;worker&quot;:\n    #0 bump() /src/app/counter.cpp:12:5 (app+0x1234)"),
            std::string::npos)
      << bumps;
  EXPECT_NE(bumps.find("SUMMARY: fibersan: data race counter.cpp:12:5 in bump()"), std::string::npos);

  std::string ab = testcase(xml, "<testcase classname=\"unit_tests.Locks\" name=\"AB\"");
  EXPECT_NE(ab.find("type=\"partial_deadlock\""), std::string::npos) << ab;
  EXPECT_NE(ab.find("fiber 3 &quot;f3&quot; [sync.Mutex.Lock, 1.5s]:"), std::string::npos) << ab;

  EXPECT_EQ(testcase(xml, "<testcase classname=\"clean_tool\" name=\"clean_tool\""),
            "<testcase classname=\"clean_tool\" name=\"clean_tool\" time=\"0\"/>\n  ");
  std::string server = testcase(xml, "<testcase classname=\"server\" name=\"server\"");
  EXPECT_NE(server.find("<failure message=\"partial deadlock ab_ba.cpp:12:5 in a_then_b()\""), std::string::npos)
      << server;
}

TEST(JUnit, SeveralFindingsInOneCaseAreOneFailure) {
  ReportMerger m;
  add(m, report_json({race_json("r1"), deadlock_json("d1")}, 10, "app"), "1.json");
  std::string xml = render_junit(m.take());
  EXPECT_EQ(count_of(xml, "<failure "), 1u);
  EXPECT_NE(xml.find("<failure message=\"2 findings, first: data race counter.cpp:12:5 in bump()\" "
                     "type=\"data_race,partial_deadlock\">"),
            std::string::npos)
      << xml;
  EXPECT_EQ(count_of(xml, "WARNING: fibersan:"), 2u);
}

TEST(JUnit, SuppressedFindingsPassWithANote) {
  ReportMerger m;
  add(m, report_json({race_json("r1")}, 10, "app"), "1.json");
  Report r = m.take();
  std::vector<std::string> errors;
  apply_suppressions(r, parse_suppressions("race:bump", "s.txt", errors));
  std::string xml = render_junit(r);
  EXPECT_EQ(count_of(xml, "<failure"), 0u);
  EXPECT_NE(xml.find("failures=\"0\""), std::string::npos);
  EXPECT_NE(xml.find("<system-out>suppressed data_race (s.txt:1: race:bump): data race counter.cpp:12:5 in bump()\n"
                     "</system-out>"),
            std::string::npos)
      << xml;
}

TEST(JUnit, UnreadableInputsAreAnErroringCase) {
  ReportMerger m;
  add(m, report_json({}, 10, "app"), "1.json");
  m.add_error("2.json:1:1: empty file, expected a JSON report (byte 1)");
  m.add_error("3.json: unsupported schema \"x\", expected \"fibersan-report/1\"");
  std::string xml = render_junit(m.take());
  EXPECT_NE(xml.find("<testsuites name=\"fibersan\" tests=\"2\" failures=\"0\" errors=\"1\">"), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testsuite name=\"fsan-report\" tests=\"1\" failures=\"0\" errors=\"1\""), std::string::npos)
      << xml;
  EXPECT_NE(
      xml.find("<error message=\"2 inputs could not be used, first: 2.json:1:1: empty file, expected a JSON report "
               "(byte 1)\" type=\"input\">2.json:1:1: empty file, expected a JSON report (byte 1)\n3.json: "
               "unsupported schema &quot;x&quot;, expected &quot;fibersan-report/1&quot;\n</error>"),
      std::string::npos)
      << xml;
  EXPECT_EQ(render_junit(Report{}).find("fsan-report"), std::string::npos);
}

TEST(JUnit, BinaryNameFallsBackToTheFile) {
  ProcessInfo p;
  p.file = "shards/3/fsan.77.json";
  EXPECT_EQ(binary_name(p), "fsan.77.json");
  p.argv = {"/usr/bin/tool", "-x"};
  EXPECT_EQ(binary_name(p), "tool");
}

TEST(JUnit, EscapesMarkupControlCharactersAndBrokenUtf8) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml_escape("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
  EXPECT_EQ(xml_escape(std::string("nul\0bell\x07", 9)),
            "nul\xEF\xBF\xBD"
            "bell\xEF\xBF\xBD");
  EXPECT_EQ(xml_escape("bad\xff utf8 \xc3"), "bad\xEF\xBF\xBD utf8 \xEF\xBF\xBD");
  EXPECT_EQ(xml_escape("caf\xC3\xA9 \xE2\x9C\x93"), "caf\xC3\xA9 \xE2\x9C\x93");
  EXPECT_EQ(xml_escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a UTF-16 surrogate
}

TEST(JUnit, HostileNamesStayText) {
  ReportMerger m;
  std::string f =
      R"json({"kind": "panic", "summary": "panic: </failure><x a=\"1\">", "message": "]]> & <", "test": "S.<T>",
    "fibers": [{"id": 1, "name": "\u0001<n>", "stack": [{"function": "f<int>()"}]}]})json";
  add(m, report_json({f}, 1, "a&b"), "1.json");
  std::string xml = render_junit(m.take());
  EXPECT_EQ(xml.find("<x"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<T>"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<n>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("classname=\"a&amp;b.S\" name=\"&lt;T&gt;\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("f&lt;int&gt;()"), std::string::npos) << xml;
}

}  // namespace
}  // namespace fsan::reports
