// The leak tracker (runtime/leak/, SEMANTICS.md "Findings"): at run end,
// fibers still alive after the grace period are fiber_leak findings (Go-style
// header, the line they block on, where they were made; identical ones
// grouped), Tickers still ticking are timer_leak; at any time, the last copy
// of a CancelFunc dropped uncalled while its context is live is lost_cancel.
// Each rule has its clean counterpart reporting nothing. Fibers are made to
// block before main returns by waiting for them (events, not time); the only
// timing involved is the detector's own grace period. Under 1, 2 and 4
// workers.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#if defined(__clang__)
// One test leaves a mutex locked by a fiber that leaks on purpose.
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif
#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"
#include "report/report.hpp"

namespace {

using namespace std::chrono_literals;
using fsan::FindingKind;
using fsan::make_chan;
using fsan::Unit;

class LeakTest : public fsan_test::WorkersTest {
 protected:
  // quick: a short grace period; every leak here is blocked for good
  // before main returns, so the grace only bounds the wait.
  fsan::Options quick() const {
    fsan::Options o = options();
    o.leak_grace_ms = 20;
    return o;
  }
};
INSTANTIATE_TEST_SUITE_P(Workers, LeakTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

std::vector<fsan::Finding> of_kind(const std::vector<fsan::Finding>& fs, FindingKind k) {
  std::vector<fsan::Finding> out;
  for (const auto& f : fs)
    if (f.kind == k) out.push_back(f);
  return out;
}

// first_line_in_this_file: the line of the first frame of `st` in this file.
int first_line_in_this_file(const std::vector<fsan::Frame>& st) {
  for (const auto& fr : st)
    if (fr.file.find("leak_test.cpp") != std::string::npos) return fr.line;
  return 0;
}

// ---------------------------------------------------------------------------
// fiber_leak at run end

TEST_P(LeakTest, FiberBlockedForeverWhenMainReturnsIsAFiberLeak) {
  int send_line = 0;
  int go_line = 0;
  int rc = run(quick(), [&] {
    auto ch = make_chan<int>();
    send_line = go_line = __LINE__ + 1;
    fsan::go_named("sender", [ch] { ch.send(1); });
    fsan_test::wait_until_blocked("chan send", 1);
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << fsan_test::describe(fs);
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  const fsan::Finding& f = fs[0];
  EXPECT_EQ(f.kind, FindingKind::fiber_leak);
  ASSERT_EQ(f.fibers.size(), 1u);
  const fsan::FiberInfo& fi = f.fibers[0];
  EXPECT_EQ(fi.name, "sender");
  EXPECT_EQ(fi.wait_reason, "chan send");
  EXPECT_EQ(fi.state, "waiting");
  EXPECT_EQ(first_line_in_this_file(fi.stack), send_line);
  EXPECT_EQ(first_line_in_this_file(fi.created_at), go_line);
  EXPECT_EQ(fi.parent_id, 1u);
  EXPECT_NE(f.message.find("fiber " + std::to_string(fi.id) + " \"sender\" still alive 20ms after main returned"),
            std::string::npos)
      << f.message;
  // Go's goroutine header, then the stack, then where it was made.
  const std::string text = fsan::detail::format_text(f);
  EXPECT_NE(text.find("fiber " + std::to_string(fi.id) + " \"sender\" [chan send"), std::string::npos) << text;
  EXPECT_NE(text.find("created by fiber 1 at:"), std::string::npos) << text;
  EXPECT_NE(text.find("leak_test.cpp:" + std::to_string(send_line)), std::string::npos) << text;
}

TEST_P(LeakTest, FibersThatFinishDuringTheGracePeriodAreNoLeak) {
  int rc = run([&] {
    auto release = make_chan<Unit>();
    for (int i = 0; i < 8; ++i)
      fsan::go([release] {
        release.recv();
        fsan::sleep_for(2ms);  // still alive when main returns
      });
    release.close();
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(LeakTest, TheGraceWaitEndsWhenTheLastFiberExitsNotWhenItExpires) {
  // A grace period far beyond ctest's timeout: the run can end in time only
  // if the last exit wakes the waiting main fiber.
  fsan::Options o = options();
  o.leak_grace_ms = 3'600'000;
  int rc = run(o, [&] {
    auto go_on = make_chan<Unit>(4);
    for (int i = 0; i < 4; ++i)
      fsan::go([go_on] {
        go_on.recv();
        for (int k = 0; k < 50; ++k) fsan::yield();
      });
    for (int i = 0; i < 4; ++i) go_on.send(Unit{});
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(LeakTest, IdenticalLeaksAreOneFindingCountingTheOthers) {
  int rc = run(quick(), [&] {
    auto never = make_chan<int>();
    for (int i = 0; i < 5; ++i) fsan::go_named("pool-worker", [never] { never.recv(); });
    auto other = make_chan<int>();
    fsan::go_named("lonely", [other] { other.send(1); });
    fsan_test::wait_until_blocked("chan receive", 5);
    fsan_test::wait_until_blocked("chan send", 1);
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  auto leaks = of_kind(fs, FindingKind::fiber_leak);
  ASSERT_EQ(leaks.size(), 2u) << fsan_test::describe(fs);
  EXPECT_EQ(fs.size(), 2u) << fsan_test::describe(fs);
  std::size_t pooled = 0, single = 0;
  for (const auto& f : leaks) {
    ASSERT_EQ(f.fibers.size(), 1u);
    if (f.fibers[0].name == "pool-worker") {
      ++pooled;
      EXPECT_NE(f.message.find("(and 4 more like it)"), std::string::npos) << f.message;
    } else {
      ++single;
      EXPECT_EQ(f.fibers[0].name, "lonely");
      EXPECT_EQ(f.message.find("more like it"), std::string::npos) << f.message;
    }
  }
  EXPECT_EQ(pooled, 1u);
  EXPECT_EQ(single, 1u);
}

TEST_P(LeakTest, LeaksBlockedOnDifferentLinesAreSeparateFindings) {
  int rc = run(quick(), [&] {
    auto never = make_chan<int>();
    fsan::go([never] { never.recv(); });
    fsan::go([never] {
      fsan::yield();
      never.recv();
    });
    fsan_test::wait_until_blocked("chan receive", 2);
  });
  EXPECT_EQ(rc, 66);
  EXPECT_EQ(of_kind(fsan::findings(), FindingKind::fiber_leak).size(), 2u) << fsan_test::describe(fsan::findings());
}

TEST_P(LeakTest, AFiberLoopingWithSleepIsALeakSeenAsleep) {
  int sleep_line = 0;
  int rc = run(quick(), [&] {
    auto started = make_chan<Unit>(1);
    fsan::go_named("poller", [started, &sleep_line] {
      started.send(Unit{});
      for (;;) {
        sleep_line = __LINE__ + 1;
        fsan::sleep_for(1ms);
      }
    });
    started.recv();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fs[0].kind, FindingKind::fiber_leak);
  ASSERT_EQ(fs[0].fibers.size(), 1u);
  EXPECT_EQ(fs[0].fibers[0].name, "poller");
  EXPECT_EQ(fs[0].fibers[0].state, "sleeping");
  EXPECT_EQ(fs[0].fibers[0].wait_reason, "sleep");
  EXPECT_EQ(first_line_in_this_file(fs[0].fibers[0].stack), sleep_line);
}

TEST_P(LeakTest, LeaksOfEveryKindOfWaitAreAbandonedAndTheNextRunIsClean) {
  auto leaky = [] {
    auto* held = new fsan::Mutex();  // stays locked by a leaked fiber: never freed
    auto never = make_chan<int>();
    auto locked = make_chan<Unit>(1);
    fsan::go([never] { never.recv(); });
    fsan::go([never] { never.send(1); });
    fsan::go([never] { fsan::select(fsan::recv_case(never), fsan::send_case(never, 2)); });
    fsan::go([] { fsan::select(); });
    fsan::go([locked, held] {
      held->lock();
      locked.send(Unit{});
      fsan::select();
    });
    locked.recv();
    fsan::go([held] { held->lock(); });
    fsan::go([] {
      fsan::WaitGroup wg;
      wg.add(1);
      wg.wait();
    });
    fsan::go([] {
      fsan::Ticker t(1ms);
      for (;;) t.c().recv();
    });
    fsan::go([] { fsan::sleep_for(1h); });
    auto* cond_mu = new fsan::Mutex();
    auto* cond = new fsan::Cond(*cond_mu);
    fsan::go([cond_mu, cond] {
      cond_mu->lock();
      cond->wait();  // nobody signals
    });
    auto* rw = new fsan::RWMutex();
    rw->lock_shared();
    fsan::go([rw] { rw->lock(); });  // waits for a reader that never leaves
    fsan::go([] {
      fsan::Group g;
      g.set_limit(1);
      auto never = make_chan<int>();
      g.go([never] { never.recv(); });
      g.go([] {});  // blocks at the limit
    });
    fsan_test::wait_until_blocked("sync.Cond.Wait", 1);
    fsan_test::wait_until_blocked("sync.RWMutex.Lock", 1);
    fsan_test::wait_until_blocked("errgroup.Group.Go (limit)", 1);
    fsan_test::wait_until_blocked("sync.WaitGroup.Wait", 1);
    fsan_test::wait_until_blocked("sync.Mutex.Lock", 1);
  };
  int rc = run(quick(), leaky);
  EXPECT_EQ(rc, 66);
  EXPECT_FALSE(of_kind(fsan::findings(), FindingKind::fiber_leak).empty());
  EXPECT_EQ(fsan::num_fibers(), 0u);
  // The abandoned fibers, timers and waits do not reach into later runs.
  for (int i = 0; i < 2; ++i) {
    int sum = 0;
    int rc2 = run([&] {
      auto ch = make_chan<int>();
      for (int k = 1; k <= 10; ++k) fsan::go([ch, k] { ch.send(k); });
      for (int k = 0; k < 10; ++k) sum += *ch.recv();
      fsan::sleep_for(2ms);  // timers work
    });
    EXPECT_CLEAN_RUN(rc2);
    EXPECT_EQ(sum, 55);
  }
}

TEST_P(LeakTest, DetectLeaksOffReportsNothingAndReturnsAtOnce) {
  fsan::Options o = options();
  o.detect_leaks = false;
  o.leak_grace_ms = 3'600'000;
  int rc = run(o, [&] {
    auto never = make_chan<int>();
    fsan::go([never] { never.recv(); });
    auto t = new fsan::Ticker(1ms);
    (void)t;  // never stopped, never freed: a leak nobody asked about
    auto [ctx, cancel] = fsan::with_cancel(fsan::background());
    (void)ctx;
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(LeakTest, APanicEndsTheRunWithoutALeakCheck) {
  int rc = run(quick(), [&] {
    auto never = make_chan<int>();
    fsan::go([never] { never.recv(); });
    fsan_test::wait_until_blocked("chan receive", 1);
    auto closed = make_chan<int>();
    closed.close();
    closed.close();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fs[0].kind, FindingKind::panic);
}

// ---------------------------------------------------------------------------
// timer_leak

TEST_P(LeakTest, ATickerNeverStoppedIsATimerLeakNamingWhereItWasMade) {
  int made_line = 0;
  int rc = run(quick(), [&] {
    made_line = __LINE__ + 1;
    auto* forgotten = new fsan::Ticker(5ms);
    forgotten->c().recv();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  const fsan::Finding& f = fs[0];
  EXPECT_EQ(f.kind, FindingKind::timer_leak);
  EXPECT_NE(f.message.find("Ticker (period 5ms)"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("never stopped"), std::string::npos) << f.message;
  ASSERT_TRUE(f.location.has_value());
  EXPECT_EQ(f.location->kind, "ticker");
  EXPECT_EQ(f.location->alloc_fiber, 1u);
  EXPECT_EQ(first_line_in_this_file(f.location->alloc_stack), made_line);
  EXPECT_NE(f.summary.find("leak_test.cpp:" + std::to_string(made_line)), std::string::npos) << f.summary;
  const std::string text = fsan::detail::format_text(f);
  EXPECT_NE(text.find("Ticker (period 5ms) made by fiber 1 at:"), std::string::npos) << text;
}

TEST_P(LeakTest, AStoppedOrDestroyedTickerAndAPendingTimerAreNoLeak) {
  int rc = run([&] {
    fsan::Ticker stopped(1ms);
    stopped.c().recv();
    stopped.stop();
    {
      fsan::Ticker scoped(1ms);
      scoped.c().recv();
    }  // destroyed with no other copy of its channel: stopped
    auto* reset_then_stopped = new fsan::Ticker(1ms);
    reset_then_stopped->reset(2ms);
    reset_then_stopped->stop();
    delete reset_then_stopped;
    static fsan::Timer pending(1h);  // Go does not flag a pending one-shot timer
    (void)pending;
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(LeakTest, ATickerDestroyedWhileItsChannelIsHeldIsALeakOnlyIfTheChannelOutlivesIt) {
  // Destroyed while a worker still holds its channel: it keeps ticking; the
  // worker then exits, and with it the last way to receive: not a leak.
  int rc = run([&] {
    auto done = make_chan<Unit>();
    auto exited = make_chan<Unit>();
    {
      fsan::Ticker t(1ms);
      fsan::go([c = t.c(), done, exited] {
        for (bool on = true; on;) fsan::select(fsan::recv_case(c), fsan::recv_case(done, [&](auto) { on = false; }));
        exited.close();
      });
      t.c().recv();
    }
    done.close();
    exited.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  // The same with a worker that never exits: it could still receive ticks.
  int made_line = 0;
  rc = run(quick(), [&] {
    auto ready = make_chan<Unit>(1);
    {
      made_line = __LINE__ + 1;
      fsan::Ticker t(1ms);
      fsan::go([c = t.c(), ready] {
        ready.send(Unit{});
        for (;;) c.recv();
      });
      ready.recv();
    }
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  EXPECT_EQ(of_kind(fs, FindingKind::fiber_leak).size(), 1u) << fsan_test::describe(fs);
  auto tl = of_kind(fs, FindingKind::timer_leak);
  ASSERT_EQ(tl.size(), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(first_line_in_this_file(tl[0].location->alloc_stack), made_line);
}

TEST_P(LeakTest, TickersMadeAtOnePlaceAreOneTimerLeak) {
  int rc = run(quick(), [&] {
    for (int i = 0; i < 5; ++i) (void)new fsan::Ticker(1h);  // leaked, never stopped
    (void)new fsan::Ticker(2h);
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  auto tl = of_kind(fs, FindingKind::timer_leak);
  ASSERT_EQ(tl.size(), 2u) << fsan_test::describe(fs);
  EXPECT_EQ(fs.size(), 2u) << fsan_test::describe(fs);
  std::size_t grouped = 0;
  for (const auto& f : tl) grouped += f.message.find("(and 4 more like it)") != std::string::npos ? 1 : 0;
  EXPECT_EQ(grouped, 1u) << tl[0].message << "\n" << tl[1].message;
}

TEST_P(LeakTest, ATickerOfALeakedFiberIsBothLeaks) {
  int rc = run(quick(), [&] {
    auto ready = make_chan<Unit>(1);
    fsan::go_named("ticking", [ready] {
      fsan::Ticker t(1ms);
      ready.send(Unit{});
      for (;;) t.c().recv();
    });
    ready.recv();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  EXPECT_EQ(of_kind(fs, FindingKind::fiber_leak).size(), 1u) << fsan_test::describe(fs);
  auto tl = of_kind(fs, FindingKind::timer_leak);
  ASSERT_EQ(tl.size(), 1u) << fsan_test::describe(fs);
  EXPECT_NE(tl[0].location->alloc_fiber, 1u);
}

// ---------------------------------------------------------------------------
// lost_cancel

TEST_P(LeakTest, ACancelFuncDroppedUncalledWhileItsContextIsLiveIsALostCancel) {
  int made_line = 0;
  int rc = run(quick(), [&] {
    {
      made_line = __LINE__ + 1;
      auto [ctx, cancel] = fsan::with_cancel(fsan::background());
      EXPECT_EQ(ctx.err(), fsan::CtxError::none);
    }  // cancel dropped: the context stays live for nothing
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  const fsan::Finding& f = fs[0];
  EXPECT_EQ(f.kind, FindingKind::lost_cancel);
  EXPECT_NE(f.message.find("with_cancel at leak_test.cpp:" + std::to_string(made_line)), std::string::npos)
      << f.message;
  ASSERT_TRUE(f.location.has_value());
  EXPECT_EQ(f.location->kind, "context");
  EXPECT_EQ(first_line_in_this_file(f.location->alloc_stack), made_line);
  ASSERT_EQ(f.fibers.size(), 1u);
  EXPECT_EQ(f.fibers[0].id, 1u);
  EXPECT_GT(first_line_in_this_file(f.fibers[0].stack), made_line);  // where the last copy died
}

TEST_P(LeakTest, LostCancelNamesWithTimeoutAndOneFindingPerSite) {
  int rc = run(quick(), [&] {
    for (int i = 0; i < 3; ++i) {
      auto ctx = fsan::with_timeout(fsan::background(), 1h).first;  // Go's `ctx, _ := WithTimeout(...)`
      EXPECT_EQ(ctx.err(), fsan::CtxError::none);
    }
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66);
  ASSERT_EQ(fs.size(), 1u) << fsan_test::describe(fs);
  EXPECT_EQ(fs[0].kind, FindingKind::lost_cancel);
  EXPECT_NE(fs[0].message.find("made by with_timeout"), std::string::npos) << fs[0].message;
}

TEST_P(LeakTest, NoLostCancelWhenCalledByACopyOrEndedByParentOrDeadline) {
  int rc = run([&] {
    {
      auto [ctx, cancel] = fsan::with_cancel(fsan::background());
      cancel();
    }
    {
      auto [ctx, cancel] = fsan::with_cancel(fsan::background());
      fsan::CancelFunc copy = cancel;
      auto done = make_chan<Unit>();
      fsan::go([copy, done] {
        copy();
        done.send(Unit{});
      });
      done.recv();
    }
    {
      auto [parent, cancel_parent] = fsan::with_cancel(fsan::background());
      {
        auto [child, cancel_child] = fsan::with_cancel(parent);
        cancel_parent();
        child.done().recv();
      }  // the child's cancel is dropped after its parent ended it
    }
    {
      auto [ctx, cancel] = fsan::with_timeout(fsan::background(), 1ms);
      ctx.done().recv();
    }  // dropped after the deadline fired
    {
      auto [ctx, cancel] = fsan::with_deadline(fsan::background(), fsan::Clock::now() - 1s);
    }  // born ended
    {
      auto [ctx, cancel] = fsan::with_cancel(fsan::background());
      fsan::CancelFunc moved = std::move(cancel);
      fsan::go([moved = std::move(moved)] { moved(); });
    }
    fsan::Group g(fsan::background());  // its own cancel is the group's business
    g.go([] {});
    g.wait();
  });
  EXPECT_CLEAN_RUN(rc);
}

}  // namespace
