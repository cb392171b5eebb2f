// fsan::RWMutex (SEMANTICS.md "Sync"), each rule under 1, 2 and 4 workers:
// readers share, a writer excludes everyone, a waiting writer blocks new
// readers (Go's writer preference), try-locks, the standard adaptors, and
// destroying it right after the last unlock. The RWR deadlock and misuse
// panics live in sync_test.cpp.
#include <atomic>
#include <mutex>
#include <shared_mutex>
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

class RWMutexTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, RWMutexTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// Each reader waits, holding its read lock, until all readers are inside:
// only possible if they share it.
TEST_P(RWMutexTest, ReadersShareTheLock) {
  constexpr int kReaders = 5;
  int max_inside = 0;
  int rc = run([&] {
    fsan::RWMutex rw;
    std::atomic<int> inside{0};
    auto done = make_chan<Unit>(kReaders);
    for (int i = 0; i < kReaders; ++i) {
      fsan::go([&, done] {
        std::shared_lock<fsan::RWMutex> r(rw);
        inside.fetch_add(1);
        while (inside.load() < kReaders) fsan::yield();
        done.send(Unit{});
      });
    }
    for (int i = 0; i < kReaders; ++i) done.recv();
    max_inside = inside.load();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(max_inside, kReaders);
}

TEST_P(RWMutexTest, AWriterExcludesReadersAndOtherWriters) {
  constexpr int kWriters = 3, kReaders = 5, kIters = 500;
  long value = 0;
  bool overlap = false;
  int rc = run([&] {
    fsan::RWMutex rw;
    std::atomic<int> writers_in{0}, readers_in{0};
    auto done = make_chan<Unit>(kWriters + kReaders);
    for (int w = 0; w < kWriters; ++w) {
      fsan::go([&, done] {
        for (int i = 0; i < kIters; ++i) {
          std::lock_guard<fsan::RWMutex> g(rw);
          if (writers_in.fetch_add(1) != 0 || readers_in.load() != 0) overlap = true;
          long v = value;
          if (i % 32 == 0) fsan::yield();
          value = v + 1;
          writers_in.fetch_sub(1);
        }
        done.send(Unit{});
      });
    }
    for (int r = 0; r < kReaders; ++r) {
      fsan::go([&, done] {
        for (int i = 0; i < kIters; ++i) {
          std::shared_lock<fsan::RWMutex> g(rw);
          readers_in.fetch_add(1);
          if (writers_in.load() != 0) overlap = true;
          if (i % 32 == 0) fsan::yield();
          readers_in.fetch_sub(1);
        }
        done.send(Unit{});
      });
    }
    for (int i = 0; i < kWriters + kReaders; ++i) done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(overlap);
  EXPECT_EQ(value, long{kWriters} * kIters);
}

// Writer preference: with a reader inside and a writer waiting, a new
// reader blocks; it gets in only after the writer has had its turn.
TEST_P(RWMutexTest, AWaitingWriterBlocksNewReaders) {
  std::vector<const char*> order;
  bool late_reader_in_early = true;
  int rc = run([&] {
    fsan::RWMutex rw;
    fsan::Mutex order_mu;
    std::atomic<bool> late_in{false};
    auto done = make_chan<Unit>(2);
    rw.lock_shared();
    fsan::go([&, done] {
      rw.lock();
      {
        std::lock_guard<fsan::Mutex> g(order_mu);
        order.push_back("writer");
      }
      rw.unlock();
      done.send(Unit{});
    });
    wait_until_blocked("sync.RWMutex.Lock", 1);
    fsan::go([&, done] {
      rw.lock_shared();
      late_in.store(true);
      {
        std::lock_guard<fsan::Mutex> g(order_mu);
        order.push_back("late reader");
      }
      rw.unlock_shared();
      done.send(Unit{});
    });
    wait_until_blocked("sync.RWMutex.RLock", 1);
    yield_n(100);
    late_reader_in_early = late_in.load();
    rw.unlock_shared();
    done.recv();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(late_reader_in_early);
  EXPECT_EQ(order, (std::vector<const char*>{"writer", "late reader"}));
}

// Readers that queued behind a writer are all let in together when it unlocks.
TEST_P(RWMutexTest, UnlockAdmitsAllReadersThatQueuedBehindTheWriter) {
  constexpr int kReaders = 3;
  int rc = run([&] {
    fsan::RWMutex rw;
    std::atomic<int> inside{0};
    auto done = make_chan<Unit>(kReaders);
    rw.lock();
    for (int i = 0; i < kReaders; ++i) {
      fsan::go([&, done] {
        rw.lock_shared();
        inside.fetch_add(1);
        while (inside.load() < kReaders) fsan::yield();  // all inside at once
        rw.unlock_shared();
        done.send(Unit{});
      });
    }
    wait_until_blocked("sync.RWMutex.RLock", kReaders);
    rw.unlock();
    for (int i = 0; i < kReaders; ++i) done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(RWMutexTest, TryLockSharedFailsWhileAWriterHoldsOrWaits) {
  bool while_writer_waits = true, while_writer_holds = true, with_readers_only = false, when_free = false;
  int rc = run([&] {
    fsan::RWMutex rw;
    rw.lock_shared();
    with_readers_only = rw.try_lock_shared();
    rw.unlock_shared();
    auto writer_in = make_chan<Unit>();
    auto release = make_chan<Unit>();
    auto done = make_chan<Unit>();
    fsan::go([&, writer_in, release, done] {
      rw.lock();
      writer_in.send(Unit{});
      release.recv();
      rw.unlock();
      done.send(Unit{});
    });
    wait_until_blocked("sync.RWMutex.Lock", 1);
    while_writer_waits = rw.try_lock_shared();
    rw.unlock_shared();  // the first read lock: lets the writer in
    writer_in.recv();
    while_writer_holds = rw.try_lock_shared();
    release.send(Unit{});
    done.recv();
    when_free = rw.try_lock_shared();
    rw.unlock_shared();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(with_readers_only);
  EXPECT_FALSE(while_writer_waits);
  EXPECT_FALSE(while_writer_holds);
  EXPECT_TRUE(when_free);
}

TEST_P(RWMutexTest, TryLockFailsWithAReaderOrAWriterInside) {
  bool with_reader = true, with_writer = true, when_free = false, after = false;
  int rc = run([&] {
    fsan::RWMutex rw;
    rw.lock_shared();
    with_reader = rw.try_lock();
    rw.unlock_shared();
    rw.lock();
    with_writer = rw.try_lock();
    rw.unlock();
    when_free = rw.try_lock();
    rw.unlock();
    // A failed try_lock left nothing behind: readers and writers still get in.
    rw.lock_shared();
    rw.unlock_shared();
    rw.lock();
    after = true;
    rw.unlock();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(with_reader);
  EXPECT_FALSE(with_writer);
  EXPECT_TRUE(when_free);
  EXPECT_TRUE(after);
}

TEST_P(RWMutexTest, WorksWithSharedLockUniqueLockAndLockGuard) {
  bool shared_owned = false, unique_owned = false;
  int rc = run([&] {
    fsan::RWMutex rw;
    {
      std::shared_lock<fsan::RWMutex> r1(rw);
      std::shared_lock<fsan::RWMutex> r2(rw, std::try_to_lock);
      shared_owned = r1.owns_lock() && r2.owns_lock();
    }
    {
      std::unique_lock<fsan::RWMutex> w(rw, std::try_to_lock);
      unique_owned = w.owns_lock();
    }
    { std::lock_guard<fsan::RWMutex> g(rw); }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(shared_owned);
  EXPECT_TRUE(unique_owned);
}

// The last user may destroy it as soon as it is done: here the fiber that
// gets in last deletes it while the one that let it in (a writer's unlock()
// admitting a reader, or the last reader's unlock_shared() admitting a
// writer) may still be inside that call. The RWMutex lives on a page revoked
// at destruction, so a late touch is a crash.
TEST_P(RWMutexTest, TheLastUserMayDestroyItWhileTheOneThatLetItInReturns) {
  constexpr int kRounds = 2000;
  fsan_test::GuardedObjects objects;
  int rc = run([&] {
    for (int r = 0; r < kRounds; ++r) {
      auto* rw = objects.make<fsan::RWMutex>();
      auto done = make_chan<Unit>(1);
      if (r % 2 == 0) {
        rw->lock();
        fsan::go([rw, done] {
          rw->lock_shared();
          rw->unlock_shared();
          fsan_test::GuardedObjects::destroy(rw);
          done.send(Unit{});
        });
        if (r % 4 == 0) fsan::yield();
        rw->unlock();
      } else {
        rw->lock_shared();
        fsan::go([rw, done] {
          rw->lock();
          rw->unlock();
          fsan_test::GuardedObjects::destroy(rw);
          done.send(Unit{});
        });
        if (r % 4 == 1) fsan::yield();
        rw->unlock_shared();
      }
      done.recv();
    }
  });
  EXPECT_CLEAN_RUN(rc);
}

}  // namespace
