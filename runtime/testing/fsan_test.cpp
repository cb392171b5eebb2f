// FSAN_TEST's runner (include/fsan/testing.hpp): one fsan::run per test, then
// one gtest failure per finding of that run, naming the test (every finding
// published during the run carries it: Finding::test). Findings expect_no_leaks has
// already failed are remembered here (by id) and not failed twice.
#include <mutex>
#include <set>
#include <string>

#include <fsan/testing.hpp>

#include "report/report.hpp"
#include "testing/failed_findings.hpp"

namespace fsan::testing::detail {
namespace {

std::mutex g_mu;
std::set<std::string> g_failed;  // ids of this run's findings that already failed the test

}  // namespace

std::string current_test_name() {
  const ::testing::TestInfo* t = ::testing::UnitTest::GetInstance()->current_test_info();
  if (t == nullptr) return "";
  return std::string(t->test_suite_name()) + "." + t->name();
}

void note_failed_finding(const std::string& id) {
  std::lock_guard<std::mutex> g(g_mu);
  g_failed.insert(id);
}

int run_test_body(const fsan::Options& o, void (*body)()) {
  {
    std::lock_guard<std::mutex> g(g_mu);
    g_failed.clear();
  }
  // Every finding of this run, leaks found at its end included, belongs to
  // this test (Finding::test), and its failure says so.
  const std::string test = current_test_name();
  fsan::detail::set_finding_test(test);
  int rc = fsan::run(o, [body] { body(); });
  fsan::detail::set_finding_test("");
  std::vector<Finding> fs = fsan::findings();
  for (const Finding& f : fs) {
    {
      std::lock_guard<std::mutex> g(g_mu);
      if (g_failed.count(f.id) != 0) continue;
    }
    ADD_FAILURE() << "fibersan: [" << fsan::to_string(f.kind) << "] " << f.summary
                  << (f.test.empty() ? "" : " (in test " + f.test + ")") << "\n"
                  << fsan::detail::format_text(f);
  }
  if (rc != 0 && fs.empty()) ADD_FAILURE() << "fibersan: fsan::run returned " << rc << " with no finding (see stderr)";
  return rc;
}

int run_test_body(void (*body)()) { return run_test_body(fsan::Options{}, body); }

}  // namespace fsan::testing::detail
