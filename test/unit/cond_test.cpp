// fsan::Cond (SEMANTICS.md "Sync"), each rule under 1, 2 and 4 workers:
// wait releases the mutex while parked and holds it again on return; signal
// wakes exactly one waiter, the oldest; broadcast wakes all; a signal with
// no waiter is not remembered; a producer/consumer queue works.
#include <atomic>
#include <deque>
#include <mutex>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"
#include "guarded_object.hpp"

namespace {

using fsan::make_chan;
using fsan::Unit;
using fsan_test::wait_until_blocked;
using fsan_test::yield_n;

class CondTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, CondTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

TEST_P(CondTest, WaitReleasesTheMutexWhileParkedAndHoldsItOnReturn) {
  bool free_while_waiting = false, held_on_return = false;
  int rc = run([&] {
    fsan::Mutex mu;
    fsan::Cond cv(mu);
    bool ready = false;
    auto done = make_chan<Unit>();
    fsan::go([&, done] {
      std::unique_lock<fsan::Mutex> l(mu);
      while (!ready) cv.wait();
      held_on_return = !mu.try_lock();  // still ours
      done.send(Unit{});
    });
    wait_until_blocked("sync.Cond.Wait", 1);
    if (mu.try_lock())
      free_while_waiting = true;
    else
      mu.lock();
    ready = true;
    cv.signal();
    mu.unlock();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(free_while_waiting);
  EXPECT_TRUE(held_on_return);
}

TEST_P(CondTest, SignalWakesExactlyOneWaiterTheOldest) {
  constexpr int kWaiters = 3;
  std::vector<int> order;
  std::vector<std::size_t> woken_after_each_signal;
  int rc = run([&] {
    fsan::Mutex mu;
    fsan::Cond cv(mu);
    auto woke = make_chan<Unit>(kWaiters);
    for (int i = 1; i <= kWaiters; ++i) {
      fsan::go([&, i, woke] {
        std::lock_guard<fsan::Mutex> g(mu);
        cv.wait();
        order.push_back(i);
        woke.send(Unit{});
      });
      wait_until_blocked("sync.Cond.Wait", static_cast<std::size_t>(i));
    }
    for (int i = 0; i < kWaiters; ++i) {
      cv.signal();
      woke.recv();
      yield_n(50);  // a second waiter wrongly woken would show up here
      std::lock_guard<fsan::Mutex> g(mu);
      woken_after_each_signal.push_back(order.size());
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(woken_after_each_signal, (std::vector<std::size_t>{1, 2, 3}));
}

TEST_P(CondTest, BroadcastWakesEveryWaiter) {
  constexpr int kWaiters = 5;
  int rc = run([&] {
    fsan::Mutex mu;
    fsan::Cond cv(mu);
    auto woke = make_chan<Unit>(kWaiters);
    for (int i = 0; i < kWaiters; ++i) {
      fsan::go([&, woke] {
        std::lock_guard<fsan::Mutex> g(mu);
        cv.wait();
        woke.send(Unit{});
      });
    }
    wait_until_blocked("sync.Cond.Wait", kWaiters);
    cv.broadcast();
    for (int i = 0; i < kWaiters; ++i) woke.recv();
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(CondTest, ASignalWithNoWaiterIsNotRemembered) {
  std::atomic<bool> woke{false};
  bool woke_by_old_signal = true;
  int rc = run([&] {
    fsan::Mutex mu;
    fsan::Cond cv(mu);
    cv.signal();
    cv.broadcast();
    auto done = make_chan<Unit>();
    fsan::go([&, done] {
      std::lock_guard<fsan::Mutex> g(mu);
      cv.wait();
      woke.store(true);
      done.send(Unit{});
    });
    wait_until_blocked("sync.Cond.Wait", 1);
    yield_n(100);
    woke_by_old_signal = woke.load();
    cv.signal();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(woke_by_old_signal);
  EXPECT_TRUE(woke.load());
}

// The woken waiter may destroy the Cond (and its Mutex) as soon as wait()
// returns and it unlocks, while the signalling fiber may still be inside
// signal()/broadcast(). The waiter sets `started` holding the mutex and
// releases it only inside wait(), so once main gets the mutex the waiter's
// ticket is taken and only main's signal can let it return. Both objects
// live on a page revoked at destruction, so a late touch is a crash.
TEST_P(CondTest, TheWokenWaiterMayDestroyItWhileTheSignallerReturns) {
  constexpr int kRounds = 2000;
  struct Pair {
    fsan::Mutex mu;
    fsan::Cond cv{mu};
    bool ready = false;
    std::atomic<bool> started{false};
  };
  fsan_test::GuardedObjects objects;
  int rc = run([&] {
    for (int r = 0; r < kRounds; ++r) {
      auto* p = objects.make<Pair>();
      auto done = make_chan<Unit>(1);
      fsan::go([p, done] {
        p->mu.lock();
        p->started.store(true);
        while (!p->ready) p->cv.wait();
        p->mu.unlock();
        fsan_test::GuardedObjects::destroy(p);
        done.send(Unit{});
      });
      while (!p->started.load()) fsan::yield();
      if (r % 2 == 0) fsan::yield();  // mix: the waiter parked, or still on its way
      p->mu.lock();
      p->ready = true;
      p->mu.unlock();
      if (r % 4 < 2)
        p->cv.signal();  // p may be gone as soon as the waiter runs
      else
        p->cv.broadcast();
      done.recv();
    }
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(CondTest, ProducersAndConsumersShareABoundedQueue) {
  constexpr int kProducers = 3, kConsumers = 3, kItems = 300, kCap = 4;
  long consumed_sum = 0;
  int rc = run([&] {
    fsan::Mutex mu;
    fsan::Cond not_empty(mu), not_full(mu);
    std::deque<int> q;
    int producers_left = kProducers;
    long sum = 0;
    fsan::WaitGroup wg;
    wg.add(kProducers + kConsumers);
    for (int p = 0; p < kProducers; ++p) {
      fsan::go([&, p] {
        for (int i = 0; i < kItems; ++i) {
          std::lock_guard<fsan::Mutex> g(mu);
          while (q.size() >= kCap) not_full.wait();
          q.push_back(p * kItems + i);
          not_empty.signal();
        }
        {
          std::lock_guard<fsan::Mutex> g(mu);
          if (--producers_left == 0) not_empty.broadcast();
        }
        wg.done();
      });
    }
    for (int c = 0; c < kConsumers; ++c) {
      fsan::go([&] {
        for (;;) {
          std::lock_guard<fsan::Mutex> g(mu);
          while (q.empty() && producers_left > 0) not_empty.wait();
          if (q.empty()) break;
          sum += q.front();
          q.pop_front();
          not_full.signal();
        }
        wg.done();
      });
    }
    wg.wait();
    consumed_sum = sum;
  });
  EXPECT_CLEAN_RUN(rc);
  const long n = long{kProducers} * kItems;
  EXPECT_EQ(consumed_sum, n * (n - 1) / 2);
}

}  // namespace
