// Foreign threads (std::threads the runtime does not own) use channels and
// select during a run: they block their own OS thread and interoperate with
// fibers. Global deadlock (SEMANTICS.md: "nothing (timer, I/O, another
// thread) can wake any of them") is never reported while a thread that could
// still act is alive, and is reported when the threads attached to the run
// are blocked in the runtime too. Under 1, 2 and 4 workers.
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using fsan::Chan;
using fsan::FindingKind;
using fsan::make_chan;
using fsan::Unit;
using fsan_test::count_kind;
using fsan_test::describe;
using fsan_test::first_of_kind;

class ForeignThreadTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, ForeignThreadTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// Polls (from a foreign thread, without touching the runtime) until the dump
// shows `text`: the thread then knows the fibers are parked.
void wait_in_dump(const std::string& text) {
  while (fsan::dump_fibers().find(text) == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TEST_P(ForeignThreadTest, ThreadSendsToAFiber) {
  int sum = 0;
  int rc = run([&] {
    auto ch = make_chan<int>();
    std::thread t([ch] {
      for (int i = 1; i <= 100; ++i) ch.send(i);
      ch.close();
    });
    for (int x : ch) sum += x;
    t.join();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(sum, 5050);
}

TEST_P(ForeignThreadTest, ThreadReceivesFromAFiber) {
  std::atomic<int> sum{0};
  int rc = run([&] {
    auto ch = make_chan<int>();
    auto done = make_chan<Unit>();
    std::thread t([ch, done, &sum] {
      for (int x : ch) sum += x;
      done.send(Unit{});
    });
    fsan::go([ch] {
      for (int i = 1; i <= 100; ++i) ch.send(i);
      ch.close();
    });
    done.recv();
    t.join();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(sum.load(), 5050);
}

TEST_P(ForeignThreadTest, ThreadSelectsOverChannelsFedAndDrainedByFibers) {
  int got_a = 0, got_b = 0, sent = 0;
  int rc = run([&] {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    auto out = make_chan<int>();
    auto quit = make_chan<Unit>();
    fsan::go([a] {
      for (int i = 0; i < 50; ++i) a.send(1);
    });
    fsan::go([b] {
      for (int i = 0; i < 50; ++i) b.send(2);
    });
    auto drained = make_chan<int>();
    fsan::go([out, drained] {
      int n = 0;
      for (int x : out) n += x;
      drained.send(n);
    });
    std::thread t([&, a, b, out, quit] {
      int value = 7;
      while (got_a + got_b < 100 || sent < 10) {
        fsan::select(fsan::recv_case(a, [&](std::optional<int>) { ++got_a; }),
                     fsan::recv_case(b, [&](std::optional<int>) { ++got_b; }),
                     fsan::send_case(sent < 10 ? out : Chan<int>{}, value, [&] { ++sent; }));
      }
      out.close();
      quit.close();
    });
    quit.recv();
    t.join();
    EXPECT_EQ(*drained.recv(), 70);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got_a, 50);
  EXPECT_EQ(got_b, 50);
}

// The thread has not touched the runtime when main parks: main waits for a
// thread that is working, which is no deadlock.
TEST_P(ForeignThreadTest, FiberWaitingForAThreadThatIsStillWorkingIsNoDeadlock) {
  std::optional<int> got;
  int rc = run([&] {
    auto result = make_chan<int>();
    std::thread t([result] {
      wait_in_dump("fiber 1 \"main\" [chan receive");              // "work" until main is surely parked
      std::this_thread::sleep_for(std::chrono::milliseconds(60));  // past a deadlock re-check
      result.send(42);
    });
    got = result.recv();
    t.join();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 42);
}

// A thread that used the runtime once and went on working is attached to the
// run: while it runs, main's wait is no deadlock.
TEST_P(ForeignThreadTest, AttachedThreadRunningItsOwnCodeIsNoDeadlock) {
  std::optional<int> got;
  int rc = run([&] {
    auto hello = make_chan<Unit>(1);
    auto result = make_chan<int>();
    std::thread t([hello, result] {
      hello.send(Unit{});
      wait_in_dump("fiber 1 \"main\" [chan receive");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      result.send(7);
    });
    hello.recv();
    got = result.recv();
    t.join();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 7);
}

// Every fiber and the thread are blocked in the runtime: a global deadlock,
// and the report lists the thread with its wait reason and stack.
TEST_P(ForeignThreadTest, ThreadAndFibersAllBlockedIsAGlobalDeadlock) {
  auto to_thread = make_chan<int>();
  std::thread t;
  int rc = run([&] {
    auto to_main = make_chan<int>();
    t = std::thread([to_thread, to_main] {
      if (to_thread.recv()) to_main.send(1);
    });
    to_main.recv();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  ASSERT_EQ(count_kind(fs, FindingKind::global_deadlock), 1u) << describe(fs);
  const fsan::Finding& f = *first_of_kind(fs, FindingKind::global_deadlock);
  const fsan::FiberInfo* thread_info = nullptr;
  for (const auto& fi : f.fibers)
    if (fi.id == 0) thread_info = &fi;
  ASSERT_NE(thread_info, nullptr) << describe(fs);
  EXPECT_EQ(thread_info->name.rfind("foreign thread ", 0), 0u) << thread_info->name;
  EXPECT_EQ(thread_info->wait_reason, "chan receive");
  ASSERT_FALSE(thread_info->stack.empty());
  EXPECT_NE(thread_info->stack[0].file.find("foreign_thread_test.cpp"), std::string::npos)
      << thread_info->stack[0].function;
  to_thread.close();  // after the run: lets the thread finish
  t.join();
}

// The only thread that could have woken main exits without doing so: the
// deadlock is reported when it exits.
TEST_P(ForeignThreadTest, DeadlockIsReportedWhenTheLastThreadThatCouldActExits) {
  int rc = run([&] {
    auto hello = make_chan<Unit>();
    auto never = make_chan<int>();
    std::thread t([hello] { hello.send(Unit{}); });
    hello.recv();
    t.detach();
    never.recv();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  EXPECT_EQ(count_kind(fs, FindingKind::global_deadlock), 1u) << describe(fs);
}

// A thread created before the run, that already used fibersan, waits on a
// channel a fiber serves: whether it is parked by then (a fiber's wake-up
// attaches it) or still on its way (it uses fibersan, so it might act), a
// fiber waiting for its reply is no deadlock.
TEST_P(ForeignThreadTest, ThreadFromBeforeTheRunJoinsItWhenAFiberWakesIt) {
  auto started = make_chan<Unit>(1);
  auto request = make_chan<int>();
  auto reply = make_chan<int>();
  std::thread t([started, request, reply] {
    started.send(Unit{});
    auto v = request.recv();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    reply.send(*v + 1);
  });
  started.recv();  // outside any run: this thread parks like a foreign one
  std::optional<int> got;
  int rc = run([&] {
    request.send(1);
    got = reply.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 2);
  t.join();
}

TEST_P(ForeignThreadTest, ThreadSpawnsFibersDuringTheRun) {
  int sum = 0;
  int rc = run([&] {
    auto ch = make_chan<int>();
    std::thread t([ch] {
      for (int i = 1; i <= 10; ++i) fsan::go([ch, i] { ch.send(i); });
    });
    for (int i = 0; i < 10; ++i) sum += *ch.recv();
    t.join();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(sum, 55);
}

// Values handed over in both directions, many times: thread and fibers park
// and wake each other with no lost wake-up and no false deadlock.
TEST_P(ForeignThreadTest, PingPongBetweenAThreadAndAFiber) {
  int rounds = 0;
  int rc = run([&] {
    auto ping = make_chan<int>();
    auto pong = make_chan<int>();
    std::thread t([ping, pong] {
      for (auto v = ping.recv(); v; v = ping.recv()) pong.send(*v + 1);
    });
    int v = 0;
    for (int i = 0; i < 2000; ++i) {
      ping.send(v);
      v = *pong.recv();
    }
    rounds = v;
    ping.close();
    t.join();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(rounds, 2000);
}

}  // namespace
