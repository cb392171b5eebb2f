// Runtime flags (flags.inc, options.hpp): parse_options applies a
// "name=value:name=value" string all or nothing and names what is wrong;
// options_help lists every flag; FSAN_OPTIONS overrides Options set in code.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using fsan::FindingKind;
using fsan::make_chan;
using fsan::Options;
using fsan_test::count_kind;
using fsan_test::describe;

TEST(Options, DefaultsMatchTheFlagTable) {
  const Options o;
  EXPECT_EQ(o.workers, 0);
  EXPECT_EQ(o.stack_size, 256u * 1024u);
  EXPECT_EQ(o.exitcode, 66);
  EXPECT_FALSE(o.halt_on_error);
  EXPECT_TRUE(o.detect_deadlocks);
  EXPECT_TRUE(o.print_findings);
  EXPECT_EQ(o.report_dir, "");
  EXPECT_EQ(o.seed, 0u);
}

TEST(Options, ParseSetsFieldsFromColonSeparatedPairs) {
  Options o;
  const std::string err = fsan::parse_options("workers=3:halt_on_error=1", o);
  EXPECT_EQ(err, "");
  EXPECT_EQ(o.workers, 3);
  EXPECT_TRUE(o.halt_on_error);
}

TEST(Options, ParseAcceptsSpaceSeparatorsAndEveryFlagType) {
  Options o;
  const std::string err = fsan::parse_options(
      "exitcode=9 stack_size=1048576:seed=18446744073709551615 report_dir=/tmp/fsan-out print_findings=0", o);
  EXPECT_EQ(err, "");
  EXPECT_EQ(o.exitcode, 9);
  EXPECT_EQ(o.stack_size, 1048576u);
  EXPECT_EQ(o.seed, UINT64_C(18446744073709551615));
  EXPECT_EQ(o.report_dir, "/tmp/fsan-out");
  EXPECT_FALSE(o.print_findings);
}

TEST(Options, ParseOfAnEmptyStringChangesNothing) {
  Options o;
  o.workers = 7;
  EXPECT_EQ(fsan::parse_options("", o), "");
  EXPECT_EQ(o.workers, 7);
  EXPECT_EQ(o.exitcode, 66);
}

TEST(Options, ParseRejectsAnUnknownFlagNamingItAndAppliesNothing) {
  Options o;
  const std::string err = fsan::parse_options("workers=5:no_such_flag=1", o);
  EXPECT_NE(err, "");
  EXPECT_NE(err.find("no_such_flag"), std::string::npos) << err;
  EXPECT_EQ(err.substr(0, err.size() - (err.ends_with('\n') ? 1 : 0)).find('\n'), std::string::npos)
      << "not one line: " << err;
  EXPECT_EQ(o.workers, 0) << "a flag before the error was applied";
}

TEST(Options, ParseRejectsABadValueNamingFlagAndValueAndAppliesNothing) {
  Options o;
  const std::string err = fsan::parse_options("exitcode=7:workers=abc", o);
  EXPECT_NE(err, "");
  EXPECT_NE(err.find("workers"), std::string::npos) << err;
  EXPECT_NE(err.find("abc"), std::string::npos) << err;
  EXPECT_EQ(err.substr(0, err.size() - (err.ends_with('\n') ? 1 : 0)).find('\n'), std::string::npos)
      << "not one line: " << err;
  EXPECT_EQ(o.exitcode, 66) << "a flag before the error was applied";
  EXPECT_EQ(o.workers, 0);
}

TEST(Options, ParseRejectsBadValuesOfEachType) {
  for (const char* bad : {"halt_on_error=maybe", "stack_size=-1", "exitcode=12x", "seed=lots"}) {
    Options o;
    const std::string err = fsan::parse_options(bad, o);
    EXPECT_NE(err, "") << bad << " was accepted";
  }
}

TEST(Options, HelpListsEveryFlag) {
  const std::string help = fsan::options_help();
  std::vector<std::string> names = {
#define FSAN_FLAG(type, name, def, text) #name,
#include <fsan/flags.inc>
#undef FSAN_FLAG
  };
  ASSERT_GE(names.size(), 10u);
  for (const std::string& n : names) EXPECT_NE(help.find(n), std::string::npos) << "missing " << n << " in:\n" << help;
  for (const char* n : {"workers", "exitcode", "halt_on_error", "stack_size", "report_dir"})
    EXPECT_NE(help.find(n), std::string::npos) << n;
  std::size_t lines = 0;
  for (char c : help) lines += c == '\n' ? 1 : 0;
  EXPECT_GE(lines + 1, names.size());
}

class OptionsRunTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, OptionsRunTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// ScopedEnv: sets an environment variable for one test, restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_P(OptionsRunTest, FsanOptionsEnvironmentOverridesOptionsSetInCode) {
  ScopedEnv env("FSAN_OPTIONS", "exitcode=9");
  Options o = options();
  o.exitcode = 3;
  int rc = run(o, [] { make_chan<int>().recv(); });
  EXPECT_EQ(rc, 9) << describe(fsan::findings());
  EXPECT_EQ(count_kind(fsan::findings(), FindingKind::global_deadlock), 1u);
}

TEST_P(OptionsRunTest, FsanOptionsLeavesFieldsItDoesNotNameAlone) {
  ScopedEnv env("FSAN_OPTIONS", "print_findings=0");
  Options o = options();
  o.exitcode = 5;
  int rc = run(o, [] { make_chan<int>().recv(); });
  EXPECT_EQ(rc, 5) << describe(fsan::findings());
}

// halt_on_error: the run ends at the first finding; code after it never runs.
TEST_P(OptionsRunTest, HaltOnErrorEndsTheRunAtTheFirstFinding) {
  Options o = options();
  o.halt_on_error = true;
  bool continued = false;
  int rc = run(o, [&] {
    auto ch = make_chan<int>();
    ch.close();
    ch.close();
    continued = true;
    fsan::Chan<int> nil_ch;
    nil_ch.close();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  EXPECT_EQ(fs.size(), 1u) << describe(fs);
  EXPECT_EQ(count_kind(fs, FindingKind::panic), 1u) << describe(fs);
  EXPECT_FALSE(continued);
}

TEST_P(OptionsRunTest, FixedSeedRunsAreCleanAndComplete) {
  Options o = options();
  o.seed = 12345;
  std::array<int, 2> chosen{};
  int rc = run(o, [&] {
    std::array<fsan::Chan<int>, 2> c{make_chan<int>(1), make_chan<int>(1)};
    c[0].send(0);
    c[1].send(1);
    for (int i = 0; i < 1000; ++i) {
      std::size_t k = fsan::select(fsan::recv_case(c[0]), fsan::recv_case(c[1]));
      chosen[k]++;
      c[k].send(0);
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen[0] + chosen[1], 1000);
  EXPECT_GT(chosen[0], 0);  // a fixed seed still varies the choice (p of failing: 2^-1000)
  EXPECT_GT(chosen[1], 0);
}

}  // namespace
