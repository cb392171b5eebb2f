// fsan::WaitGroup (SEMANTICS.md "Sync"), each rule under 1, 2 and 4 workers:
// wait returns only after every done, with every waiter woken; a zero
// counter does not block; reuse after wait returned is fine; the waiter may
// destroy it right after wait. Misuse panics live in sync_test.cpp.
#include <atomic>
#include <thread>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"
#include "guarded_object.hpp"

namespace {

using fsan::make_chan;
using fsan::Unit;
using fsan_test::wait_until_blocked;
using fsan_test::yield_n;

class WaitGroupTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, WaitGroupTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

TEST_P(WaitGroupTest, WaitReturnsOnlyAfterEveryDone) {
  constexpr int kFibers = 50;
  std::vector<int> finished(kFibers, 0);
  bool all_finished = false;
  int rc = run([&] {
    fsan::WaitGroup wg;
    for (int i = 0; i < kFibers; ++i) {
      wg.add(1);
      fsan::go([&, i] {
        yield_n(i % 5);
        finished[static_cast<std::size_t>(i)] = 1;  // plain write: wait() orders it
        wg.done();
      });
    }
    wg.wait();
    all_finished = true;
    for (int f : finished) all_finished = all_finished && f == 1;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(all_finished);
}

TEST_P(WaitGroupTest, WaitBlocksWhileTheCounterIsPositive) {
  std::atomic<bool> returned{false};
  bool returned_early = true;
  int rc = run([&] {
    fsan::WaitGroup wg;
    wg.add(2);
    auto done = make_chan<Unit>();
    fsan::go([&, done] {
      wg.wait();
      returned.store(true);
      done.send(Unit{});
    });
    wait_until_blocked("sync.WaitGroup.Wait", 1);
    wg.done();
    yield_n(100);
    returned_early = returned.load();
    wg.done();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(returned_early);
  EXPECT_TRUE(returned.load());
}

TEST_P(WaitGroupTest, WaitOnAZeroCounterReturnsAtOnce) {
  bool returned = false;
  int rc = run([&] {
    fsan::WaitGroup wg;
    wg.wait();
    wg.add(3);
    wg.add(-3);
    wg.wait();
    returned = true;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(returned);
}

TEST_P(WaitGroupTest, EveryWaiterIsWokenByTheLastDone) {
  constexpr int kWaiters = 6;
  int rc = run([&] {
    fsan::WaitGroup wg, waiters_done;
    wg.add(1);
    waiters_done.add(kWaiters);
    for (int i = 0; i < kWaiters; ++i) {
      fsan::go([&] {
        wg.wait();
        waiters_done.done();
      });
    }
    wait_until_blocked("sync.WaitGroup.Wait", kWaiters);
    wg.done();
    waiters_done.wait();
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(WaitGroupTest, MayBeReusedOnceEveryWaitHasReturned) {
  constexpr int kRounds = 200;
  long total = 0;
  int rc = run([&] {
    fsan::WaitGroup wg;
    std::atomic<long> sum{0};
    for (int r = 0; r < kRounds; ++r) {
      for (int i = 0; i < 4; ++i) {
        wg.add(1);
        fsan::go([&] {
          sum.fetch_add(1);
          wg.done();
        });
      }
      wg.wait();
    }
    total = sum.load();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(total, 4L * kRounds);
}

// The waiter deletes the WaitGroup as soon as wait() returns, while the
// fiber whose done() woke it may still be inside done(). The WaitGroup lives
// on a page revoked at destruction, so a late touch is a crash.
TEST_P(WaitGroupTest, TheWaiterMayDestroyItAsSoonAsWaitReturns) {
  constexpr int kRounds = 3000;
  fsan_test::GuardedObjects objects;
  int rc = run([&] {
    for (int r = 0; r < kRounds; ++r) {
      auto* wg = objects.make<fsan::WaitGroup>();
      wg->add(2);
      fsan::go([wg] { wg->done(); });
      fsan::go([wg] { wg->done(); });
      if (r % 3 == 0) fsan::yield();
      wg->wait();
      fsan_test::GuardedObjects::destroy(wg);
    }
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(WaitGroupTest, FibersCanWaitForForeignThreads) {
  bool all = false;
  int rc = run([&] {
    fsan::WaitGroup wg;
    std::atomic<int> ran{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      wg.add(1);
      threads.emplace_back([&] {
        ran.fetch_add(1);
        wg.done();
      });
    }
    // Poll rather than park, so the test does not depend on how the deadlock
    // detector counts foreign threads; then wait() must not block.
    while (ran.load() < 3) fsan::yield();
    for (auto& t : threads) t.join();
    wg.wait();
    all = ran.load() == 3;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(all);
}

}  // namespace
