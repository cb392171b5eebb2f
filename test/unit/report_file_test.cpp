// The per-process report file (REPORTS.md "JSON"): with report_dir set, a
// process leaves DIR/fsan.<pid>.json even when it found nothing (so `fsan
// report` can count it as a clean run), and the file keeps the findings of
// every run() of the process (one run per FSAN_TEST), not just the last.
// Under 1, 2 and 4 workers.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

class ReportFileTest : public fsan_test::WorkersTest {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fsan-report-file-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  fsan::Options report_options() const {
    fsan::Options o = options();
    o.report_dir = dir_;
    o.print_findings = false;
    return o;
  }
  std::string report_text() const {
    std::ifstream in(dir_ + "/fsan." + std::to_string(getpid()) + ".json");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  static std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  }

  std::string dir_;
};
INSTANTIATE_TEST_SUITE_P(Workers, ReportFileTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

TEST_P(ReportFileTest, CleanRunLeavesAnEmptyReport) {
  EXPECT_EQ(run(report_options(), [] { fsan::yield(); }), 0);
  std::string text = report_text();
  ASSERT_FALSE(text.empty()) << "no fsan.<pid>.json after a clean run";
  EXPECT_NE(text.find("\"schema\": \"fibersan-report/1\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"pid\": " + std::to_string(getpid())), std::string::npos) << text;
  EXPECT_NE(text.find("\"findings\": [\n  ]"), std::string::npos) << text;
}

TEST_P(ReportFileTest, KeepsTheFindingsOfEveryRunOfTheProcess) {
  auto deadlock_on_recv = [] { fsan::make_chan<int>().recv(); };
  auto deadlock_on_send = [] { fsan::make_chan<int>().send(1); };
  EXPECT_EQ(run(report_options(), deadlock_on_recv), 66);
  EXPECT_EQ(run(report_options(), [] {}), 0);
  EXPECT_EQ(run(report_options(), deadlock_on_send), 66);
  ASSERT_EQ(fsan::findings().size(), 1u);  // the last run's, as before
  std::string text = report_text();
  EXPECT_EQ(count(text, "\"kind\": \"global_deadlock\""), 2u) << text;
  EXPECT_NE(text.find("\"wait_reason\": \"chan receive\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"wait_reason\": \"chan send\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"id\": \"global_deadlock-1\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"id\": \"global_deadlock-2\""), std::string::npos) << text;
}

}  // namespace
