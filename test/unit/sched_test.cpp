// Fibers and scheduling (SEMANTICS.md "Fibers and scheduling", API.md
// "Running" and "Fibers"), under 1, 2 and 4 workers: run's result, fiber ids
// and counts, go's argument passing, yield, scale, repeated runs, stacks.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using fsan::Chan;
using fsan::make_chan;
using fsan::Unit;
using fsan_test::yield_n;

class SchedTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, SchedTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

TEST_P(SchedTest, RunReturnsZeroWhenMainCompletes) {
  bool ran = false;
  int rc = run([&] { ran = true; });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(ran);
}

TEST_P(SchedTest, RunAcceptsConstAndMoveOnlyCallables) {
  int calls = 0;
  const auto const_body = [&calls] { ++calls; };
  EXPECT_EQ(fsan::run(options(), const_body), 0);
  auto owned = std::make_unique<int>(5);
  EXPECT_EQ(fsan::run(options(), [&calls, p = std::move(owned)] { calls += *p; }), 0);
  EXPECT_EQ(calls, 6);
}

TEST_P(SchedTest, FiberIdIsOneInMainDistinctInOthersAndZeroOutsideRun) {
  constexpr int kChildren = 100;
  const std::uint64_t outside_before = fsan::fiber_id();
  std::uint64_t main_id = 0;
  std::vector<std::uint64_t> child_ids;
  int rc = run([&] {
    main_id = fsan::fiber_id();
    auto ids = make_chan<std::uint64_t>();
    for (int i = 0; i < kChildren; ++i) fsan::go([ids] { ids.send(fsan::fiber_id()); });
    for (int i = 0; i < kChildren; ++i) child_ids.push_back(*ids.recv());
  });
  const std::uint64_t outside_after = fsan::fiber_id();
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(outside_before, 0u);
  EXPECT_EQ(outside_after, 0u);
  EXPECT_EQ(main_id, 1u);
  std::set<std::uint64_t> distinct(child_ids.begin(), child_ids.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kChildren));
  EXPECT_EQ(distinct.count(0), 0u);
  EXPECT_EQ(distinct.count(1), 0u);
}

TEST_P(SchedTest, FiberIdIsStableAcrossBlockingAndYield) {
  bool stable = true;
  int rc = run([&] {
    auto ch = make_chan<int>();
    auto done = make_chan<Unit>();
    for (int f = 0; f < 8; ++f)
      fsan::go([&stable, ch, done] {
        const std::uint64_t id = fsan::fiber_id();
        for (int i = 0; i < 50; ++i) {
          fsan::yield();
          if (fsan::fiber_id() != id) stable = false;
          ch.send(i);
          if (fsan::fiber_id() != id) stable = false;
        }
        done.send(Unit{});
      });
    for (int i = 0; i < 8 * 50; ++i) ch.recv();
    for (int f = 0; f < 8; ++f) done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(stable);
}

TEST_P(SchedTest, NumFibersCountsAFiberAsSoonAsGoReturnsAndDropsWhenItExits) {
  std::size_t at_start = 0, after_go = 0, after_exit = 0;
  int rc = run([&] {
    at_start = fsan::num_fibers();
    auto release = make_chan<Unit>();
    fsan::go([release] { release.recv(); });
    after_go = fsan::num_fibers();
    release.send(Unit{});
    // The child exits some time after the handoff; wait for that event.
    while (fsan::num_fibers() != at_start) fsan::yield();
    after_exit = fsan::num_fibers();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(at_start, 1u);
  EXPECT_EQ(after_go, 2u);
  EXPECT_EQ(after_exit, 1u);
}

TEST_P(SchedTest, NumFibersCountsManyLiveFibers) {
  constexpr std::size_t kFibers = 50;
  std::size_t counted = 0;
  int rc = run([&] {
    auto release = make_chan<Unit>();
    for (std::size_t i = 0; i < kFibers; ++i) fsan::go([release] { release.recv(); });
    counted = fsan::num_fibers();
    release.close();
    while (fsan::num_fibers() != 1) fsan::yield();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(counted, kFibers + 1);
}

TEST_P(SchedTest, GoNamedRunsTheFiberAndItsNameShowsInTheDump) {
  std::string dump;
  int value = 0;
  int rc = run([&] {
    auto release = make_chan<int>();
    auto done = make_chan<Unit>();
    fsan::go_named(
        "fsan-unit-named-worker",
        [release, done, &value](int add) {
          value = *release.recv() + add;
          done.send(Unit{});
        },
        2);
    dump = fsan::dump_fibers();
    release.send(40);
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(value, 42);
  EXPECT_NE(dump.find("fsan-unit-named-worker"), std::string::npos) << dump;
}

// go decay-copies its arguments when it is called, like std::thread: the
// fiber sees the value at the time of go(), not later changes.
TEST_P(SchedTest, GoDecayCopiesArgumentsAtTheCall) {
  std::string seen_by_value, seen_by_cref;
  int rc = run([&] {
    auto gate = make_chan<Unit>();
    auto out = make_chan<std::string>();
    std::string s = "before";
    fsan::go(
        [gate, out](std::string x) {
          gate.recv();
          out.send(x);
        },
        s);
    fsan::go(
        [gate, out](const std::string& x) {
          gate.recv();
          out.send(x);
        },
        s);
    s = "after";  // the fibers have not read their copies yet: they wait on gate
    gate.send(Unit{});
    gate.send(Unit{});
    seen_by_value = *out.recv();
    seen_by_cref = *out.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(seen_by_value, "before");
  EXPECT_EQ(seen_by_cref, "before");
}

void add_and_send(Chan<int> out, int a, int b) { out.send(a + b); }

TEST_P(SchedTest, GoAcceptsFunctionsAndMoveOnlyArguments) {
  int sum = 0, owned = 0;
  int rc = run([&] {
    auto out = make_chan<int>();
    fsan::go(&add_and_send, out, 20, 22);
    fsan::go(add_and_send, out, 1, 2);
    sum = *out.recv() + *out.recv();
    fsan::go([out](std::unique_ptr<int> p) { out.send(*p); }, std::make_unique<int>(9));
    owned = *out.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(sum, 45);
  EXPECT_EQ(owned, 9);
}

// With one worker nothing preempts main: the child only runs because main
// yields.
TEST_P(SchedTest, YieldLetsOtherFibersRun) {
  std::atomic<bool> child_ran{false};
  int rc = run([&] {
    fsan::go([&child_ran] { child_ran.store(true); });
    while (!child_ran.load()) fsan::yield();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(child_ran.load());
}

// Two fibers that each wait, by yielding, for the other to get to a point:
// both must make progress.
TEST_P(SchedTest, TwoYieldingFibersBothMakeProgress) {
  std::array<std::atomic<int>, 2> progress{};
  int rc = run([&] {
    auto done = make_chan<Unit>();
    for (int me = 0; me < 2; ++me)
      fsan::go([&progress, done, me] {
        for (int step = 1; step <= 100; ++step) {
          progress[me].store(step);
          while (progress[1 - me].load() < step) fsan::yield();
        }
        done.send(Unit{});
      });
    done.recv();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(progress[0].load(), 100);
  EXPECT_EQ(progress[1].load(), 100);
}

TEST_P(SchedTest, TenThousandFibersEachSendToOneChannel) {
  constexpr int kFibers = 10000;
  std::vector<int> seen(kFibers, 0);
  int rc = run([&] {
    auto ch = make_chan<int>();
    for (int i = 0; i < kFibers; ++i) fsan::go([ch, i] { ch.send(i); });
    for (int i = 0; i < kFibers; ++i) seen[*ch.recv()]++;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(seen, std::vector<int>(kFibers, 1));
}

// Spawn 100,000 fibers, then join them all (WaitGroup-style: the last one to
// finish signals). All may be alive at once.
TEST_P(SchedTest, HundredThousandFibersSpawnAndJoin) {
  constexpr int kFibers = 100000;
  std::atomic<int> ran{0};
  int rc = run([&] {
    std::atomic<int> pending{kFibers};
    auto all_done = make_chan<Unit>(1);
    for (int i = 0; i < kFibers; ++i)
      fsan::go([&ran, &pending, all_done] {
        ran.fetch_add(1, std::memory_order_relaxed);
        if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) all_done.send(Unit{});
      });
    all_done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(ran.load(), kFibers);
}

// The same count in batches of 1,000 live fibers: separates "many fibers in a
// run" from "many fibers alive at once".
TEST_P(SchedTest, HundredThousandFibersInBatchesOfAThousand) {
  constexpr int kBatches = 100, kPerBatch = 1000;
  int joined = 0;
  int rc = run([&] {
    auto done = make_chan<Unit>(kPerBatch);
    for (int b = 0; b < kBatches; ++b) {
      for (int i = 0; i < kPerBatch; ++i) fsan::go([done] { done.send(Unit{}); });
      for (int i = 0; i < kPerBatch; ++i) joined += done.recv().has_value() ? 1 : 0;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(joined, kBatches * kPerBatch);
}

TEST_P(SchedTest, FibersSpawnFibersInATree) {
  // Each fiber of depth < 10 spawns two children and reports the size of its
  // subtree: 2^11 - 1 fibers.
  struct Tree {
    static void node(int depth, Chan<int> up) {
      if (depth == 10) {
        up.send(1);
        return;
      }
      auto down = make_chan<int>();
      fsan::go(&Tree::node, depth + 1, down);
      fsan::go(&Tree::node, depth + 1, down);
      up.send(1 + *down.recv() + *down.recv());
    }
  };
  int total = 0;
  int rc = run([&] {
    auto top = make_chan<int>();
    fsan::go(&Tree::node, 0, top);
    total = *top.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(total, 2047);
}

TEST_P(SchedTest, RunCanBeCalledManyTimesInARow) {
  int ok = 0;
  for (int r = 0; r < 50; ++r) {
    std::uint64_t main_id = 0;
    int sum = 0;
    int rc = run([&] {
      main_id = fsan::fiber_id();
      auto ch = make_chan<int>();
      for (int i = 1; i <= 10; ++i) fsan::go([ch, i] { ch.send(i); });
      for (int i = 0; i < 10; ++i) sum += *ch.recv();
    });
    if (rc == 0 && main_id == 1 && sum == 55 && fsan::findings().empty()) ++ok;
  }
  EXPECT_EQ(ok, 50);
}

TEST_P(SchedTest, RunFromInsideAFiberReturnsAnErrorInsteadOfNesting) {
  int inner_rc = 0;
  bool inner_ran = false;
  run([&] { inner_rc = fsan::run([&] { inner_ran = true; }); });
  EXPECT_NE(inner_rc, 0);
  EXPECT_FALSE(inner_ran);
  // The process is still usable afterwards.
  EXPECT_CLEAN_RUN(run([] {}));
}

// recurse: uses about `kib` KiB of stack, 1 KiB per frame. Each frame hands
// its buffer's address to the next call, so the compiler can neither drop the
// buffers nor turn the recursion into a loop.
FSAN_NOINLINE int recurse(int kib, const volatile char* parent = nullptr) {
  volatile char buf[1024];
  for (std::size_t i = 0; i < sizeof buf; ++i) buf[i] = static_cast<char>((static_cast<std::size_t>(kib) + i) % 100);
  const int here = parent != nullptr ? parent[kib % 1024] : 0;
  if (kib <= 1) return here + buf[7];
  return recurse(kib - 1, buf) + here;
}

// expected_recurse: the same value computed on the (8 MiB) test thread stack.
int expected_recurse(int kib) { return recurse(kib); }

TEST_P(SchedTest, DeepRecursionFitsInTheDefaultStack) {
  int got = 0;
  int rc = run([&] {
    auto out = make_chan<int>();
    fsan::go([out] { out.send(recurse(100)); });
    got = *out.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, expected_recurse(100));
}

TEST_P(SchedTest, DeepRecursionFitsInMain) {
  int got = 0;
  int rc = run([&] { got = recurse(100); });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, expected_recurse(100));
}

TEST_P(SchedTest, StackSizeFlagAllowsDeeperRecursion) {
  fsan::Options o = options();
  o.stack_size = 4 * 1024 * 1024;
  int got = 0;
  int rc = run(o, [&] {
    auto out = make_chan<int>();
    fsan::go([out] { out.send(recurse(2000)); });
    got = *out.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, expected_recurse(2000));
}

TEST_P(SchedTest, ClosuresLargerThanOneKiBWork) {
  std::array<long, 2> sums{};
  int rc = run([&] {
    std::array<char, 4096> big_capture;
    for (std::size_t i = 0; i < big_capture.size(); ++i) big_capture[i] = static_cast<char>(i % 100);
    std::array<int, 1000> big_arg;
    for (std::size_t i = 0; i < big_arg.size(); ++i) big_arg[i] = static_cast<int>(i);
    auto out = make_chan<long>();
    fsan::go([out, big_capture] {
      long s = 0;
      for (char c : big_capture) s += c;
      out.send(s);
    });
    fsan::go(
        [out](const std::array<int, 1000>& a) {
          long s = 0;
          for (int v : a) s += v;
          out.send(s);
        },
        big_arg);
    big_arg.fill(0);  // the fiber has its own copy
    sums[0] = *out.recv();
    sums[1] = *out.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  long want_capture = 0;
  for (int i = 0; i < 4096; ++i) want_capture += i % 100;
  const long want_arg = 999L * 1000 / 2;
  // The two fibers may finish in either order.
  EXPECT_TRUE((sums[0] == want_capture && sums[1] == want_arg) || (sums[0] == want_arg && sums[1] == want_capture))
      << sums[0] << " " << sums[1];
}

// M:N with work stealing: `workers` fibers that spin (never yield) until all
// of them are running at once can only finish if each got its own worker.
TEST_P(SchedTest, FibersRunInParallelOnAllWorkers) {
  const int w = workers();
  int finished = 0;
  int rc = run([&] {
    std::atomic<int> arrived{0};
    auto done = make_chan<Unit>();
    for (int i = 0; i < w; ++i)
      fsan::go([&arrived, done, w] {
        arrived.fetch_add(1);
        while (arrived.load() < w) {
        }
        done.send(Unit{});
      });
    for (int i = 0; i < w; ++i) finished += done.recv().has_value() ? 1 : 0;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(finished, w);
}

// A fiber that blocks its worker thread (here on a std::future) stalls only
// that worker: the fiber that will unblock it runs on another one.
TEST_P(SchedTest, AFiberBlockingItsWorkerThreadStallsOnlyThatWorker) {
  if (workers() < 2) GTEST_SKIP() << "needs a second worker";
  bool got = false;
  int rc = run([&] {
    std::promise<int> p;
    std::future<int> f = p.get_future();
    auto done = make_chan<bool>();
    fsan::go([&f, done] { done.send(f.get() == 7); });
    fsan::go([&p, done] {
      p.set_value(7);
      done.send(true);
    });
    got = *done.recv();
    got = *done.recv() && got;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(got);
}

TEST(Sched, WorkersZeroMeansOnePerHardwareThread) {
  int sum = 0;
  int rc = fsan_test::run_with(0, [&] {
    auto ch = make_chan<int>();
    for (int i = 0; i < 10; ++i) fsan::go([ch, i] { ch.send(i); });
    for (int i = 0; i < 10; ++i) sum += *ch.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(sum, 45);
}

// Fibers that finish their work but are briefly still alive when main
// returns are not leaks (the grace period), so a clean program reports
// nothing.
TEST_P(SchedTest, FibersExitingJustAfterMainReturnsAreNotLeaks) {
  int rc = run([&] {
    auto ch = make_chan<int>();
    for (int i = 0; i < 100; ++i)
      fsan::go([ch, i] {
        ch.send(i);
        yield_n(10);
      });
    for (int i = 0; i < 100; ++i) ch.recv();
  });
  EXPECT_CLEAN_RUN(rc);
}

}  // namespace
