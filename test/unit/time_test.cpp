// Time (sleep_for, sleep_until, after), each rule under 1, 2 and 4 workers.
// Only lower bounds are asserted: a sleep or timer may end late on a loaded
// machine, never early. A sleeping fiber can still wake, so it is never part
// of a global deadlock.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using fsan::Clock;
using fsan::make_chan;
using fsan::recv_case;
using fsan::TimePoint;
using fsan::Unit;

class TimeTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, TimeTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

TEST_P(TimeTest, SleepForReturnsAfterAtLeastTheDuration) {
  std::vector<bool> late_enough;
  int rc = run([&] {
    for (fsan::Duration d : {fsan::Duration(0), fsan::Duration(1ms), fsan::Duration(20ms)}) {
      const TimePoint start = Clock::now();
      fsan::sleep_for(d);
      late_enough.push_back(Clock::now() >= start + d);
    }
    fsan::sleep_for(-5ms);  // a negative duration returns at once, like Go
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(late_enough, (std::vector<bool>{true, true, true}));
}

TEST_P(TimeTest, SleepUntilReturnsAtOrAfterTheTimePoint) {
  bool late_enough = false;
  bool past_returned = false;
  int rc = run([&] {
    const TimePoint t = Clock::now() + 20ms;
    fsan::sleep_until(t);
    late_enough = Clock::now() >= t;
    fsan::sleep_until(Clock::now() - 1s);
    past_returned = true;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(late_enough);
  EXPECT_TRUE(past_returned);
}

TEST_P(TimeTest, SleepInAChildFiberReturnsAfterAtLeastTheDuration) {
  bool late_enough = false;
  int rc = run([&] {
    auto done = make_chan<bool>();
    fsan::go([done] {
      const TimePoint start = Clock::now();
      fsan::sleep_for(15ms);
      done.send(Clock::now() >= start + 15ms);
    });
    late_enough = *done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(late_enough);
}

TEST_P(TimeTest, AfterDeliversExactlyOneValueNoEarlierThanTheDuration) {
  std::optional<TimePoint> stamp;
  TimePoint start;
  bool now_late_enough = false;
  std::size_t cap = 0;
  std::size_t second_choice = 99;
  int rc = run([&] {
    start = Clock::now();
    auto c = fsan::after(20ms);
    cap = c.cap();
    stamp = c.recv();
    now_late_enough = Clock::now() >= start + 20ms;
    // Not synchronisation: a wrong runtime that sends twice gets time to.
    fsan::sleep_for(30ms);
    second_choice = fsan::select(recv_case(c), fsan::default_case());
  });
  EXPECT_CLEAN_RUN(rc);
  ASSERT_TRUE(stamp.has_value());
  EXPECT_GE(*stamp, start + 20ms);
  EXPECT_TRUE(now_late_enough);
  EXPECT_EQ(cap, 1u);
  EXPECT_EQ(second_choice, 1u) << "after() delivered a second value";
}

TEST_P(TimeTest, AfterWithZeroDurationDelivers) {
  bool got = false;
  int rc = run([&] { got = fsan::after(0ms).recv().has_value(); });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(got);
}

TEST_P(TimeTest, SelectWithAfterPicksTheTimeoutWhenNothingElseIsReady) {
  std::size_t chosen = 99;
  TimePoint start;
  std::optional<TimePoint> stamp;
  int rc = run([&] {
    auto never = make_chan<int>();
    start = Clock::now();
    chosen =
        fsan::select(recv_case(never), recv_case(fsan::after(10ms), [&](std::optional<TimePoint> t) { stamp = t; }));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen, 1u);
  ASSERT_TRUE(stamp.has_value());
  EXPECT_GE(*stamp, start + 10ms);
}

// A timer still pending when main returns (time.After in a select that took
// another case) neither delays the end of the run nor is a finding.
TEST_P(TimeTest, SelectTakesAReadyCaseOverAPendingTimeout) {
  std::size_t chosen = 99;
  int rc = run([&] {
    auto ready = make_chan<int>(1);
    ready.send(1);
    chosen = fsan::select(recv_case(ready), recv_case(fsan::after(1h)));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen, 0u);
}

// A fiber starts to sleep while another fiber's timer is already due (main
// spins on the clock, without yielding, until it is): both wake. The spin
// only makes the overlap certain; nothing depends on how long it lasts.
TEST_P(TimeTest, SleepingWhileAnotherTimerIsAlreadyDueWorks) {
  bool child_woke = false, main_woke = false;
  int rc = run([&] {
    auto done = make_chan<Unit>(1);
    const TimePoint child_deadline = Clock::now() + 1ms;
    fsan::go([done, child_deadline] {
      fsan::sleep_until(child_deadline);
      done.send(Unit{});
    });
    while (Clock::now() < child_deadline + 2ms) {
    }
    fsan::sleep_for(1ms);
    main_woke = true;
    child_woke = done.recv().has_value();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(main_woke);
  EXPECT_TRUE(child_woke);
}

// The same with a channel: the after() timer is due before main blocks on it.
TEST_P(TimeTest, ReceivingFromAnAfterChannelThatIsAlreadyDueWorks) {
  bool got = false;
  int rc = run([&] {
    auto c = fsan::after(1ms);
    const TimePoint until = Clock::now() + 3ms;
    while (Clock::now() < until) {
    }
    got = c.recv().has_value();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(got);
}

TEST_P(TimeTest, ManySleepingFibersAllWake) {
  constexpr int kFibers = 1000;
  int woken = 0, early = 0;
  int rc = run([&] {
    auto done = make_chan<bool>();
    const TimePoint base = Clock::now();
    for (int i = 0; i < kFibers; ++i)
      fsan::go([done, base, i] {
        const TimePoint deadline = base + std::chrono::milliseconds(1 + i % 20);
        if (i % 2 == 0)
          fsan::sleep_until(deadline);
        else
          fsan::sleep_for(deadline - Clock::now());
        done.send(Clock::now() >= deadline);
      });
    for (int i = 0; i < kFibers; ++i) {
      ++woken;
      early += *done.recv() ? 0 : 1;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(woken, kFibers);
  EXPECT_EQ(early, 0);
}

TEST_P(TimeTest, ManyConcurrentAfterTimersAllFire) {
  constexpr int kTimers = 500;
  int fired = 0;
  int rc = run([&] {
    auto done = make_chan<Unit>();
    for (int i = 0; i < kTimers; ++i)
      fsan::go([done, i] {
        fsan::after(std::chrono::milliseconds(i % 10)).recv();
        done.send(Unit{});
      });
    for (int i = 0; i < kTimers; ++i) fired += done.recv().has_value() ? 1 : 0;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(fired, kTimers);
}

// Main waits on a channel only a sleeping fiber will send on: not a deadlock.
TEST_P(TimeTest, ASleepingFiberPreventsAGlobalDeadlockReport) {
  std::optional<int> got;
  int rc = run([&] {
    auto ch = make_chan<int>();
    fsan::go([ch] {
      fsan::sleep_for(50ms);
      ch.send(3);
    });
    got = ch.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 3);
}

// The other way round: main sleeps while every other fiber is blocked.
TEST_P(TimeTest, ASleepingMainPreventsAGlobalDeadlockReport) {
  std::optional<int> got;
  int rc = run([&] {
    auto ch = make_chan<int>();
    auto done = make_chan<Unit>();
    fsan::go([ch, done, &got] {
      got = ch.recv();
      done.send(Unit{});
    });
    fsan::sleep_for(50ms);
    ch.send(4);
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 4);
}

// A pending after() timer is a wake source too.
TEST_P(TimeTest, AFiberWaitingOnlyForATimerIsNotDeadlocked) {
  bool got = false;
  int rc = run([&] {
    auto never = make_chan<int>();
    auto timeout = fsan::after(30ms);
    fsan::select(recv_case(never), recv_case(timeout, [&] { got = true; }));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(got);
}

// Once the last sleeper exits without sending, main is stuck for good.
TEST_P(TimeTest, DeadlockIsReportedOnceTheLastSleeperExits) {
  int rc = run([&] {
    auto ch = make_chan<int>();
    fsan::go([] { fsan::sleep_for(20ms); });
    ch.recv();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << fsan_test::describe(fs);
  EXPECT_EQ(fsan_test::count_kind(fs, fsan::FindingKind::global_deadlock), 1u) << fsan_test::describe(fs);
}

}  // namespace
