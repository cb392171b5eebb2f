// Timer and Ticker (Go's time.Timer / time.Ticker, Go 1.23 stop/reset
// semantics: no stale value after stop() or reset()). "Nothing arrives" is
// proven by a select whose other case is a later after(); only lower bounds
// on time are asserted. Under 1, 2 and 4 workers.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using fsan::Chan;
using fsan::Clock;
using fsan::FindingKind;
using fsan::TimePoint;

class TimerTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, TimerTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// nothing_within: no value arrives on ch before `d` has passed.
bool nothing_within(const Chan<TimePoint>& ch, fsan::Duration d) {
  return fsan::select(fsan::recv_case(ch), fsan::recv_case(fsan::after(d))) == 1;
}

// wait_buffered: polls until a value sits in ch's buffer. It parks between
// polls: yield() alone does not let a lone worker fire due timers.
void wait_buffered(const Chan<TimePoint>& ch) {
  while (ch.len() == 0) fsan::sleep_for(50us);
}

TEST_P(TimerTest, TimerFiresOnceNoEarlierThanItsDuration) {
  bool late_enough = false, stamp_late_enough = false, only_once = false, stop_after_fire = true;
  std::size_t cap = 0;
  int rc = run([&] {
    const TimePoint start = Clock::now();
    fsan::Timer t(15ms);
    cap = t.c().cap();
    std::optional<TimePoint> v = t.c().recv();
    late_enough = Clock::now() >= start + 15ms;
    stamp_late_enough = v.has_value() && *v >= start + 15ms;
    only_once = nothing_within(t.c(), 20ms);
    stop_after_fire = t.stop();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(cap, 1u);
  EXPECT_TRUE(late_enough);
  EXPECT_TRUE(stamp_late_enough);
  EXPECT_TRUE(only_once);
  EXPECT_FALSE(stop_after_fire);
}

TEST_P(TimerTest, NonPositiveDurationFiresAtOnce) {
  int got = 0;
  int rc = run([&] {
    fsan::Timer a(0ms);
    fsan::Timer b(-1s);
    got += a.c().recv().has_value() ? 1 : 0;
    got += b.c().recv().has_value() ? 1 : 0;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 2);
}

TEST_P(TimerTest, StopBeforeFireReturnsTrueAndNothingArrives) {
  bool first = false, second = true, nothing = false;
  int rc = run([&] {
    fsan::Timer t(1h);
    first = t.stop();
    second = t.stop();
    nothing = nothing_within(t.c(), 10ms);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
  EXPECT_TRUE(nothing);
}

TEST_P(TimerTest, StopAfterFireButBeforeReceiveDrainsTheValue) {
  bool stopped = false, nothing = false;
  int rc = run([&] {
    fsan::Timer t(1ms);
    wait_buffered(t.c());  // fired, value buffered, not received
    stopped = t.stop();    // Go 1.23: true, and the value is gone
    nothing = nothing_within(t.c(), 10ms);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(nothing);
}

TEST_P(TimerTest, ResetReschedulesAPendingTimer) {
  bool was_active = false, late_enough = false, once = false;
  int rc = run([&] {
    fsan::Timer t(1h);
    const TimePoint start = Clock::now();
    was_active = t.reset(10ms);
    t.c().recv();
    late_enough = Clock::now() >= start + 10ms;
    once = nothing_within(t.c(), 15ms);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(was_active);
  EXPECT_TRUE(late_enough);
  EXPECT_TRUE(once);
}

TEST_P(TimerTest, ResetAfterTheValueWasReceivedReturnsFalseAndFiresAgain) {
  bool was_active = true, stopped_reset = true;
  int fired = 0;
  int rc = run([&] {
    fsan::Timer t(1ms);
    t.c().recv();
    ++fired;
    was_active = t.reset(2ms);
    t.c().recv();
    ++fired;
    t.stop();
    stopped_reset = t.reset(1ms);  // stopped: not active
    t.c().recv();
    ++fired;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(was_active);
  EXPECT_FALSE(stopped_reset);
  EXPECT_EQ(fired, 3);
}

TEST_P(TimerTest, ResetDropsAValueFromBeforeTheReset) {
  bool nothing_stale = false;
  int rc = run([&] {
    fsan::Timer t(1ms);
    wait_buffered(t.c());
    t.reset(1h);
    nothing_stale = nothing_within(t.c(), 10ms);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(nothing_stale);
}

TEST_P(TimerTest, StopRacingTheFireReturnsTrueUntilTheValueIsReceivedAndLeavesNothing) {
  int stale = 0, not_stopped = 0;
  int rc = run([&] {
    for (int i = 0; i < 300; ++i) {
      fsan::Timer t(std::chrono::microseconds(i % 20));
      fsan_test::yield_n(i % 3);
      // Whether or not it fired already, nobody received the value: stop()
      // takes it back (Go 1.23), so it is true and the channel stays empty.
      if (!t.stop()) ++not_stopped;
      if (fsan::select(fsan::recv_case(t.c()), fsan::default_case()) == 0) ++stale;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(not_stopped, 0);
  EXPECT_EQ(stale, 0);
}

TEST_P(TimerTest, TickerDeliversTicksOnItsPeriodThenStopEndsThem) {
  std::vector<TimePoint> ticks;
  TimePoint start;
  bool nothing_after_stop = false;
  int rc = run([&] {
    start = Clock::now();
    fsan::Ticker t(2ms);
    for (int i = 0; i < 5; ++i) ticks.push_back(*t.c().recv());
    t.stop();
    nothing_after_stop = nothing_within(t.c(), 20ms);
  });
  EXPECT_CLEAN_RUN(rc);
  ASSERT_EQ(ticks.size(), 5u);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    EXPECT_GE(ticks[i], start + 2ms * static_cast<int>(i + 1)) << "tick " << i;
    if (i > 0) {
      EXPECT_GT(ticks[i], ticks[i - 1]);
    }
  }
  EXPECT_TRUE(nothing_after_stop);
}

TEST_P(TimerTest, TickerDropsTicksForASlowReader) {
  std::size_t len = 99;
  int got = 0;
  int rc = run([&] {
    fsan::Ticker t(1ms);
    fsan::sleep_for(20ms);  // about 20 ticks are due; the channel holds one
    len = t.c().len();
    for (int i = 0; i < 3; ++i) got += t.c().recv().has_value() ? 1 : 0;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_LE(len, 1u);
  EXPECT_EQ(got, 3);
}

TEST_P(TimerTest, TickerResetChangesThePeriod) {
  int got = 0;
  bool late_enough = false;
  int rc = run([&] {
    fsan::Ticker t(1h);
    const TimePoint start = Clock::now();
    t.reset(3ms);
    for (int i = 0; i < 3; ++i) got += t.c().recv().has_value() ? 1 : 0;
    late_enough = Clock::now() >= start + 9ms;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 3);
  EXPECT_TRUE(late_enough);
}

TEST_P(TimerTest, NonPositiveTickerIntervalPanics) {
  int rc = run([] { fsan::Ticker t(0ms); });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << fsan_test::describe(fs);
  ASSERT_EQ(fsan_test::count_kind(fs, FindingKind::panic), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fsan_test::first_of_kind(fs, FindingKind::panic)->message, "non-positive interval for NewTicker");
}

TEST_P(TimerTest, NonPositiveTickerResetPanics) {
  int rc = run([] {
    fsan::Ticker t(1h);
    t.reset(-1ms);
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << fsan_test::describe(fs);
  ASSERT_EQ(fsan_test::count_kind(fs, FindingKind::panic), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fsan_test::first_of_kind(fs, FindingKind::panic)->message, "non-positive interval for Ticker.Reset");
}

TEST_P(TimerTest, DestroyingTimersAndTickersWhileTheyFireIsSafe) {
  constexpr int kFibers = 8, kRounds = 500;
  int rc = run([&] {
    auto done = fsan::make_chan<fsan::Unit>(kFibers);
    for (int f = 0; f < kFibers; ++f)
      fsan::go([done, f] {
        for (int i = 0; i < kRounds; ++i) {
          { fsan::Timer t(std::chrono::nanoseconds((i + f) % 4 * 500)); }
          { fsan::Ticker k(std::chrono::nanoseconds(1 + (i + f) % 3 * 500)); }
          if (i % 3 == 0) fsan::yield();
        }
        done.send(fsan::Unit{});
      });
    for (int f = 0; f < kFibers; ++f) done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(TimerTest, ATimerWhoseChannelIsStillHeldKeepsRunningAfterTheHandleDies) {
  bool got = false;
  int rc = run([&] {
    Chan<TimePoint> c = fsan::Timer(2ms).c();  // like Go's time.After
    got = c.recv().has_value();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(got);
}

TEST_P(TimerTest, MovedTimersAndTickersKeepWorking) {
  int got = 0;
  int rc = run([&] {
    fsan::Timer a(1ms);
    fsan::Timer b = std::move(a);
    got += b.c().recv().has_value() ? 1 : 0;
    fsan::Ticker t(1ms);
    fsan::Ticker u(1h);
    u = std::move(t);
    got += u.c().recv().has_value() ? 1 : 0;
    u.stop();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 2);
}

TEST_P(TimerTest, TimersPendingWhenTheRunEndsAreDropped) {
  std::optional<fsan::Timer> timer;
  std::optional<fsan::Ticker> ticker;
  int rc = run([&] {
    timer.emplace(1h);
    ticker.emplace(1h);
    for (int i = 0; i < 100; ++i) fsan::Timer(1h).c();  // handles gone at once: stopped
    // The handle dies while a copy of its channel lives: it keeps running
    // (and stays pending in the heap once the copy is gone too).
    Chan<TimePoint> c = fsan::Timer(1h).c();
  });
  // Pending Timers are no finding (as in Go); the Ticker still ticking at the
  // end is a timer_leak.
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fs[0].kind, FindingKind::timer_leak);
  EXPECT_FALSE(timer->stop());  // the run dropped it: no longer armed
  ticker->stop();
  timer.reset();
  ticker.reset();
}

TEST(TimerOutsideRun, ATimerMadeOutsideARunNeverFires) {
  fsan::Timer t(0ms);
  EXPECT_EQ(t.c().len(), 0u);
  EXPECT_FALSE(t.stop());
}

}  // namespace
