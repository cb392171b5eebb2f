// GoogleTest integration (API.md "Testing"): FSAN_TEST runs its body as the
// main fiber of a run and fails on any finding; expect_no_leaks reports the
// fibers still alive after the grace period as fiber_leak findings of the
// current test. Failing cases are proven without a red suite: in-process by
// intercepting gtest failures, and end to end by running a child test
// binary (fixtures/fsan_test_fixture.cpp) and reading its status and output.
#include <gtest/gtest-spi.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include <fsan/testing.hpp>

#include "fsan_test_util.hpp"

namespace {

using fsan::make_chan;
using fsan::Unit;

FSAN_TEST(FsanTest, BodyRunsAsTheMainFiber) {
  EXPECT_EQ(fsan::fiber_id(), 1u);
  auto ch = make_chan<int>();
  fsan::go([ch] { ch.send(7); });
  EXPECT_EQ(ch.recv(), 7);
}

FSAN_TEST(FsanTest, ExpectNoLeaksPassesOnceEveryOtherFiberHasExited) {
  auto release = make_chan<Unit>();
  for (int i = 0; i < 3; ++i) fsan::go([release] { release.recv(); });
  release.close();  // they exit during the grace period
  EXPECT_TRUE(fsan::testing::expect_no_leaks());
  EXPECT_TRUE(fsan::findings().empty());
}

void deadlocked_body() {
  auto ch = make_chan<int>();
  ch.recv();
}

TEST(FsanTestRunner, AFindingFailsTheTestNamingItsKindAndWhere) {
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(fsan::testing::detail::run_test_body(&deadlocked_body),
                                         "fibersan: [global_deadlock] global deadlock testing_test.cpp:");
}

TEST(FsanTestRunner, FindingsNameTheTestTheyCameFrom) {
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(fsan::testing::detail::run_test_body(&deadlocked_body), "global_deadlock");
  std::vector<fsan::Finding> fs = fsan::findings();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].test, "FsanTestRunner.FindingsNameTheTestTheyCameFrom");
  // Outside an FSAN_TEST, findings name no test.
  EXPECT_EQ(fsan::run([] { deadlocked_body(); }), 66);
  fs = fsan::findings();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].test, "");
}

void panicking_body() {
  auto ch = make_chan<int>();
  ch.close();
  ch.close();
}

TEST(FsanTestRunner, APanicFailsTheTest) {
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(fsan::testing::detail::run_test_body(&panicking_body),
                                         "close of closed channel");
}

void leaking_body() {
  auto never = make_chan<int>();
  for (int i = 0; i < 2; ++i) fsan::go_named("leaky-receiver", [never] { never.recv(); });
  EXPECT_FALSE(fsan::testing::expect_no_leaks());
}

fsan::Options quick_leak_options() {
  fsan::Options o;
  o.leak_grace_ms = 20;
  return o;
}

TEST(FsanTestRunner, ExpectNoLeaksReportsAFiberBlockedForeverOnceAndNamesIt) {
  // One failure: both leaked fibers wait in the same place, so they are one
  // finding, and FSAN_TEST's runner does not fail it a second time.
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(
      fsan::testing::detail::run_test_body(quick_leak_options(), &leaking_body),
      "\"leaky-receiver\" (and 1 more like it) still alive 20ms after expect_no_leaks() in test "
      "FsanTestRunner.ExpectNoLeaksReportsAFiberBlockedForeverOnceAndNamesIt");
  const auto fs = fsan::findings();
  ASSERT_EQ(fsan_test::count_kind(fs, fsan::FindingKind::fiber_leak), 1u) << fsan_test::describe(fs);
  const fsan::Finding& leak = *fsan_test::first_of_kind(fs, fsan::FindingKind::fiber_leak);
  ASSERT_EQ(leak.fibers.size(), 1u);
  const fsan::FiberInfo& fi = leak.fibers[0];
  EXPECT_EQ(fi.name, "leaky-receiver");
  EXPECT_EQ(fi.wait_reason, "chan receive");
  ASSERT_FALSE(fi.stack.empty());
  EXPECT_NE(fi.stack[0].file.find("testing_test.cpp"), std::string::npos) << fi.stack[0].function;
  ASSERT_FALSE(fi.created_at.empty());
  EXPECT_NE(fi.created_at[0].file.find("testing_test.cpp"), std::string::npos) << fi.created_at[0].function;
}

void leaking_at_run_end_body() {
  auto never = make_chan<int>();
  fsan::go_named("end-leaker", [never] { never.recv(); });
  fsan_test::wait_until_blocked("chan receive", 1);
}

TEST(FsanTestRunner, ALeakFoundAtRunEndFailsTheTestNamingIt) {
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(
      fsan::testing::detail::run_test_body(quick_leak_options(), &leaking_at_run_end_body),
      "\"end-leaker\" still alive 20ms after main returned in test "
      "FsanTestRunner.ALeakFoundAtRunEndFailsTheTestNamingIt");
  const auto fs = fsan::findings();
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fs[0].kind, fsan::FindingKind::fiber_leak);
  EXPECT_EQ(fs[0].test, "FsanTestRunner.ALeakFoundAtRunEndFailsTheTestNamingIt");
  ASSERT_EQ(fs[0].fibers.size(), 1u);
  EXPECT_EQ(fs[0].fibers[0].wait_reason, "chan receive");
}

void lost_cancel_body() { auto ctx = fsan::with_cancel(fsan::background()).first; }

TEST(FsanTestRunner, EveryFindingOfTheRunCarriesTheTestName) {
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(fsan::testing::detail::run_test_body(&lost_cancel_body),
                                         "(in test FsanTestRunner.EveryFindingOfTheRunCarriesTheTestName)");
  const auto fs = fsan::findings();
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fs[0].kind, fsan::FindingKind::lost_cancel);
  EXPECT_EQ(fs[0].test, "FsanTestRunner.EveryFindingOfTheRunCarriesTheTestName");
}

TEST(FsanTestRunner, APlainRunAfterAnFsanTestCarriesNoTestName) {
  fsan::run([] { auto ctx = fsan::with_cancel(fsan::background()).first; });
  const auto fs = fsan::findings();
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fs[0].test, "");
}

TEST(FsanTestRunner, ExpectNoLeaksOutsideARunFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(fsan::testing::expect_no_leaks(), "no fsan::run in progress");
}

// The child test binary: status and output of one of its tests.
struct ChildResult {
  int status = -1;
  std::string output;
};

ChildResult run_fixture(const std::string& filter) {
  std::string cmd = "FSAN_OPTIONS=leak_grace_ms=20 '" FSAN_TEST_FIXTURE "' --gtest_filter=" + filter + " 2>&1";
  ChildResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) r.output.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(FsanTestChild, CleanBodyPasses) {
  ChildResult r = run_fixture("FixtureClean.*");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("[  PASSED  ] 1 test"), std::string::npos) << r.output;
}

struct FailingCase {
  const char* test;
  const char* names;  // must appear in the failure
};

class FsanTestChildFails : public ::testing::TestWithParam<FailingCase> {};

TEST_P(FsanTestChildFails, TheTestFailsNamingTheFinding) {
  ChildResult r = run_fixture(std::string("FixtureFindings.") + GetParam().test);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(std::string("[  FAILED  ] FixtureFindings.") + GetParam().test), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(GetParam().names), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(
    Findings, FsanTestChildFails,
    ::testing::Values(
        FailingCase{"GlobalDeadlockFails", "fibersan: [global_deadlock] global deadlock fsan_test_fixture.cpp:"},
        FailingCase{"SendOnClosedChannelFails", "fibersan: [panic] panic: send on closed channel"},
        FailingCase{"ExceptionEscapingAFiberFails",
                    "fibersan: [panic] panic: exception escaped fiber 2: std::runtime_error: fixture boom "
                    "fsan_test_fixture.cpp:"},
        FailingCase{"LeakedFiberFails", "fibersan: [fiber_leak] fiber 2 \"fixture-leaker\" still alive"},
        FailingCase{"FiberLeakedAtRunEndFails",
                    "fibersan: [fiber_leak] fiber 2 \"end-leaker\" still alive 20ms after main returned in test "
                    "FixtureFindings.FiberLeakedAtRunEndFails"},
        FailingCase{"TickerNeverStoppedFails",
                    "fibersan: [timer_leak] timer leak: Ticker (period 1ms) created at fsan_test_fixture.cpp:"},
        FailingCase{"LostCancelFails", "(in test FixtureFindings.LostCancelFails)"}),
    [](const ::testing::TestParamInfo<FailingCase>& i) { return std::string(i.param.test); });

}  // namespace
