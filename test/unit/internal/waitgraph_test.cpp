// The wait-for graph detector (runtime/waitgraph): lock_order_inversion for
// locks taken in both orders by different fibers, partial_deadlock for a
// cycle of mutex holders, reported while the rest of the program runs.
// Each test runs in its own process (ctest), so turning the detectors on
// here affects nothing else.
#if defined(__clang__)
// These tests lock and deadlock on purpose; the static analysis rightly objects.
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <fsan/fsan.hpp>

#include "race/race_abi.h"

namespace {

class WaitGraphTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { __fsan_init(); }
  template <class F>
  std::vector<fsan::Finding> run(F&& body) {
    fsan::Options o;
    o.workers = GetParam();
    o.print_findings = std::getenv("WG_PRINT") != nullptr;
    rc_ = fsan::run(o, std::forward<F>(body));
    return fsan::findings();
  }
  int rc_ = 0;
};

std::vector<fsan::Finding> of_kind(const std::vector<fsan::Finding>& fs, fsan::FindingKind k) {
  std::vector<fsan::Finding> out;
  for (const auto& f : fs)
    if (f.kind == k) out.push_back(f);
  return out;
}

std::size_t count_kind(const std::vector<fsan::Finding>& fs, fsan::FindingKind k) { return of_kind(fs, k).size(); }

// wait_for_finding: parks (in short sleeps) until a finding of kind k exists.
void wait_for_finding(fsan::FindingKind k) {
  while (count_kind(fsan::findings(), k) == 0) fsan::sleep_for(std::chrono::milliseconds(1));
}

std::size_t nodes_of_type(const fsan::Graph& g, const std::string& type) {
  std::size_t n = 0;
  for (const auto& node : g.nodes) n += node.type == type;
  return n;
}

TEST_P(WaitGraphTest, ABBADeadlockIsAPartialDeadlockWhileMainRuns) {
  static fsan::Mutex a, b;
  bool main_went_on = false;
  auto fs = run([&] {
    auto held = fsan::make_chan<int>(2);
    auto go_on = fsan::make_chan<int>(2);
    fsan::go([=] {
      a.lock();
      held.send(1);
      go_on.recv();
      b.lock();  // blocks forever
    });
    fsan::go([=] {
      b.lock();
      held.send(1);
      go_on.recv();
      a.lock();  // blocks forever
    });
    held.recv();
    held.recv();
    go_on.send(1);
    go_on.send(1);
    wait_for_finding(fsan::FindingKind::partial_deadlock);
    main_went_on = true;
  });
  EXPECT_TRUE(main_went_on);
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  EXPECT_EQ(pd[0].fibers.size(), 2u);
  for (const auto& fi : pd[0].fibers) EXPECT_EQ(fi.wait_reason, "sync.Mutex.Lock");
  EXPECT_EQ(nodes_of_type(pd[0].graph, "fiber"), 2u);
  EXPECT_EQ(nodes_of_type(pd[0].graph, "mutex"), 2u);
  ASSERT_EQ(pd[0].graph.cycle.size(), 5u);
  EXPECT_EQ(pd[0].graph.cycle.front(), pd[0].graph.cycle.back());
  EXPECT_EQ(count_kind(fs, fsan::FindingKind::global_deadlock), 0u);
}

TEST_P(WaitGraphTest, ABBAInSequenceIsOneLockOrderInversion) {
  static fsan::Mutex a, b;
  auto fs = run([] {
    auto done = fsan::make_chan<int>();
    fsan::go([=] {
      std::lock_guard<fsan::Mutex> ga(a);
      std::lock_guard<fsan::Mutex> gb(b);
      done.send(1);
    });
    done.recv();
    for (int i = 0; i < 2; ++i) {
      fsan::go([=] {
        std::lock_guard<fsan::Mutex> gb(b);
        std::lock_guard<fsan::Mutex> ga(a);
        done.send(1);
      });
      done.recv();
    }
  });
  auto inv = of_kind(fs, fsan::FindingKind::lock_order_inversion);
  ASSERT_EQ(inv.size(), 1u);
  EXPECT_EQ(fs.size(), 1u);
  ASSERT_EQ(inv[0].fibers.size(), 2u);
  EXPECT_NE(inv[0].fibers[0].id, inv[0].fibers[1].id);
  EXPECT_FALSE(inv[0].fibers[0].stack.empty());
  EXPECT_FALSE(inv[0].fibers[1].stack.empty());
  EXPECT_EQ(nodes_of_type(inv[0].graph, "mutex"), 2u);
  ASSERT_FALSE(inv[0].graph.edges.empty());
  EXPECT_EQ(inv[0].graph.edges[0].label, "acquired after");
  EXPECT_EQ(rc_, 66);
}

TEST_P(WaitGraphTest, BothOrdersInOneFiberAreNoInversion) {
  static fsan::Mutex a, b;
  auto fs = run([] {
    {
      std::lock_guard<fsan::Mutex> ga(a);
      std::lock_guard<fsan::Mutex> gb(b);
    }
    {
      std::lock_guard<fsan::Mutex> gb(b);
      std::lock_guard<fsan::Mutex> ga(a);
    }
  });
  EXPECT_TRUE(fs.empty());
}

TEST_P(WaitGraphTest, ScopedLockInBothOrdersIsNoInversion) {
  static fsan::Mutex a, b;
  auto fs = run([] {
    fsan::WaitGroup wg;
    for (int i = 0; i < 8; ++i) {
      wg.add(1);
      fsan::go([&wg, i] {
        for (int k = 0; k < 50; ++k) {
          if (i % 2 == 0) {
            std::scoped_lock g(a, b);
          } else {
            std::scoped_lock g(b, a);
          }
          fsan::yield();
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_TRUE(fs.empty());
  EXPECT_EQ(rc_, 0);
}

TEST_P(WaitGraphTest, DoubleLockIsAOneFiberCycle) {
  static fsan::Mutex a;
  auto fs = run([] {
    fsan::go([] {
      a.lock();
      a.lock();  // blocks forever
    });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  ASSERT_EQ(pd[0].fibers.size(), 1u);
  EXPECT_EQ(pd[0].fibers[0].wait_reason, "sync.Mutex.Lock");
  ASSERT_EQ(pd[0].graph.cycle.size(), 3u);
  EXPECT_EQ(pd[0].graph.cycle[0], pd[0].graph.cycle[2]);
  EXPECT_EQ(pd[0].graph.edges.size(), 2u);
}

TEST_P(WaitGraphTest, DoubleLockInMainIsAGlobalDeadlockWithTheCycleDrawn) {
  static fsan::Mutex a;
  auto fs = run([] {
    a.lock();
    a.lock();  // every fiber is now blocked
  });
  // Nothing else runs: that is Go's global deadlock, not a partial one.
  EXPECT_EQ(count_kind(fs, fsan::FindingKind::partial_deadlock), 0u);
  auto gd = of_kind(fs, fsan::FindingKind::global_deadlock);
  ASSERT_EQ(gd.size(), 1u);
  EXPECT_EQ(nodes_of_type(gd[0].graph, "mutex"), 1u);
  ASSERT_EQ(gd[0].graph.cycle.size(), 3u);
  EXPECT_EQ(gd[0].graph.cycle[0], "f1");
  EXPECT_EQ(rc_, 66);
}

TEST_P(WaitGraphTest, RWMutexWriterDoubleLockIsAOneFiberCycle) {
  static fsan::RWMutex rw;
  auto fs = run([] {
    fsan::go([] {
      rw.lock();
      rw.lock();  // blocks forever
    });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  EXPECT_EQ(pd[0].fibers[0].wait_reason, "sync.RWMutex.Lock");
}

TEST_P(WaitGraphTest, ContendedConsistentOrderIsQuiet) {
  static fsan::Mutex a, b, c;
  auto fs = run([] {
    fsan::WaitGroup wg;
    int n = 0;
    for (int i = 0; i < 8; ++i) {
      wg.add(1);
      fsan::go([&] {
        for (int k = 0; k < 100; ++k) {
          std::lock_guard<fsan::Mutex> ga(a);
          std::lock_guard<fsan::Mutex> gb(b);
          std::lock_guard<fsan::Mutex> gc(c);
          ++n;
          if (k % 10 == 0) fsan::yield();
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(n, 800);
  });
  EXPECT_TRUE(fs.empty());
  EXPECT_EQ(rc_, 0);
}

TEST_P(WaitGraphTest, WaitingOnARunningHolderIsQuiet) {
  static fsan::Mutex a;
  auto fs = run([] {
    auto locked = fsan::make_chan<int>();
    a.lock();
    fsan::go([=] {
      locked.send(1);
      std::lock_guard<fsan::Mutex> g(a);  // waits for main, which is not stuck
    });
    locked.recv();
    fsan::sleep_for(std::chrono::milliseconds(5));
    a.unlock();
  });
  EXPECT_EQ(count_kind(fs, fsan::FindingKind::partial_deadlock), 0u);
}

INSTANTIATE_TEST_SUITE_P(Workers, WaitGraphTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

}  // namespace
