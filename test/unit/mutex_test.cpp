// fsan::Mutex (SEMANTICS.md "Sync"), each rule under 1, 2 and 4 workers:
// mutual exclusion, the standard lock adaptors, unlock by another fiber,
// try_lock, FIFO waiters, starvation hand-off, foreign threads, and
// destroying a mutex right after its last unlock. Misuse findings live in
// sync_test.cpp.
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"
#include "guarded_object.hpp"

// These tests lock in one fiber and unlock in another, and misuse locks on
// purpose: -Wthread-safety cannot follow that, so it is off for this file.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif

namespace {

using fsan::make_chan;
using fsan::Unit;
using fsan_test::wait_until_blocked;
using fsan_test::yield_n;

class MutexTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, MutexTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

TEST_P(MutexTest, ProtectsACounterUnderContention) {
  constexpr int kFibers = 8;
  constexpr int kIters = 2000;
  long counter = 0;
  bool overlapped = false;
  int rc = run([&] {
    fsan::Mutex mu;
    std::atomic<int> inside{0};
    auto done = make_chan<Unit>(kFibers);
    for (int f = 0; f < kFibers; ++f) {
      fsan::go([&, done] {
        for (int i = 0; i < kIters; ++i) {
          std::lock_guard<fsan::Mutex> g(mu);
          if (inside.fetch_add(1) != 0) overlapped = true;
          long v = counter;
          if (i % 64 == 0) fsan::yield();  // park others on the mutex, not just spin
          counter = v + 1;
          inside.fetch_sub(1);
        }
        done.send(Unit{});
      });
    }
    for (int f = 0; f < kFibers; ++f) done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(overlapped);
  EXPECT_EQ(counter, long{kFibers} * kIters);
}

TEST_P(MutexTest, LockBlocksUntilTheHolderUnlocks) {
  std::atomic<bool> acquired{false};
  bool acquired_while_held = true;
  int rc = run([&] {
    fsan::Mutex mu;
    auto done = make_chan<Unit>();
    mu.lock();
    fsan::go([&, done] {
      mu.lock();
      acquired.store(true);
      mu.unlock();
      done.send(Unit{});
    });
    wait_until_blocked("sync.Mutex.Lock", 1);
    yield_n(100);
    acquired_while_held = acquired.load();
    mu.unlock();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(acquired_while_held);
  EXPECT_TRUE(acquired.load());
}

TEST_P(MutexTest, WorksWithLockGuardUniqueLockAndScopedLock) {
  bool owns_after_try = false, owns_after_deferred = true, relocked = false;
  int rc = run([&] {
    fsan::Mutex a, b;
    { std::lock_guard<fsan::Mutex> g(a); }
    {
      std::unique_lock<fsan::Mutex> u(a, std::try_to_lock);
      owns_after_try = u.owns_lock();
      u.unlock();
      u.lock();
      relocked = u.owns_lock();
    }
    {
      std::unique_lock<fsan::Mutex> d(a, std::defer_lock);
      owns_after_deferred = d.owns_lock();
    }
    { std::scoped_lock both(a, b); }
    // Everything was released: both are free again.
    EXPECT_TRUE(a.try_lock());
    EXPECT_TRUE(b.try_lock());
    a.unlock();
    b.unlock();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(owns_after_try);
  EXPECT_FALSE(owns_after_deferred);
  EXPECT_TRUE(relocked);
}

// std::scoped_lock uses std::lock's try-and-back-off, so taking two mutexes
// in opposite orders from two fibers never deadlocks.
TEST_P(MutexTest, ScopedLockOfTwoMutexesInOppositeOrdersNeverDeadlocks) {
  constexpr int kIters = 2000;
  long in_ab = 0, in_ba = 0;
  int rc = run([&] {
    fsan::Mutex a, b;
    auto done = make_chan<Unit>(2);
    fsan::go([&, done] {
      for (int i = 0; i < kIters; ++i) {
        std::scoped_lock l(a, b);
        ++in_ab;
        if (i % 16 == 0) fsan::yield();
      }
      done.send(Unit{});
    });
    fsan::go([&, done] {
      for (int i = 0; i < kIters; ++i) {
        std::scoped_lock l(b, a);
        ++in_ba;
        if (i % 16 == 0) fsan::yield();
      }
      done.send(Unit{});
    });
    done.recv();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(in_ab, kIters);
  EXPECT_EQ(in_ba, kIters);
}

TEST_P(MutexTest, AFiberMayUnlockAMutexAnotherFiberLocked) {
  bool relocked = false;
  int rc = run([&] {
    fsan::Mutex mu;
    mu.lock();
    auto done = make_chan<Unit>();
    fsan::go([&mu, done] {
      mu.unlock();
      done.send(Unit{});
    });
    done.recv();
    mu.lock();  // would block forever had the other fiber's unlock not counted
    relocked = true;
    mu.unlock();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(relocked);
}

TEST_P(MutexTest, TryLockSucceedsOnlyOnAFreeMutexAndNeverBlocks) {
  bool free_try = false, own_retry = true, other_try = true, after_unlock = false;
  int rc = run([&] {
    fsan::Mutex mu;
    free_try = mu.try_lock();
    own_retry = mu.try_lock();  // not reentrant
    auto done = make_chan<Unit>();
    fsan::go([&, done] {
      other_try = mu.try_lock();
      done.send(Unit{});
    });
    done.recv();
    mu.unlock();
    after_unlock = mu.try_lock();
    mu.unlock();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(free_try);
  EXPECT_FALSE(own_retry);
  EXPECT_FALSE(other_try);
  EXPECT_TRUE(after_unlock);
}

// Parked waiters are woken in the order they queued (with no newcomer
// competing, the first woken always wins).
TEST_P(MutexTest, ParkedWaitersAcquireInFifoOrder) {
  std::vector<int> order;
  int rc = run([&] {
    fsan::Mutex mu;
    auto done = make_chan<Unit>(3);
    mu.lock();
    for (int i = 1; i <= 3; ++i) {
      fsan::go([&, i, done] {
        mu.lock();
        order.push_back(i);
        mu.unlock();
        done.send(Unit{});
      });
      wait_until_blocked("sync.Mutex.Lock", static_cast<std::size_t>(i));
    }
    mu.unlock();
    for (int i = 0; i < 3; ++i) done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

// Starvation mode. The hog yields only while it holds the mutex, so in
// normal mode the woken waiter always finds it locked again and the hog
// would keep it forever (on one worker, deterministically). Once the waiter
// has waited > 1 ms it switches the mutex to hand-off and must get it: the
// test ends only if it does.
TEST_P(MutexTest, AFiberThatKeepsRelockingCannotStarveAWaiterForever) {
  long hog_rounds = 0;
  bool waiter_got_it = false;
  int rc = run([&] {
    fsan::Mutex mu;
    std::atomic<bool> waiter_done{false};
    auto hog_started = make_chan<Unit>(1);
    auto done = make_chan<Unit>(2);
    fsan::go([&, hog_started, done] {
      bool announced = false;
      while (!waiter_done.load()) {
        mu.lock();
        if (!announced) {
          hog_started.send(Unit{});
          announced = true;
        }
        fsan::yield();
        ++hog_rounds;
        mu.unlock();
      }
      done.send(Unit{});
    });
    hog_started.recv();
    fsan::go([&, done] {
      mu.lock();
      waiter_got_it = true;
      waiter_done.store(true);
      mu.unlock();
      done.send(Unit{});
    });
    done.recv();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(waiter_got_it);
  EXPECT_GT(hog_rounds, 0);
}

// A foreign thread (not a fiber) blocks on a mutex a fiber holds, and gets
// it when the fiber unlocks. Main keeps running (polling with yield) so the
// test does not depend on how the deadlock detector counts foreign threads.
TEST_P(MutexTest, AForeignThreadWaitsForAMutexHeldByAFiber) {
  fsan::Mutex mu;
  std::atomic<bool> started{false}, got{false};
  bool got_while_held = true;
  std::thread t;
  int rc = run([&] {
    mu.lock();
    t = std::thread([&] {
      started.store(true);
      mu.lock();
      got.store(true);
      mu.unlock();
    });
    while (!started.load()) fsan::yield();
    yield_n(200);  // ample time for the thread to block on the mutex
    got_while_held = got.load();
    mu.unlock();
    while (!got.load()) fsan::yield();
  });
  t.join();
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(got_while_held);
  EXPECT_TRUE(got.load());
}

TEST_P(MutexTest, AFiberWaitsForAMutexHeldByAForeignThread) {
  fsan::Mutex mu;
  std::atomic<bool> held{false}, release{false}, fiber_got{false};
  bool got_while_held = true;
  std::thread t;
  int rc = run([&] {
    t = std::thread([&] {
      mu.lock();
      held.store(true);
      while (!release.load()) std::this_thread::yield();
      mu.unlock();
    });
    while (!held.load()) fsan::yield();
    fsan::go([&] {
      mu.lock();
      fiber_got.store(true);
      mu.unlock();
    });
    wait_until_blocked("sync.Mutex.Lock", 1);
    got_while_held = fiber_got.load();
    release.store(true);
    while (!fiber_got.load()) fsan::yield();
  });
  t.join();
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(got_while_held);
  EXPECT_TRUE(fiber_got.load());
}

// Whoever locks last may destroy the mutex right after unlocking it, while
// the fiber that let it in may still be inside its own unlock(). The mutex
// lives on a page revoked at destruction, so a late touch is a crash.
TEST_P(MutexTest, TheLastLockerMayDestroyItWhileThePreviousUnlockReturns) {
  constexpr int kRounds = 3000;
  fsan_test::GuardedObjects objects;
  int rc = run([&] {
    for (int r = 0; r < kRounds; ++r) {
      auto* mu = objects.make<fsan::Mutex>();
      auto done = make_chan<Unit>(1);
      mu->lock();
      fsan::go([mu, done] {
        mu->lock();
        mu->unlock();
        fsan_test::GuardedObjects::destroy(mu);
        done.send(Unit{});
      });
      if (r % 2 == 0) fsan::yield();  // mix: the fiber parked, or not yet there
      mu->unlock();
      done.recv();
    }
  });
  EXPECT_CLEAN_RUN(rc);
}

}  // namespace
