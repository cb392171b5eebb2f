// Findings from sync misuse (SEMANTICS.md "Sync" and "Findings"), under 1, 2
// and 4 workers: each misuse is exactly one `panic` finding with Go's
// message, and each sync deadlock is exactly one `global_deadlock` naming
// the blocked fibers with Go's wait reasons (sync.Mutex.Lock,
// sync.RWMutex.RLock, ...). Each run returns Options::exitcode (66).
#include <atomic>
#include <optional>
#include <string>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

// These tests lock in one fiber and unlock in another, and misuse locks on
// purpose: -Wthread-safety cannot follow that, so it is off for this file.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif

namespace {

using fsan::FindingKind;
using fsan::make_chan;
using fsan::Unit;
using fsan_test::count_kind;
using fsan_test::count_wait_reason;
using fsan_test::describe;
using fsan_test::fiber_in;
using fsan_test::first_of_kind;
using fsan_test::wait_until_blocked;

class SyncFindingsTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, SyncFindingsTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// expect_one_panic: rc is the default exit code, and the only finding is one
// panic whose message is exactly `message`.
void expect_one_panic(int rc, const std::string& message) {
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  ASSERT_EQ(fs.size(), 1u) << describe(fs);
  ASSERT_EQ(count_kind(fs, FindingKind::panic), 1u) << describe(fs);
  EXPECT_EQ(first_of_kind(fs, FindingKind::panic)->message, message);
}

// expect_global_deadlock: rc is the default exit code, there is exactly one
// global_deadlock, and `n` of its fibers wait with `reason`. Returns it.
std::optional<fsan::Finding> expect_global_deadlock(int rc, const std::string& reason, std::size_t n) {
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  EXPECT_EQ(count_kind(fs, FindingKind::global_deadlock), 1u) << describe(fs);
  const fsan::Finding* f = first_of_kind(fs, FindingKind::global_deadlock);
  if (f == nullptr) return std::nullopt;
  EXPECT_EQ(count_wait_reason(*f, reason), n) << describe(fs);
  return *f;
}

// ---- Mutex

TEST_P(SyncFindingsTest, UnlockOfAnUnlockedMutexPanics) {
  bool returned = false;
  int rc = run([&] {
    fsan::Mutex mu;
    mu.unlock();
    returned = true;
  });
  expect_one_panic(rc, "sync: unlock of unlocked mutex");
  EXPECT_FALSE(returned);
}

TEST_P(SyncFindingsTest, UnlockingAMutexTwicePanics) {
  int rc = run([&] {
    fsan::Mutex mu;
    mu.lock();
    mu.unlock();
    mu.unlock();
  });
  expect_one_panic(rc, "sync: unlock of unlocked mutex");
}

TEST_P(SyncFindingsTest, UnlockOfAnUnlockedMutexFromAnotherFiberPanics) {
  int rc = run([&] {
    fsan::Mutex mu;
    auto done = make_chan<Unit>();
    fsan::go([&mu, done] {
      mu.unlock();
      done.send(Unit{});
    });
    done.recv();
  });
  expect_one_panic(rc, "sync: unlock of unlocked mutex");
}

// Not reentrant: the second lock() waits for the first unlock, which never
// comes, and nothing else can run.
TEST_P(SyncFindingsTest, LockingAMutexTwiceInOneFiberIsAGlobalDeadlock) {
  bool returned = false;
  int rc = run([&] {
    fsan::Mutex mu;
    mu.lock();
    mu.lock();
    returned = true;
  });
  auto f = expect_global_deadlock(rc, "sync.Mutex.Lock", 1);
  ASSERT_TRUE(f.has_value());
  ASSERT_NE(fiber_in(*f, 1), nullptr) << describe(fsan::findings());
  EXPECT_EQ(fiber_in(*f, 1)->wait_reason, "sync.Mutex.Lock");
  EXPECT_FALSE(returned);
}

TEST_P(SyncFindingsTest, TwoFibersLockingTwoMutexesInOppositeOrdersDeadlock) {
  int rc = run([&] {
    fsan::Mutex a, b;
    auto a_held = make_chan<Unit>(1);
    auto b_held = make_chan<Unit>(1);
    fsan::go([&, a_held, b_held] {
      a.lock();
      a_held.send(Unit{});
      b_held.recv();
      b.lock();
    });
    b.lock();
    b_held.send(Unit{});
    a_held.recv();
    a.lock();
  });
  expect_global_deadlock(rc, "sync.Mutex.Lock", 2);
}

// ---- RWMutex

// RWR: main holds a read lock, a writer queues, main read-locks again and
// waits behind the writer, which waits for main. Go deadlocks the same way.
TEST_P(SyncFindingsTest, ReaderReenteringWhileAWriterWaitsIsAGlobalDeadlock) {
  int rc = run([&] {
    fsan::RWMutex rw;
    rw.lock_shared();
    fsan::go([&rw] {
      rw.lock();
      rw.unlock();
    });
    wait_until_blocked("sync.RWMutex.Lock", 1);
    rw.lock_shared();
  });
  auto f = expect_global_deadlock(rc, "sync.RWMutex.RLock", 1);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(count_wait_reason(*f, "sync.RWMutex.Lock"), 1u) << describe(fsan::findings());
  ASSERT_NE(fiber_in(*f, 1), nullptr);
  EXPECT_EQ(fiber_in(*f, 1)->wait_reason, "sync.RWMutex.RLock");
}

TEST_P(SyncFindingsTest, UnlockOfAnRWMutexNotWriteLockedPanics) {
  int rc = run([&] {
    fsan::RWMutex rw;
    rw.unlock();
  });
  expect_one_panic(rc, "sync: Unlock of unlocked RWMutex");
}

TEST_P(SyncFindingsTest, WriteUnlockOfAReadLockedRWMutexPanics) {
  int rc = run([&] {
    fsan::RWMutex rw;
    rw.lock_shared();
    rw.unlock();
  });
  expect_one_panic(rc, "sync: Unlock of unlocked RWMutex");
}

TEST_P(SyncFindingsTest, UnlockSharedWithoutAReaderPanics) {
  int rc = run([&] {
    fsan::RWMutex rw;
    rw.unlock_shared();
  });
  expect_one_panic(rc, "sync: RUnlock of unlocked RWMutex");
}

TEST_P(SyncFindingsTest, UnlockSharedOfAWriteLockedRWMutexPanics) {
  int rc = run([&] {
    fsan::RWMutex rw;
    rw.lock();
    rw.unlock_shared();
  });
  expect_one_panic(rc, "sync: RUnlock of unlocked RWMutex");
}

// ---- WaitGroup

TEST_P(SyncFindingsTest, ANegativeWaitGroupCounterPanics) {
  int rc = run([&] {
    fsan::WaitGroup wg;
    wg.add(1);
    wg.done();
    wg.done();
  });
  expect_one_panic(rc, "sync: negative WaitGroup counter");
}

// Reuse: a positive add() after the counter dropped to zero but before the
// wait() it woke has returned. To make the interleaving certain on every
// worker count, every other worker is kept busy by a spinning fiber, so the
// woken waiter (main) cannot run before the misusing fiber's next step.
TEST_P(SyncFindingsTest, WaitGroupReusedBeforeThePreviousWaitReturnedPanics) {
  int rc = run([&] {
    fsan::WaitGroup wg;
    const int spinners = workers() - 1;
    std::atomic<int> spinning{0};
    std::atomic<bool> release{false};
    for (int i = 0; i < spinners; ++i) {
      fsan::go([&] {
        spinning.fetch_add(1);
        // Until main returns, or the panic ends the run (main may never run again).
        while (!release.load() && fsan::findings().empty()) {
        }
      });
    }
    wg.add(1);
    fsan::go([&] {
      while (spinning.load() < spinners) fsan::yield();
      wait_until_blocked("sync.WaitGroup.Wait", 1);
      wg.done();
      wg.add(1);  // the misuse: main has not returned from wait() yet
    });
    wg.wait();
    release.store(true);
  });
  expect_one_panic(rc, "sync: WaitGroup is reused before previous Wait has returned");
}

TEST_P(SyncFindingsTest, WaitingOnAWaitGroupNobodyCompletesIsAGlobalDeadlock) {
  int rc = run([&] {
    fsan::WaitGroup wg;
    wg.add(2);
    fsan::go([&wg] { wg.done(); });
    wg.wait();
  });
  expect_global_deadlock(rc, "sync.WaitGroup.Wait", 1);
}

// ---- Once and Cond

TEST_P(SyncFindingsTest, OnceCalledFromItsOwnFunctionIsAGlobalDeadlock) {
  int rc = run([&] {
    fsan::Once once;
    once.call([&] { once.call([] {}); });
  });
  expect_global_deadlock(rc, "sync.Once.Do", 1);
}

TEST_P(SyncFindingsTest, CondWaitWithNobodyToSignalIsAGlobalDeadlock) {
  int rc = run([&] {
    fsan::Mutex mu;
    fsan::Cond cv(mu);
    mu.lock();
    cv.wait();
  });
  expect_global_deadlock(rc, "sync.Cond.Wait", 1);
}

TEST_P(SyncFindingsTest, CondWaitWithoutTheMutexHeldPanics) {
  int rc = run([&] {
    fsan::Mutex mu;
    fsan::Cond cv(mu);
    cv.wait();
  });
  expect_one_panic(rc, "sync: unlock of unlocked mutex");
}

}  // namespace
