// The sync types' detector events (SEMANTICS.md "Happens-before"): every
// happens-before edge of Mutex, RWMutex, WaitGroup, Once and Cond reaches an
// installed SyncHooks as a release before the edge and an acquire after it,
// on the object's address; a failed try-lock emits nothing; blocking reports
// Go's wait reason on the object. Also runs each type with a detector
// installed, which takes the out-of-line paths. Internal test (includes
// runtime/ headers).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include <fsan/fsan.hpp>

#include "hooks/sync_hooks.hpp"
#include "sched/fiber.hpp"

// These tests lock in one fiber and unlock in another, and misuse locks on
// purpose: -Wthread-safety cannot follow that, so it is off for this file.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif

namespace {

using fsan::make_chan;
using fsan::Unit;
using fsan::detail::Fiber;
using fsan::detail::SyncOp;
using fsan::detail::WaitReason;

struct Event {
  const Fiber* fiber;
  const void* obj;
  SyncOp op;
  bool acquire;
};

struct Recorder final : fsan::detail::SyncHooks {
  std::mutex mu;
  std::vector<Event> events;
  std::vector<std::pair<WaitReason, const void*>> blocks;
  void on_spawn(Fiber*, Fiber*) override {}
  void on_exit(Fiber*) override {}
  void on_block(Fiber*, WaitReason why, const void* obj) override {
    std::lock_guard<std::mutex> g(mu);
    blocks.emplace_back(why, obj);
  }
  void on_unblock(Fiber*, Fiber*) override {}
  void on_acquire(Fiber* f, const void* obj, SyncOp op) override {
    std::lock_guard<std::mutex> g(mu);
    events.push_back({f, obj, op, true});
  }
  void on_release(Fiber* f, const void* obj, SyncOp op) override {
    std::lock_guard<std::mutex> g(mu);
    events.push_back({f, obj, op, false});
  }
  std::vector<Event> on(const void* obj) {
    std::lock_guard<std::mutex> g(mu);
    std::vector<Event> out;
    for (const Event& e : events)
      if (e.obj == obj) out.push_back(e);
    return out;
  }
  bool blocked(WaitReason why, const void* obj) {
    std::lock_guard<std::mutex> g(mu);
    for (auto& b : blocks)
      if (b.first == why && b.second == obj) return true;
    return false;
  }
};

class SyncEventsTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { fsan::detail::install_sync_hooks(&rec); }
  void TearDown() override { fsan::detail::uninstall_sync_hooks(&rec); }
  template <class F>
  int run(F&& body) {
    fsan::Options o;
    o.workers = GetParam();
    return fsan::run(o, std::forward<F>(body));
  }
  Recorder rec;
};
INSTANTIATE_TEST_SUITE_P(Workers, SyncEventsTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// The n-th unlock's release is recorded before the (n+1)-th lock's acquire:
// on one mutex the events strictly alternate, each pair from one fiber.
TEST_P(SyncEventsTest, MutexUnlockReleasesBeforeTheNextLockAcquires) {
  constexpr int kFibers = 4, kIters = 300;
  fsan::Mutex mu;
  long counter = 0;
  int rc = run([&] {
    auto done = make_chan<Unit>(kFibers);
    for (int i = 0; i < kFibers; ++i) {
      fsan::go([&, done] {
        for (int k = 0; k < kIters; ++k) {
          std::lock_guard<fsan::Mutex> g(mu);
          ++counter;
          if (k % 32 == 0) fsan::yield();
        }
        done.send(Unit{});
      });
    }
    for (int i = 0; i < kFibers; ++i) done.recv();
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(counter, long{kFibers} * kIters);
  auto ev = rec.on(&mu);
  ASSERT_EQ(ev.size(), 2u * kFibers * kIters);
  for (std::size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].op, SyncOp::mutex);
    ASSERT_EQ(ev[i].acquire, i % 2 == 0) << "event " << i;
    if (i % 2 == 1) {
      ASSERT_EQ(ev[i].fiber, ev[i - 1].fiber) << "event " << i;
    }
  }
}

TEST_P(SyncEventsTest, AFailedTryLockEmitsNothingAndASuccessfulOneIsMarked) {
  fsan::Mutex mu;
  fsan::RWMutex rw;
  int rc = run([&] {
    mu.lock();
    rw.lock();
    auto done = make_chan<Unit>();
    fsan::go([&, done] {
      EXPECT_FALSE(mu.try_lock());
      EXPECT_FALSE(rw.try_lock());
      EXPECT_FALSE(rw.try_lock_shared());
      done.send(Unit{});
    });
    done.recv();
    mu.unlock();
    rw.unlock();
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
    EXPECT_TRUE(rw.try_lock());
    rw.unlock();
    EXPECT_TRUE(rw.try_lock_shared());
    rw.unlock_shared();
  });
  EXPECT_EQ(rc, 0);
  auto m = rec.on(&mu);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[2].op, SyncOp::mutex_try);
  EXPECT_TRUE(m[2].acquire);
  auto r = rec.on(&rw);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[2].op, SyncOp::mutex_try);
  EXPECT_EQ(r[4].op, SyncOp::rwmutex_read_try);
  EXPECT_EQ(r[5].op, SyncOp::rwmutex_read);
  EXPECT_FALSE(r[5].acquire);
}

TEST_P(SyncEventsTest, RWMutexReadersAndWritersUseTheirOwnOps) {
  fsan::RWMutex rw;
  int rc = run([&] {
    rw.lock();
    auto done = make_chan<Unit>();
    fsan::go([&, done] {
      std::shared_lock<fsan::RWMutex> r(rw);
      done.send(Unit{});
    });
    while (!rec.blocked(WaitReason::sync_rwmutex_rlock, &rw)) fsan::yield();
    rw.unlock();
    done.recv();
    rw.lock();  // after the reader's release
    rw.unlock();
  });
  EXPECT_EQ(rc, 0);
  auto ev = rec.on(&rw);
  ASSERT_EQ(ev.size(), 6u);
  // writer acquire, writer release, reader acquire, reader release, writer again.
  EXPECT_TRUE(ev[0].acquire && ev[0].op == SyncOp::mutex);
  EXPECT_TRUE(!ev[1].acquire && ev[1].op == SyncOp::mutex);
  EXPECT_TRUE(ev[2].acquire && ev[2].op == SyncOp::rwmutex_read);
  EXPECT_TRUE(!ev[3].acquire && ev[3].op == SyncOp::rwmutex_read);
  EXPECT_TRUE(ev[4].acquire && ev[4].op == SyncOp::mutex);
  EXPECT_TRUE(!ev[5].acquire && ev[5].op == SyncOp::mutex);
}

TEST_P(SyncEventsTest, EveryDoneReleasesBeforeWaitAcquires) {
  constexpr int kFibers = 5;
  fsan::WaitGroup wg;
  int rc = run([&] {
    wg.add(kFibers);
    for (int i = 0; i < kFibers; ++i) fsan::go([&] { wg.done(); });
    wg.wait();
  });
  EXPECT_EQ(rc, 0);
  auto ev = rec.on(&wg);
  ASSERT_EQ(ev.size(), kFibers + 1u);
  for (int i = 0; i < kFibers; ++i) EXPECT_FALSE(ev[static_cast<std::size_t>(i)].acquire);
  EXPECT_TRUE(ev.back().acquire);
  EXPECT_EQ(ev.back().op, SyncOp::waitgroup);
}

TEST_P(SyncEventsTest, OnceReleasesOnCompletionBeforeAnyCallAcquires) {
  constexpr int kCallers = 6;
  fsan::Once once;
  int rc = run([&] {
    auto done = make_chan<Unit>(kCallers);
    for (int i = 0; i < kCallers; ++i) {
      fsan::go([&, done] {
        once.call([] {
          for (int k = 0; k < 10; ++k) fsan::yield();
        });
        done.send(Unit{});
      });
    }
    for (int i = 0; i < kCallers; ++i) done.recv();
  });
  EXPECT_EQ(rc, 0);
  auto ev = rec.on(&once);
  ASSERT_FALSE(ev.empty());
  EXPECT_FALSE(ev[0].acquire);
  EXPECT_EQ(ev[0].op, SyncOp::once);
  EXPECT_EQ(ev.size(), static_cast<std::size_t>(kCallers));  // one release + an acquire per other caller
  for (std::size_t i = 1; i < ev.size(); ++i) EXPECT_TRUE(ev[i].acquire);
}

TEST_P(SyncEventsTest, SignalReleasesBeforeTheWokenWaitAcquires) {
  fsan::Mutex mu;
  fsan::Cond cv(mu);
  int rc = run([&] {
    auto done = make_chan<Unit>();
    fsan::go([&, done] {
      std::lock_guard<fsan::Mutex> g(mu);
      cv.wait();
      done.send(Unit{});
    });
    while (!rec.blocked(WaitReason::sync_cond_wait, &cv)) fsan::yield();
    cv.signal();
    done.recv();
  });
  EXPECT_EQ(rc, 0);
  auto ev = rec.on(&cv);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_FALSE(ev[0].acquire);
  EXPECT_TRUE(ev[1].acquire);
  EXPECT_EQ(ev[1].op, SyncOp::cond);
}

TEST_P(SyncEventsTest, BlockingReportsGosWaitReasonOnTheObject) {
  fsan::Mutex mu;
  fsan::WaitGroup wg;
  fsan::Once once;
  int rc = run([&] {
    mu.lock();
    wg.add(1);
    auto done = make_chan<Unit>(3);
    fsan::go([&, done] {
      mu.lock();
      mu.unlock();
      done.send(Unit{});
    });
    fsan::go([&, done] {
      wg.wait();
      done.send(Unit{});
    });
    auto in_f = make_chan<Unit>();
    auto release = make_chan<Unit>();
    fsan::go([&, in_f, release] {
      once.call([&] {
        in_f.send(Unit{});
        release.recv();
      });
    });
    in_f.recv();
    fsan::go([&, done] {
      once.call([] {});
      done.send(Unit{});
    });
    while (!rec.blocked(WaitReason::sync_mutex_lock, &mu) || !rec.blocked(WaitReason::sync_waitgroup_wait, &wg) ||
           !rec.blocked(WaitReason::sync_once, &once))
      fsan::yield();
    mu.unlock();
    wg.done();
    release.send(Unit{});
    for (int i = 0; i < 3; ++i) done.recv();
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
