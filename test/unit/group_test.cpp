// Group (Go's errgroup): wait() waits for every task and rethrows the first
// failure; the group's context ends on the first failure and when wait()
// returns; set_limit bounds the tasks running at once. Under 1, 2 and 4
// workers.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using fsan::CtxError;
using fsan::FindingKind;
using fsan::Unit;

class GroupTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, GroupTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// max_tracker: counts tasks inside a section and remembers the most at once.
struct MaxTracker {
  std::atomic<int> now{0};
  std::atomic<int> max{0};
  void enter() {
    int n = now.fetch_add(1) + 1;
    int m = max.load();
    while (n > m && !max.compare_exchange_weak(m, n)) {
    }
  }
  void leave() { now.fetch_sub(1); }
};

TEST_P(GroupTest, WaitReturnsAfterEveryTask) {
  constexpr int kTasks = 100;
  std::atomic<int> finished{0};
  int seen_at_wait = -1;
  int rc = run([&] {
    fsan::Group g;
    for (int i = 0; i < kTasks; ++i)
      g.go([&finished, i] {
        fsan_test::yield_n(i % 5);
        finished.fetch_add(1);
      });
    g.wait();
    seen_at_wait = finished.load();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(seen_at_wait, kTasks);
}

TEST_P(GroupTest, WaitWithNoTasksReturnsAtOnce) {
  bool returned = false;
  int rc = run([&] {
    fsan::Group g;
    g.wait();
    returned = true;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(returned);
}

TEST_P(GroupTest, FirstFailureIsRethrownAndCancelsTheContext) {
  std::string what;
  CtxError ctx_err = CtxError::none;
  std::atomic<int> saw_cancel{0};
  int rc = run([&] {
    auto [parent, cancel_parent] = fsan::with_cancel(fsan::background());
    fsan::Group g(parent);
    fsan::Context ctx = g.context();
    for (int i = 0; i < 5; ++i)
      g.go([ctx, &saw_cancel] {
        ctx.done().recv();  // ends only because a sibling failed
        if (ctx.err() == CtxError::canceled) saw_cancel.fetch_add(1);
      });
    g.go([] { throw std::runtime_error("first"); });
    // Fails only after the first failure cancelled the context: never first.
    g.go([ctx] {
      ctx.done().recv();
      throw std::runtime_error("second");
    });
    try {
      g.wait();
    } catch (const std::runtime_error& e) {
      what = e.what();
    }
    ctx_err = g.context().err();
    if (parent.err() != CtxError::none) what += " (parent cancelled!)";
    cancel_parent();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(what, "first");
  EXPECT_EQ(ctx_err, CtxError::canceled);
  EXPECT_EQ(saw_cancel.load(), 5);
}

TEST_P(GroupTest, ContextIsCancelledWhenWaitReturnsWithoutFailure) {
  CtxError during = CtxError::canceled, after = CtxError::none;
  int rc = run([&] {
    fsan::Group g(fsan::background());
    auto result = fsan::make_chan<CtxError>(1);
    g.go([&g, result] { result.send(g.context().err()); });
    g.wait();
    during = *result.recv();
    after = g.context().err();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(during, CtxError::none);
  EXPECT_EQ(after, CtxError::canceled);
}

TEST_P(GroupTest, ParentCancelReachesTheGroupsContext) {
  CtxError err = CtxError::none;
  int rc = run([&] {
    auto [parent, cancel] = fsan::with_cancel(fsan::background());
    fsan::Group g(parent);
    g.go([ctx = g.context()] { ctx.done().recv(); });
    cancel();
    g.wait();
    err = g.context().err();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(err, CtxError::canceled);
}

TEST_P(GroupTest, WithoutAContextFailuresAreStillRethrown) {
  bool bg = false;
  std::string what;
  int rc = run([&] {
    fsan::Group g;
    bg = g.context() == fsan::background() && g.context().done().is_nil();
    g.go([] {});
    g.go([] { throw std::logic_error("boom"); });
    try {
      g.wait();
    } catch (const std::logic_error& e) {
      what = e.what();
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(bg);
  EXPECT_EQ(what, "boom");
}

TEST_P(GroupTest, WaitRethrowsTheSameFailureEveryTime) {
  int caught = 0;
  int rc = run([&] {
    fsan::Group g;
    g.go([] { throw 7; });
    for (int i = 0; i < 2; ++i) {
      try {
        g.wait();
      } catch (int v) {
        caught += v == 7 ? 1 : 0;
      }
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(caught, 2);
}

TEST_P(GroupTest, LimitOneNeverRunsTwoTasksAtOnce) {
  MaxTracker t;
  std::atomic<int> ran{0};
  int rc = run([&] {
    fsan::Group g;
    g.set_limit(1);
    for (int i = 0; i < 30; ++i)
      g.go([&] {
        t.enter();
        fsan_test::yield_n(3);
        ran.fetch_add(1);
        t.leave();
      });
    g.wait();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(ran.load(), 30);
  EXPECT_EQ(t.max.load(), 1);
}

TEST_P(GroupTest, LimitBoundsConcurrencyFromSeveralSpawners) {
  MaxTracker t;
  std::atomic<int> ran{0};
  int rc = run([&] {
    fsan::Group g;
    g.set_limit(3);
    auto spawned = fsan::make_chan<Unit>(4);
    for (int s = 0; s < 4; ++s)
      fsan::go([&, spawned] {
        for (int i = 0; i < 10; ++i)
          g.go([&] {
            t.enter();
            fsan_test::yield_n(2);
            ran.fetch_add(1);
            t.leave();
          });
        spawned.send(Unit{});
      });
    for (int s = 0; s < 4; ++s) spawned.recv();
    g.wait();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(ran.load(), 40);
  EXPECT_LE(t.max.load(), 3);
  EXPECT_GE(t.max.load(), 1);
}

TEST_P(GroupTest, GoBlocksAtTheLimitUntilATaskEnds) {
  bool second_started_early = true;
  int rc = run([&] {
    fsan::Group g;
    g.set_limit(1);
    auto release = fsan::make_chan<Unit>();
    std::atomic<bool> second_started{false};
    g.go([release] { release.recv(); });
    auto spawner_done = fsan::make_chan<Unit>(1);
    fsan::go([&, spawner_done] {
      g.go([&] { second_started = true; });
      spawner_done.send(Unit{});
    });
    fsan_test::wait_until_blocked("errgroup.Group.Go (limit)", 1);
    second_started_early = second_started.load();
    EXPECT_FALSE(g.try_go([] {}));
    release.send(Unit{});
    spawner_done.recv();
    g.wait();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(second_started_early);
}

TEST_P(GroupTest, TryGoRunsTheTaskBelowTheLimit) {
  std::atomic<int> ran{0};
  bool ok = false;
  int rc = run([&] {
    fsan::Group g;
    g.set_limit(2);
    ok = g.try_go([&] { ran.fetch_add(1); });
    g.wait();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(ok);
  EXPECT_EQ(ran.load(), 1);
}

TEST_P(GroupTest, AGroupCanBeReusedAfterWait) {
  std::atomic<int> ran{0};
  int rc = run([&] {
    fsan::Group g;
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 10; ++i) g.go([&] { ran.fetch_add(1); });
      g.wait();
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(ran.load(), 30);
}

TEST_P(GroupTest, DestroyingAGroupWithoutWaitCancelsItsContextAndIsSafe) {
  CtxError seen = CtxError::none;
  int rc = run([&] {
    auto result = fsan::make_chan<CtxError>(1);
    {
      fsan::Group g(fsan::background());
      g.go([ctx = g.context(), result] {
        ctx.done().recv();
        fsan_test::yield_n(5);
        result.send(ctx.err());
        throw std::runtime_error("after the group is gone");
      });
    }
    seen = *result.recv();
    fsan_test::yield_n(20);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(seen, CtxError::canceled);
}

TEST_P(GroupTest, ChangingTheLimitWhileTasksRunPanics) {
  int rc = run([&] {
    fsan::Group g;
    auto release = fsan::make_chan<Unit>();
    g.go([release] { release.recv(); });
    g.set_limit(2);
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << fsan_test::describe(fs);
  ASSERT_EQ(fsan_test::count_kind(fs, FindingKind::panic), 1u) << fsan_test::describe(fs);
  EXPECT_NE(fsan_test::first_of_kind(fs, FindingKind::panic)->message.find("errgroup: modify limit"),
            std::string::npos);
}

}  // namespace
