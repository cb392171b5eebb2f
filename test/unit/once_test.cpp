// fsan::Once (SEMANTICS.md "Sync"), each rule under 1, 2 and 4 workers: f
// runs exactly once however many fibers call, every call returns only after
// f completed and sees its effects, and (Go's rule) a throwing f still
// counts as done. The self-call deadlock lives in sync_test.cpp.
#include <atomic>
#include <stdexcept>
#include <string>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"
#include "guarded_object.hpp"

namespace {

using fsan::make_chan;
using fsan::Unit;
using fsan_test::wait_until_blocked;

class OnceTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, OnceTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

TEST_P(OnceTest, RunsExactlyOnceUnderContentionAndCallersSeeItsEffects) {
  constexpr int kCallers = 16;
  std::atomic<int> runs{0}, saw_effect{0};
  int rc = run([&] {
    fsan::Once once;
    std::string config;  // plain data: only Once orders its write with the reads
    auto done = make_chan<Unit>(kCallers);
    for (int i = 0; i < kCallers; ++i) {
      fsan::go([&, done] {
        once.call([&] {
          runs.fetch_add(1);
          for (int k = 0; k < 20; ++k) fsan::yield();  // let the others arrive and park
          config = "loaded";
        });
        if (config == "loaded") saw_effect.fetch_add(1);
        done.send(Unit{});
      });
    }
    for (int i = 0; i < kCallers; ++i) done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(saw_effect.load(), kCallers);
}

TEST_P(OnceTest, CallersParkUntilTheFirstCallFinishes) {
  std::atomic<bool> f_finished{false};
  bool returned_before_f = true;
  int rc = run([&] {
    fsan::Once once;
    auto in_f = make_chan<Unit>();
    auto release = make_chan<Unit>();
    auto done = make_chan<Unit>(2);
    fsan::go([&, in_f, release, done] {
      once.call([&] {
        in_f.send(Unit{});
        release.recv();
        f_finished.store(true);
      });
      done.send(Unit{});
    });
    in_f.recv();
    fsan::go([&, done] {
      once.call([] {});
      returned_before_f = !f_finished.load();
      done.send(Unit{});
    });
    wait_until_blocked("sync.Once.Do", 1);
    release.send(Unit{});
    done.recv();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(returned_before_f);
}

TEST_P(OnceTest, LaterCallsDoNothing) {
  int runs = 0;
  int rc = run([&] {
    fsan::Once once;
    for (int i = 0; i < 5; ++i) once.call([&] { ++runs; });
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(runs, 1);
}

// Go's rule, not std::call_once's: the throw propagates out of the first
// call only, and the Once is done — f is never retried.
TEST_P(OnceTest, AThrowingFunctionStillCountsAsDone) {
  int runs = 0;
  bool first_threw = false, second_threw = false;
  int rc = run([&] {
    fsan::Once once;
    try {
      once.call([&] {
        ++runs;
        throw std::runtime_error("init failed");
      });
    } catch (const std::runtime_error&) {
      first_threw = true;
    }
    try {
      once.call([&] { ++runs; });
    } catch (...) {
      second_threw = true;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(first_threw);
  EXPECT_FALSE(second_threw);
  EXPECT_EQ(runs, 1);
}

TEST_P(OnceTest, ParkedCallersReturnNormallyWhenFunctionThrows) {
  constexpr int kParked = 3;
  std::atomic<int> returned{0};
  bool thrower_caught = false;
  int rc = run([&] {
    fsan::Once once;
    auto done = make_chan<Unit>(kParked + 1);
    auto in_f = make_chan<Unit>();
    auto release = make_chan<Unit>();
    fsan::go([&, in_f, release, done] {
      try {
        once.call([&] {
          in_f.send(Unit{});
          release.recv();
          throw std::runtime_error("boom");
        });
      } catch (const std::runtime_error&) {
        thrower_caught = true;
      }
      done.send(Unit{});
    });
    in_f.recv();
    for (int i = 0; i < kParked; ++i) {
      fsan::go([&, done] {
        once.call([] { ADD_FAILURE() << "f ran twice"; });
        returned.fetch_add(1);
        done.send(Unit{});
      });
    }
    wait_until_blocked("sync.Once.Do", kParked);
    release.send(Unit{});
    for (int i = 0; i < kParked + 1; ++i) done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(returned.load(), kParked);
  EXPECT_TRUE(thrower_caught);
}

// A caller that waited for f may destroy the Once as soon as call()
// returns, while the fiber that ran f may still be finishing its call(). The
// Once lives on a page revoked at destruction, so a late touch is a crash.
TEST_P(OnceTest, AWaitingCallerMayDestroyItAsSoonAsCallReturns) {
  constexpr int kRounds = 2000;
  fsan_test::GuardedObjects objects;
  int rc = run([&] {
    for (int r = 0; r < kRounds; ++r) {
      auto* once = objects.make<fsan::Once>();
      auto in_f = make_chan<Unit>();
      fsan::go([once, in_f] {
        once->call([&] {
          in_f.send(Unit{});
          fsan::yield();  // main is (usually) parked in call() by now
        });
      });
      in_f.recv();
      once->call([] {});
      fsan_test::GuardedObjects::destroy(once);
    }
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(OnceTest, AcceptsLvalueAndConstCallables) {
  int runs = 0;
  int rc = run([&] {
    fsan::Once a, b;
    auto f = [&] { ++runs; };
    const auto g = [&] { ++runs; };
    a.call(f);
    b.call(g);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(runs, 2);
}

}  // namespace
