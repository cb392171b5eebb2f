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

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
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


// wait_until_parked: polls the fiber dump until some fiber waits for `why`
// (an event, not a delay: the next step needs that fiber parked).
void wait_until_parked(const std::string& why) {
  while (fsan::dump_fibers().find("[" + why) == std::string::npos) fsan::sleep_for(std::chrono::milliseconds(1));
}

bool has_edge(const fsan::Graph& g, const std::string& label) {
  for (const auto& e : g.edges)
    if (e.label == label) return true;
  return false;
}

// ---------------------------------------------------------------------------
// Partial deadlocks beyond mutex cycles: each one is reported while main runs.

TEST_P(WaitGraphTest, SenderWhoseReceiverReturnedIsStuck) {
  auto fs = run([] {
    fsan::go_named("handler", [] {
      auto result = fsan::make_chan<int>();
      fsan::go_named("sender", [result] { result.send(42); });  // nobody receives: the handler returned
    });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  ASSERT_EQ(pd[0].fibers.size(), 1u);
  EXPECT_EQ(pd[0].fibers[0].name, "sender");
  EXPECT_EQ(pd[0].fibers[0].wait_reason, "chan send");
  EXPECT_FALSE(pd[0].fibers[0].stack.empty());
  EXPECT_FALSE(pd[0].fibers[0].created_at.empty());
  EXPECT_EQ(nodes_of_type(pd[0].graph, "chan"), 1u);
  EXPECT_TRUE(has_edge(pd[0].graph, "waits (chan send)"));
  EXPECT_TRUE(has_edge(pd[0].graph, "can operate"));
  ASSERT_EQ(pd[0].graph.cycle.size(), 3u);  // sender -> chan -> sender
  EXPECT_EQ(count_kind(fs, fsan::FindingKind::global_deadlock), 0u);
}

TEST_P(WaitGraphTest, RangeOverAChannelOnlyTheReceiverHoldsIsStuck) {
  auto fs = run([] {
    fsan::go_named("drain", [] {
      auto jobs = fsan::make_chan<int>(4);
      jobs.send(1);
      int sum = 0;
      for (int v : jobs) sum += v;  // nobody else can ever send or close
      std::printf("%d\n", sum);
    });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  EXPECT_EQ(pd[0].fibers[0].wait_reason, "chan receive");
}

TEST_P(WaitGraphTest, NilChannelSendIsStuckAtOnce) {
  auto fs = run([] {
    fsan::go([] {
      fsan::Chan<int> never;  // nil
      never.send(1);
    });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  EXPECT_EQ(pd[0].fibers[0].wait_reason, "chan send (nil chan)");
}

TEST_P(WaitGraphTest, SelectOverChannelsOnlyItHoldsIsStuck) {
  auto fs = run([] {
    fsan::go([] {
      auto a = fsan::make_chan<int>();
      auto b = fsan::make_chan<int>();
      fsan::select(fsan::recv_case(a), fsan::recv_case(b));
    });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  EXPECT_EQ(pd[0].fibers[0].wait_reason, "select");
  EXPECT_EQ(nodes_of_type(pd[0].graph, "chan"), 2u);
}

TEST_P(WaitGraphTest, ReaderReentryWithAWaitingWriterIsStuck) {
  static fsan::RWMutex rw;
  auto fs = run([] {
    auto go_on = fsan::make_chan<int>();
    fsan::go_named("reader", [go_on] {
      std::shared_lock<fsan::RWMutex> outer(rw);
      go_on.send(1);
      wait_until_parked("sync.RWMutex.Lock");  // the writer now waits for us
      std::shared_lock<fsan::RWMutex> inner(rw);  // RWR: queued behind the writer
    });
    go_on.recv();
    fsan::go_named("writer", [] { std::lock_guard<fsan::RWMutex> w(rw); });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  ASSERT_EQ(pd[0].fibers.size(), 2u);
  std::vector<std::string> reasons{pd[0].fibers[0].wait_reason, pd[0].fibers[1].wait_reason};
  std::sort(reasons.begin(), reasons.end());
  EXPECT_EQ(reasons[0], "sync.RWMutex.Lock");
  EXPECT_EQ(reasons[1], "sync.RWMutex.RLock");
  EXPECT_TRUE(has_edge(pd[0].graph, "held by"));
  EXPECT_FALSE(pd[0].graph.cycle.empty());
}

TEST_P(WaitGraphTest, ChannelAndLockCycleIsStuck) {
  static fsan::Mutex state;
  auto fs = run([] {
    fsan::go([] {
      auto events = fsan::make_chan<int>();
      auto locked = fsan::make_chan<int>();
      fsan::go_named("consumer", [events, locked] {
        std::lock_guard<fsan::Mutex> g(state);
        locked.send(1);
        events.recv();  // waits for the producer, holding the lock
      });
      fsan::go_named("producer", [events, locked] {
        locked.recv();
        std::lock_guard<fsan::Mutex> g(state);  // waits for the consumer's lock
        events.send(1);
      });
    });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  ASSERT_EQ(pd[0].fibers.size(), 2u);
  EXPECT_EQ(nodes_of_type(pd[0].graph, "mutex"), 1u);
  EXPECT_GE(nodes_of_type(pd[0].graph, "chan"), 1u);
  EXPECT_GE(pd[0].graph.cycle.size(), 5u);
}

TEST_P(WaitGraphTest, WaitGroupWaitWithAMissingDoneIsStuck) {
  auto fs = run([] {
    fsan::go_named("batch", [] {
      fsan::WaitGroup wg;
      for (int i = 0; i < 2; ++i) {
        wg.add(1);
        fsan::go([&wg, i] {
          if (i == 1) return;  // early return: done() is never called
          wg.done();
        });
      }
      wg.wait();
    });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  EXPECT_EQ(pd[0].fibers[0].name, "batch");
  EXPECT_EQ(pd[0].fibers[0].wait_reason, "sync.WaitGroup.Wait");
  EXPECT_EQ(nodes_of_type(pd[0].graph, "waitgroup"), 1u);
}

TEST_P(WaitGraphTest, CondWaitAfterTheOnlySignalIsStuck) {
  auto fs = run([] {
    fsan::go_named("waiter", [] {
      fsan::Mutex mu;
      fsan::Cond ready(mu);
      auto signalled = fsan::make_chan<int>();
      fsan::go([&ready, signalled] {
        ready.signal();  // nobody waits yet: lost
        signalled.send(1);
      });
      signalled.recv();
      std::unique_lock<fsan::Mutex> g(mu);
      ready.wait();
    });
    wait_for_finding(fsan::FindingKind::partial_deadlock);
  });
  auto pd = of_kind(fs, fsan::FindingKind::partial_deadlock);
  ASSERT_EQ(pd.size(), 1u);
  EXPECT_EQ(pd[0].fibers[0].wait_reason, "sync.Cond.Wait");
  EXPECT_EQ(nodes_of_type(pd[0].graph, "cond"), 1u);
}

TEST_P(WaitGraphTest, GlobalDeadlockOnAChannelCarriesTheGraph) {
  auto fs = run([] {
    auto never = fsan::make_chan<int>();
    never.recv();
  });
  auto gd = of_kind(fs, fsan::FindingKind::global_deadlock);
  ASSERT_EQ(gd.size(), 1u);
  EXPECT_EQ(nodes_of_type(gd[0].graph, "chan"), 1u);
  EXPECT_TRUE(has_edge(gd[0].graph, "waits (chan receive)"));
  EXPECT_EQ(count_kind(fs, fsan::FindingKind::partial_deadlock), 0u);
}

TEST_P(WaitGraphTest, InversionAcrossFiveThousandLocksIsFound) {
  // lockdep-style detectors cap their lock count (TSan: 4096); this must not.
  static std::vector<fsan::Mutex> locks(5000);
  auto fs = run([] {
    auto first = fsan::make_chan<int>();
    fsan::go([first] {
      for (std::size_t i = 0; i + 1 < locks.size(); ++i) {
        std::lock_guard<fsan::Mutex> a(locks[i]);
        std::lock_guard<fsan::Mutex> b(locks[i + 1]);
      }
      first.send(1);
    });
    first.recv();
    std::lock_guard<fsan::Mutex> last(locks.back());
    std::lock_guard<fsan::Mutex> wrap(locks.front());  // closes a 5000-lock cycle
  });
  EXPECT_EQ(count_kind(fs, fsan::FindingKind::lock_order_inversion), 1u);
}

// ---------------------------------------------------------------------------
// No false positives: each of these blocks a fiber for a while, never for good.

TEST_P(WaitGraphTest, ReceiverOfASleepingSenderIsQuiet) {
  auto fs = run([] {
    auto ch = fsan::make_chan<int>();
    auto done = fsan::make_chan<int>();
    fsan::go([ch, done] { done.send(ch.recv().value_or(0)); });
    fsan::go([ch] {
      fsan::sleep_for(std::chrono::milliseconds(300));
      ch.send(7);
    });
    EXPECT_EQ(done.recv().value_or(0), 7);
  });
  EXPECT_TRUE(fs.empty());
}

struct Mailbox {
  fsan::Chan<int> inbox = fsan::make_chan<int>();
};
fsan::Chan<int> g_inbox;

TEST_P(WaitGraphTest, ChannelsInGlobalsAndHeapAreQuiet) {
  auto fs = run([] {
    g_inbox = fsan::make_chan<int>();
    auto box = std::make_shared<Mailbox>();
    auto done = fsan::make_chan<int>(2);
    fsan::go([done] { done.send(g_inbox.recv().value_or(0)); });
    fsan::go([box, done] { done.send(box->inbox.recv().value_or(0)); });
    // The senders reach the channels only through the global and the heap.
    fsan::go([box] {
      fsan::sleep_for(std::chrono::milliseconds(300));
      g_inbox.send(1);
      box->inbox.send(2);
    });
    box.reset();
    EXPECT_EQ(done.recv().value_or(0) + done.recv().value_or(0), 3);
    g_inbox = fsan::Chan<int>();
  });
  EXPECT_TRUE(fs.empty());
}

TEST_P(WaitGraphTest, ForeignThreadThatWillSendIsQuiet) {
  std::thread sender;
  auto fs = run([&sender] {
    auto got = fsan::make_chan<int>(1);
    auto started = fsan::make_chan<int>(1);
    fsan::go([got, started, &sender] {
      auto ch = fsan::make_chan<int>();
      // The thread reaches ch through a reference into this fiber's stack.
      sender = std::thread([&ch] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ch.send(5);
      });
      started.send(1);
      got.send(ch.recv().value_or(0));
    });
    started.recv();
    while (got.len() == 0) fsan::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(got.recv().value_or(0), 5);
  });
  sender.join();
  EXPECT_TRUE(fs.empty());
}

TEST_P(WaitGraphTest, SelectWithATimeoutIsQuiet) {
  auto fs = run([] {
    auto done = fsan::make_chan<int>();
    fsan::go([done] {
      auto reply = fsan::make_chan<int>();  // nobody will ever answer
      std::size_t i = fsan::select(fsan::recv_case(reply), fsan::recv_case(fsan::after(std::chrono::milliseconds(300))));
      done.send(static_cast<int>(i));
    });
    EXPECT_EQ(done.recv().value_or(-1), 1);
  });
  EXPECT_TRUE(fs.empty());
}

TEST_P(WaitGraphTest, ContextWithAPendingDeadlineIsQuiet) {
  auto fs = run([] {
    auto done = fsan::make_chan<int>();
    fsan::go([done] {
      auto [ctx, cancel] = fsan::with_timeout(fsan::background(), std::chrono::milliseconds(300));
      auto reply = fsan::make_chan<int>();
      std::size_t i = fsan::select(fsan::recv_case(reply), fsan::recv_case(ctx.done()));
      cancel();
      done.send(static_cast<int>(i));
    });
    EXPECT_EQ(done.recv().value_or(-1), 1);
  });
  EXPECT_TRUE(fs.empty());
}

TEST_P(WaitGraphTest, HolderBlockedOnALockARunningFiberHoldsIsQuiet) {
  static fsan::Mutex gate;
  auto fs = run([] {
    auto done = fsan::make_chan<int>();
    auto waiting = fsan::make_chan<int>();
    gate.lock();
    fsan::go([done, waiting] {
      auto ch = fsan::make_chan<int>();
      fsan::go([ch, waiting] {
        waiting.send(1);
        std::lock_guard<fsan::Mutex> g(gate);  // main holds it and is not stuck
        ch.send(9);
      });
      done.send(ch.recv().value_or(0));
    });
    waiting.recv();
    wait_until_parked("sync.Mutex.Lock");
    fsan::sleep_for(std::chrono::milliseconds(200));  // let the monitor look at it
    gate.unlock();
    EXPECT_EQ(done.recv().value_or(0), 9);
  });
  EXPECT_TRUE(fs.empty());
}

TEST_P(WaitGraphTest, ChildUsingItsParentsChannelByReferenceIsQuiet) {
  static fsan::Mutex gate;
  auto fs = run([] {
    auto done = fsan::make_chan<int>();
    gate.lock();
    fsan::go([done] {
      auto ch = fsan::make_chan<int>();
      fsan::go([&ch] {  // no copy of its own: a reference into the parent's stack
        std::lock_guard<fsan::Mutex> g(gate);
        ch.send(3);
      });
      done.send(ch.recv().value_or(0));
    });
    wait_until_parked("chan receive");
    fsan::sleep_for(std::chrono::milliseconds(200));
    gate.unlock();
    EXPECT_EQ(done.recv().value_or(0), 3);
  });
  EXPECT_TRUE(fs.empty());
}

TEST_P(WaitGraphTest, PipelineUnderLoadIsQuiet) {
  auto fs = run([] {
    auto source = fsan::make_chan<int>();
    auto squared = fsan::make_chan<int>(8);
    auto total = fsan::make_chan<long>();
    fsan::go([source] {
      for (int i = 1; i <= 3000; ++i) source.send(i);
      source.close();
    });
    auto workers = std::make_shared<fsan::WaitGroup>();
    for (int w = 0; w < 4; ++w) {
      workers->add(1);
      fsan::go([source, squared, workers] {
        for (int v : source) squared.send(v % 7);
        workers->done();
      });
    }
    fsan::go([squared, workers] {
      workers->wait();
      squared.close();
    });
    fsan::go([squared, total] {
      long sum = 0;
      for (int v : squared) sum += v;
      total.send(sum);
    });
    long expect = 0;
    for (int i = 1; i <= 3000; ++i) expect += i % 7;
    EXPECT_EQ(total.recv().value_or(-1), expect);
  });
  EXPECT_TRUE(fs.empty());
}


struct PoolJob {
  fsan::WaitGroup* wg;
  int n;
};

TEST_P(WaitGraphTest, WaitGroupHandedToAPoolWorkerIsQuiet) {
  static fsan::Mutex busy;
  auto fs = run([] {
    auto jobs = fsan::make_chan<PoolJob>();
    auto finished = fsan::make_chan<int>();
    // A pool worker started before the handler: not its descendant.
    fsan::go_named("pool-worker", [jobs] {
      for (PoolJob j : jobs) {
        std::lock_guard<fsan::Mutex> g(busy);  // main holds it for a while
        j.wg->done();
      }
    });
    busy.lock();
    fsan::go_named("handler", [jobs, finished] {
      fsan::WaitGroup wg;  // on the handler's stack; the job carries a pointer to it
      wg.add(1);
      jobs.send(PoolJob{&wg, 1});
      wg.wait();
      finished.send(1);
    });
    wait_until_parked("sync.WaitGroup.Wait");
    fsan::sleep_for(std::chrono::milliseconds(200));  // the monitor looks at it meanwhile
    busy.unlock();
    finished.recv();
    jobs.close();
  });
  EXPECT_TRUE(fs.empty());
}


TEST_P(WaitGraphTest, WaitGroupHandedToAPoolThroughALockedQueueIsQuiet) {
  // The classic C++ pool: a deque under a Mutex, workers woken by a Cond.
  // The job's closure (with a pointer to the handler's WaitGroup) sits in
  // the heap, where no scan sees it; the release -> acquire edge does.
  struct Pool {
    fsan::Mutex mu;
    fsan::Cond ready{mu};
    std::deque<std::function<void()>> jobs;
    bool closed = false;
  };
  static fsan::Mutex busy;
  auto fs = run([] {
    auto pool = std::make_shared<Pool>();
    auto finished = fsan::make_chan<int>();
    fsan::go_named("pool-worker", [pool] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock<fsan::Mutex> g(pool->mu);
          while (pool->jobs.empty() && !pool->closed) pool->ready.wait();
          if (pool->jobs.empty()) return;
          job = std::move(pool->jobs.front());
          pool->jobs.pop_front();
        }
        job();
      }
    });
    busy.lock();
    fsan::go_named("handler", [pool, finished] {
      fsan::WaitGroup wg;
      std::string name = "a job name long enough to leave the small buffer";
      wg.add(1);
      {
        std::lock_guard<fsan::Mutex> g(pool->mu);
        pool->jobs.push_back([&wg, name] {
          std::lock_guard<fsan::Mutex> b(busy);  // main holds it for a while
          wg.done();
        });
        pool->ready.signal();
      }
      wg.wait();
      finished.send(1);
    });
    wait_until_parked("sync.WaitGroup.Wait");
    fsan::sleep_for(std::chrono::milliseconds(200));
    busy.unlock();
    finished.recv();
    {
      std::lock_guard<fsan::Mutex> g(pool->mu);
      pool->closed = true;
      pool->ready.broadcast();
    }
  });
  EXPECT_TRUE(fs.empty());
}

INSTANTIATE_TEST_SUITE_P(Workers, WaitGraphTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

}  // namespace
