// The leak tracker and the wait-for graph together: fibers already reported
// in a partial_deadlock are not reported again as leaks at run end (nor by
// expect_no_leaks) — the leak finding names the deadlock instead — and the
// run does not wait the grace period for them (they can never exit). The
// wait-for graph is on only in sanitizer builds: __fsan_init() turns it on
// here (each test runs in its own process under ctest).
#if defined(__clang__)
// These tests deadlock on purpose; the static analysis rightly objects.
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"
#include "race/race_abi.h"

namespace {

using fsan::FindingKind;

class LeakDeadlockTest : public fsan_test::WorkersTest {
 protected:
  void SetUp() override { __fsan_init(); }
};
INSTANTIATE_TEST_SUITE_P(Workers, LeakDeadlockTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

std::vector<fsan::Finding> of_kind(const std::vector<fsan::Finding>& fs, FindingKind k) {
  std::vector<fsan::Finding> out;
  for (const auto& f : fs)
    if (f.kind == k) out.push_back(f);
  return out;
}

// ab_ba: two fibers deadlock on two mutexes (a partial deadlock while main
// runs); returns once it has been reported.
void ab_ba(fsan::Mutex* a, fsan::Mutex* b) {
  auto held = fsan::make_chan<int>(2);
  auto go_on = fsan::make_chan<int>(2);
  fsan::go([=] {
    a->lock();
    held.send(1);
    go_on.recv();
    b->lock();
  });
  fsan::go([=] {
    b->lock();
    held.send(1);
    go_on.recv();
    a->lock();
  });
  held.recv();
  held.recv();
  go_on.send(1);
  go_on.send(1);
  while (of_kind(fsan::findings(), FindingKind::partial_deadlock).empty())
    fsan::sleep_for(std::chrono::milliseconds(1));
}

TEST_P(LeakDeadlockTest, DeadlockedFibersAreNotLeaksAgainNorWaitedFor) {
  // A grace period far beyond ctest's timeout: the run ends in time only if
  // the check does not wait for fibers that can never exit.
  fsan::Options o = options();
  o.leak_grace_ms = 3'600'000;
  int rc = run(o, [] { ab_ba(new fsan::Mutex(), new fsan::Mutex()); });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  EXPECT_EQ(of_kind(fs, FindingKind::partial_deadlock).size(), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
}

TEST_P(LeakDeadlockTest, AnotherLeakNamesTheDeadlockInsteadOfRepeatingItsFibers) {
  fsan::Options o = options();
  o.leak_grace_ms = 20;
  std::uint64_t leaker = 0;
  int rc = run(o, [&] {
    ab_ba(new fsan::Mutex(), new fsan::Mutex());
    auto never = fsan::make_chan<int>();
    fsan::go([never, &leaker] {
      leaker = fsan::fiber_id();
      never.recv();
    });
    fsan_test::wait_until_blocked("chan receive", 1);
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  auto pd = of_kind(fs, FindingKind::partial_deadlock);
  auto leaks = of_kind(fs, FindingKind::fiber_leak);
  ASSERT_EQ(pd.size(), 1u) << fsan_test::describe(fs);
  ASSERT_EQ(leaks.size(), 1u) << fsan_test::describe(fs);
  ASSERT_EQ(leaks[0].fibers.size(), 1u);
  EXPECT_EQ(leaks[0].fibers[0].id, leaker);
  EXPECT_EQ(leaks[0].fibers[0].wait_reason, "chan receive");
  EXPECT_NE(leaks[0].message.find("2 fibers already reported in " + pd[0].id), std::string::npos)
      << leaks[0].message;
}

TEST_P(LeakDeadlockTest, TheWaitEndsWhenOnlyDeadlockedFibersAreLeft) {
  fsan::Options o = options();
  o.leak_grace_ms = 3'600'000;
  int rc = run(o, [] {
    ab_ba(new fsan::Mutex(), new fsan::Mutex());
    auto go_on = fsan::make_chan<int>();
    fsan::go([go_on] {
      go_on.recv();
      fsan::yield();
    });
    go_on.send(1);  // it exits after main returned
  });
  EXPECT_EQ(rc, 66);
  EXPECT_EQ(fsan::findings().size(), 1u) << fsan_test::describe(fsan::findings());
}

}  // namespace
