// Context (Go's context package): background, cancellation down the tree,
// deadlines and timeouts, and contexts used outside a run. Each rule under 1,
// 2 and 4 workers. Deadlines are awaited through done(); only lower bounds on
// time are asserted.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <thread>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using fsan::CancelFunc;
using fsan::Clock;
using fsan::Context;
using fsan::CtxError;
using fsan::TimePoint;

class ContextTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, ContextTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// is_closed: done() can be received from without blocking (it was closed).
bool is_closed(const fsan::Chan<fsan::Unit>& ch) {
  return fsan::select(fsan::recv_case(ch), fsan::default_case()) == 0;
}

TEST_P(ContextTest, BackgroundIsNeverDoneAndItsDoneIsNil) {
  bool nil = false, not_ready = false, no_deadline = false;
  CtxError err = CtxError::canceled;
  int rc = run([&] {
    Context bg = fsan::background();
    nil = bg.done().is_nil();
    not_ready = !is_closed(bg.done());
    err = bg.err();
    no_deadline = !bg.deadline().has_value();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(nil);
  EXPECT_TRUE(not_ready);
  EXPECT_EQ(err, CtxError::none);
  EXPECT_TRUE(no_deadline);
  EXPECT_EQ(Context(), fsan::background());
}

TEST_P(ContextTest, CancelClosesDoneAndSetsCanceled) {
  CtxError before = CtxError::canceled, after = CtxError::none;
  bool open_before = false, closed_after = false, same_channel = false;
  int rc = run([&] {
    auto [ctx, cancel] = fsan::with_cancel(fsan::background());
    before = ctx.err();
    open_before = !is_closed(ctx.done());
    same_channel = ctx.done() == ctx.done();
    cancel();
    after = ctx.err();
    closed_after = !ctx.done().recv().has_value();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(before, CtxError::none);
  EXPECT_TRUE(open_before);
  EXPECT_TRUE(same_channel);
  EXPECT_EQ(after, CtxError::canceled);
  EXPECT_TRUE(closed_after);
  EXPECT_STREQ(fsan::to_string(CtxError::canceled), "context canceled");
  EXPECT_STREQ(fsan::to_string(CtxError::deadline_exceeded), "context deadline exceeded");
}

TEST_P(ContextTest, CancelIsIdempotentCopyableAndConstCallable) {
  CtxError err = CtxError::none;
  int rc = run([&] {
    auto [ctx, cancel] = fsan::with_cancel(fsan::background());
    CancelFunc copy = cancel;
    const CancelFunc& cref = copy;
    auto in_lambda = [c = cancel] { c(); };  // not mutable: operator() is const
    cref();
    in_lambda();
    cancel();
    CancelFunc moved = std::move(copy);
    moved();
    CancelFunc none;
    none();  // a default CancelFunc does nothing
    err = ctx.err();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(err, CtxError::canceled);
}

TEST_P(ContextTest, CancelWakesEveryFiberWaitingOnDone) {
  constexpr int kWaiters = 50;
  std::atomic<int> woke{0};
  std::atomic<int> saw_canceled{0};
  int rc = run([&] {
    auto [ctx, cancel] = fsan::with_cancel(fsan::background());
    auto finished = fsan::make_chan<fsan::Unit>(kWaiters);
    for (int i = 0; i < kWaiters; ++i) {
      fsan::go([&, ctx = ctx, finished] {
        ctx.done().recv();
        woke.fetch_add(1);
        if (ctx.err() == CtxError::canceled) saw_canceled.fetch_add(1);
        finished.send(fsan::Unit{});
      });
    }
    fsan_test::wait_until_blocked("chan receive", kWaiters);
    cancel();
    for (int i = 0; i < kWaiters; ++i) finished.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(woke.load(), kWaiters);
  EXPECT_EQ(saw_canceled.load(), kWaiters);
}

TEST_P(ContextTest, ParentCancelEndsChildrenAndGrandchildrenButNotAncestorsOrSiblings) {
  std::vector<CtxError> after_a, after_root;
  int rc = run([&] {
    auto [root, cancel_root] = fsan::with_cancel(fsan::background());
    auto [a, cancel_a] = fsan::with_cancel(root);
    auto [b, cancel_b] = fsan::with_cancel(root);
    auto [a1, cancel_a1] = fsan::with_cancel(a);
    auto [a2, cancel_a2] = fsan::with_timeout(a, 1h);
    auto [a1x, cancel_a1x] = fsan::with_cancel(a1);
    auto [b1, cancel_b1] = fsan::with_cancel(b);
    // Waiters registered before the cancel see their channels closed.
    auto a1x_done = a1x.done();
    cancel_a();
    a1x_done.recv();
    after_a = {root.err(), a.err(), b.err(), a1.err(), a2.err(), a1x.err(), b1.err()};
    cancel_root();
    b1.done().recv();
    after_root = {root.err(), b.err(), b1.err()};
  });
  EXPECT_CLEAN_RUN(rc);
  const auto none = CtxError::none, canceled = CtxError::canceled;
  EXPECT_EQ(after_a, (std::vector<CtxError>{none, canceled, none, canceled, canceled, canceled, none}));
  EXPECT_EQ(after_root, (std::vector<CtxError>{canceled, canceled, canceled}));
}

TEST_P(ContextTest, CancellingAChildLeavesItsParentLive) {
  CtxError parent_err = CtxError::canceled, child_err = CtxError::none;
  int rc = run([&] {
    auto [parent, cancel_parent] = fsan::with_cancel(fsan::background());
    for (int i = 0; i < 1000; ++i) {
      auto [child, cancel_child] = fsan::with_cancel(parent);
      cancel_child();
      child_err = child.err();
    }
    parent_err = parent.err();
    cancel_parent();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(parent_err, CtxError::none);
  EXPECT_EQ(child_err, CtxError::canceled);
}

TEST_P(ContextTest, ChildOfAnEndedParentIsBornEndedWithTheParentsError) {
  CtxError child_err = CtxError::none, grandchild_err = CtxError::none;
  bool closed = false;
  int rc = run([&] {
    auto [parent, cancel] = fsan::with_deadline(fsan::background(), Clock::now() - 1s);
    cancel();  // already ended by its deadline: stays deadline_exceeded
    auto [child, c1] = fsan::with_cancel(parent);
    auto [grandchild, c2] = fsan::with_timeout(child, 1h);
    child_err = child.err();
    grandchild_err = grandchild.err();
    closed = is_closed(grandchild.done());
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(child_err, CtxError::deadline_exceeded);
  EXPECT_EQ(grandchild_err, CtxError::deadline_exceeded);
  EXPECT_TRUE(closed);
}

TEST_P(ContextTest, WithTimeoutEndsWithDeadlineExceeded) {
  CtxError err = CtxError::none;
  bool late_enough = false;
  int rc = run([&] {
    const TimePoint start = Clock::now();
    auto [ctx, cancel] = fsan::with_timeout(fsan::background(), 20ms);
    ctx.done().recv();
    late_enough = Clock::now() >= start + 20ms;
    err = ctx.err();
    cancel();  // after the deadline: err() stays deadline_exceeded
    if (ctx.err() != CtxError::deadline_exceeded) err = CtxError::canceled;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(err, CtxError::deadline_exceeded);
  EXPECT_TRUE(late_enough);
}

TEST_P(ContextTest, ParentDeadlineEndsChildrenWithDeadlineExceeded) {
  std::vector<CtxError> errs;
  int rc = run([&] {
    auto [parent, cancel_parent] = fsan::with_timeout(fsan::background(), 10ms);
    auto [child, cancel_child] = fsan::with_cancel(parent);
    auto [later, cancel_later] = fsan::with_timeout(parent, 1h);
    auto done = fsan::make_chan<CtxError>(2);
    for (const Context& c : {child, later})
      fsan::go([c, done] {
        c.done().recv();
        done.send(c.err());
      });
    errs = {*done.recv(), *done.recv(), parent.err()};
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(errs, (std::vector<CtxError>(3, CtxError::deadline_exceeded)));
}

TEST_P(ContextTest, DeadlineIsTheEarlierOfTheParentsAndItsOwn) {
  std::optional<TimePoint> parent_dl, later_dl, sooner_dl, plain_dl, bg_child_dl;
  TimePoint t0;
  int rc = run([&] {
    t0 = Clock::now();
    auto [parent, c0] = fsan::with_deadline(fsan::background(), t0 + 1h);
    auto [later, c1] = fsan::with_deadline(parent, t0 + 2h);
    auto [sooner, c2] = fsan::with_deadline(parent, t0 + 30min);
    auto [plain, c3] = fsan::with_cancel(sooner);
    auto [bg_child, c4] = fsan::with_cancel(fsan::background());
    parent_dl = parent.deadline();
    later_dl = later.deadline();
    sooner_dl = sooner.deadline();
    plain_dl = plain.deadline();
    bg_child_dl = bg_child.deadline();
    for (const fsan::CancelFunc* c : {&c4, &c3, &c2, &c1, &c0}) (*c)();  // no lost cancel
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(parent_dl, t0 + 1h);
  EXPECT_EQ(later_dl, t0 + 1h);
  EXPECT_EQ(sooner_dl, t0 + 30min);
  EXPECT_EQ(plain_dl, t0 + 30min);
  EXPECT_FALSE(bg_child_dl.has_value());
}

TEST_P(ContextTest, PastDeadlineGivesAContextAlreadyEnded) {
  CtxError by_deadline = CtxError::none, by_timeout = CtxError::none;
  bool closed = false;
  int rc = run([&] {
    auto [a, ca] = fsan::with_deadline(fsan::background(), Clock::now() - 1s);
    auto [b, cb] = fsan::with_timeout(fsan::background(), -5ms);
    by_deadline = a.err();
    by_timeout = b.err();
    closed = is_closed(a.done()) && is_closed(b.done());
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(by_deadline, CtxError::deadline_exceeded);
  EXPECT_EQ(by_timeout, CtxError::deadline_exceeded);
  EXPECT_TRUE(closed);
}

TEST_P(ContextTest, CancelBeforeTheDeadlineWinsAndStopsTheTimer) {
  std::vector<CtxError> errs;
  int rc = run([&] {
    for (int i = 0; i < 200; ++i) {
      // Short deadlines race the cancel: whichever ends it first wins for good.
      auto [ctx, cancel] = fsan::with_timeout(fsan::background(), std::chrono::microseconds(i % 3));
      cancel();
      CtxError e = ctx.err();
      if (e == CtxError::none) errs.push_back(e);
    }
    auto [ctx, cancel] = fsan::with_timeout(fsan::background(), 1h);
    cancel();
    errs.push_back(ctx.err());
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(errs, (std::vector<CtxError>{CtxError::canceled}));
}

TEST_P(ContextTest, ContextsSurviveCopiesAcrossFibersAndTheDroppingOfHandles) {
  CtxError err = CtxError::none;
  int rc = run([&] {
    auto result = fsan::make_chan<CtxError>(1);
    CancelFunc cancel;
    {
      auto [ctx, c] = fsan::with_cancel(fsan::background());
      cancel = c;
      fsan::go([ctx = ctx, result] {
        ctx.done().recv();
        result.send(ctx.err());
      });
    }  // the main fiber's Context handle is gone; the fiber's copy keeps it alive
    cancel();
    err = *result.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(err, CtxError::canceled);
}

TEST_P(ContextTest, DeepChainsCancelAndFreeWithoutDeepRecursion) {
  constexpr int kDepth = 100000;
  CtxError leaf_err = CtxError::none;
  // The second chain drops its cancels on purpose (100000 lost cancels):
  // this test is about freeing, not about reporting them.
  fsan::Options o = options();
  o.detect_leaks = false;
  int rc = run(o, [&] {
    auto [root, cancel_root] = fsan::with_cancel(fsan::background());
    Context leaf = root;
    std::vector<CancelFunc> cancels;
    cancels.reserve(kDepth);
    for (int i = 0; i < kDepth; ++i) {
      auto [c, cf] = fsan::with_cancel(leaf);
      leaf = c;
      cancels.push_back(cf);
    }
    cancel_root();
    leaf.done().recv();
    leaf_err = leaf.err();
    // A second, never-cancelled chain is freed by dropping its last handles.
    Context other = fsan::background();
    for (int i = 0; i < kDepth; ++i) other = fsan::with_cancel(other).first;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(leaf_err, CtxError::canceled);
}

TEST_P(ContextTest, ConcurrentCancelsOfParentAndChildrenAgree) {
  std::atomic<int> wrong{0};
  int rc = run([&] {
    for (int round = 0; round < 50; ++round) {
      auto [root, cancel_root] = fsan::with_cancel(fsan::background());
      std::vector<std::pair<Context, CancelFunc>> kids;
      for (int i = 0; i < 20; ++i) kids.push_back(fsan::with_cancel(root));
      auto done = fsan::make_chan<fsan::Unit>(kids.size() + 1);
      for (auto& [k, ck] : kids)
        fsan::go([k = k, ck = ck, done] {
          ck();
          done.send(fsan::Unit{});
        });
      fsan::go([cancel_root = cancel_root, done] {
        cancel_root();
        done.send(fsan::Unit{});
      });
      for (std::size_t i = 0; i <= kids.size(); ++i) done.recv();
      for (auto& [k, ck] : kids)
        if (k.err() != CtxError::canceled || !is_closed(k.done())) wrong.fetch_add(1);
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(wrong.load(), 0);
}

// Outside fsan::run there are no fibers and no timer heap: cancel works, and
// a deadline is checked lazily by err() and done().
TEST(ContextOutsideRun, CancelWorksWithoutARun) {
  auto [parent, cancel_parent] = fsan::with_cancel(fsan::background());
  auto [child, cancel_child] = fsan::with_cancel(parent);
  cancel_parent();
  EXPECT_EQ(child.err(), CtxError::canceled);
  EXPECT_FALSE(child.done().recv().has_value());  // closed: does not block
}

TEST(ContextOutsideRun, TimeoutIsCheckedLazily) {
  const TimePoint start = Clock::now();
  auto [ctx, cancel] = fsan::with_timeout(fsan::background(), 5ms);
  auto [child, cancel_child] = fsan::with_cancel(ctx);
  while (child.err() == CtxError::none) std::this_thread::yield();
  EXPECT_GE(Clock::now(), start + 5ms);
  EXPECT_EQ(child.err(), CtxError::deadline_exceeded);
  EXPECT_FALSE(child.done().recv().has_value());
  EXPECT_EQ(ctx.err(), CtxError::deadline_exceeded);
}

TEST_P(ContextTest, ATimeoutMadeOutsideARunFiresInsideOne) {
  auto [ctx, cancel] = fsan::with_timeout(fsan::background(), 20ms);
  CtxError err = CtxError::none;
  int rc = run([&, ctx = ctx] {
    ctx.done().recv();  // arms a timer on this run: the fiber is woken
    err = ctx.err();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(err, CtxError::deadline_exceeded);
}

TEST_P(ContextTest, AContextOutlivesTheRunItsTimerWasIn) {
  std::optional<std::pair<Context, CancelFunc>> kept;
  int rc = run([&] { kept = fsan::with_timeout(fsan::background(), 1h); });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(kept->first.err(), CtxError::none);  // the run's timer was dropped, the deadline remains
  EXPECT_TRUE(kept->first.deadline().has_value());
  kept->second();
  EXPECT_EQ(kept->first.err(), CtxError::canceled);
  kept.reset();
}

}  // namespace
