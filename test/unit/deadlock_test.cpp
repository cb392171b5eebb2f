// Global deadlock (SEMANTICS.md "Findings"): when every fiber is blocked and
// nothing can wake any of them, run reports one global_deadlock naming each
// blocked fiber with its wait reason, and returns Options::exitcode. Each bug
// has a fixed twin that must run clean. Under 1, 2 and 4 workers.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using fsan::Chan;
using fsan::FindingKind;
using fsan::make_chan;
using fsan::Unit;
using fsan_test::count_kind;
using fsan_test::describe;
using fsan_test::fiber_in;
using fsan_test::first_of_kind;

class DeadlockTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, DeadlockTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// expect_global_deadlock: rc is the default exit code and there is exactly
// one global_deadlock, in which main (fiber 1) waits with `main_reason`.
void expect_global_deadlock(int rc, const std::string& main_reason) {
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  ASSERT_EQ(count_kind(fs, FindingKind::global_deadlock), 1u) << describe(fs);
  const fsan::Finding* f = first_of_kind(fs, FindingKind::global_deadlock);
  const fsan::FiberInfo* main_fiber = fiber_in(*f, 1);
  ASSERT_NE(main_fiber, nullptr) << "fiber 1 missing from the report\n" << describe(fs);
  EXPECT_EQ(main_fiber->wait_reason, main_reason) << describe(fs);
}

TEST_P(DeadlockTest, MainReceivingFromAChannelNobodySendsOnIsAGlobalDeadlock) {
  bool returned = false;
  int rc = run([&] {
    auto ch = make_chan<int>();
    ch.recv();
    returned = true;
  });
  expect_global_deadlock(rc, "chan receive");
  EXPECT_FALSE(returned);
}

TEST_P(DeadlockTest, MainReceivingFromAChannelSomeoneSendsOnRunsClean) {
  std::optional<int> got;
  int rc = run([&] {
    auto ch = make_chan<int>();
    fsan::go([ch] { ch.send(1); });
    got = ch.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 1);
}

TEST_P(DeadlockTest, MainSendingWithNoReceiverIsAGlobalDeadlock) {
  int rc = run([&] {
    auto ch = make_chan<int>();
    ch.send(1);
  });
  expect_global_deadlock(rc, "chan send");
}

// The sender exited without sending: main is the only fiber left.
TEST_P(DeadlockTest, ReceiverOutlivingItsOnlySenderIsAGlobalDeadlock) {
  int rc = run([&] {
    auto ch = make_chan<int>();
    auto started = make_chan<Unit>();
    fsan::go([started] { started.send(Unit{}); });
    started.recv();
    ch.recv();
  });
  expect_global_deadlock(rc, "chan receive");
}

// Two fibers each send to the other first: both block in `chan send`, and
// main blocks waiting for them.
TEST_P(DeadlockTest, TwoFibersSendingToEachOtherAreAGlobalDeadlock) {
  int rc = run([&] {
    auto to_left = make_chan<int>();
    auto to_right = make_chan<int>();
    auto done = make_chan<Unit>();
    fsan::go_named("left", [to_left, to_right, done] {
      to_right.send(1);
      to_left.recv();
      done.send(Unit{});
    });
    fsan::go_named("right", [to_left, to_right, done] {
      to_left.send(2);
      to_right.recv();
      done.send(Unit{});
    });
    done.recv();
    done.recv();
  });
  expect_global_deadlock(rc, "chan receive");
  const auto fs = fsan::findings();
  const fsan::Finding* f = first_of_kind(fs, FindingKind::global_deadlock);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(fsan_test::count_wait_reason(*f, "chan send"), 2u) << describe(fs);
  int named = 0;
  for (const auto& fi : f->fibers)
    if ((fi.name == "left" || fi.name == "right") && fi.wait_reason == "chan send") ++named;
  EXPECT_EQ(named, 2) << describe(fs);
}

TEST_P(DeadlockTest, TwoFibersWhereOneReceivesFirstRunClean) {
  int rc = run([&] {
    auto to_left = make_chan<int>();
    auto to_right = make_chan<int>();
    auto done = make_chan<Unit>();
    fsan::go_named("left", [to_left, to_right, done] {
      to_right.send(1);
      to_left.recv();
      done.send(Unit{});
    });
    fsan::go_named("right", [to_left, to_right, done] {
      to_right.recv();
      to_left.send(2);
      done.send(Unit{});
    });
    done.recv();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
}

TEST_P(DeadlockTest, ReceiveOnANilChannelIsAGlobalDeadlock) {
  int rc = run([&] {
    Chan<int> nil_ch;
    nil_ch.recv();
  });
  expect_global_deadlock(rc, "chan receive (nil chan)");
}

TEST_P(DeadlockTest, ReceiveOnAMadeChannelInsteadOfNilRunsClean) {
  std::optional<int> got;
  int rc = run([&] {
    Chan<int> ch;
    ch = make_chan<int>(1);
    ch.send(5);
    got = ch.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 5);
}

TEST_P(DeadlockTest, SendOnANilChannelIsAGlobalDeadlock) {
  int rc = run([&] {
    Chan<int> nil_ch;
    nil_ch.send(1);
  });
  expect_global_deadlock(rc, "chan send (nil chan)");
}

TEST_P(DeadlockTest, SendOnANilChannelGuardedByDefaultRunsClean) {
  std::size_t chosen = 99;
  int rc = run([&] {
    Chan<int> nil_ch;
    chosen = fsan::select(fsan::send_case(nil_ch, 1), fsan::default_case());
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen, 1u);
}

// The classic: the producer forgets close(), so the range loop never ends.
TEST_P(DeadlockTest, RangeOverAChannelNeverClosedIsAGlobalDeadlock) {
  int sum = 0;
  int rc = run([&] {
    auto ch = make_chan<int>();
    fsan::go([ch] {
      for (int i = 1; i <= 3; ++i) ch.send(i);
    });
    for (int x : ch) sum += x;
  });
  expect_global_deadlock(rc, "chan receive");
  EXPECT_EQ(sum, 6);
}

TEST_P(DeadlockTest, RangeOverAChannelTheProducerClosesRunsClean) {
  int sum = 0;
  int rc = run([&] {
    auto ch = make_chan<int>();
    fsan::go([ch] {
      for (int i = 1; i <= 3; ++i) ch.send(i);
      ch.close();
    });
    for (int x : ch) sum += x;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(sum, 6);
}

TEST_P(DeadlockTest, MainBlockedInSelectIsAGlobalDeadlock) {
  int rc = run([&] {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    fsan::select(fsan::recv_case(a), fsan::send_case(b, 1));
  });
  expect_global_deadlock(rc, "select");
}

TEST_P(DeadlockTest, MainInSelectWithAPartnerRunsClean) {
  std::size_t chosen = 99;
  int rc = run([&] {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    fsan::go([b] { b.recv(); });
    chosen = fsan::select(fsan::recv_case(a), fsan::send_case(b, 1));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen, 1u);
}

// Every blocked fiber is in the report, each with its own wait reason.
TEST_P(DeadlockTest, GlobalDeadlockListsEachStuckFiberWithItsWaitReason) {
  constexpr int kStuck = 10;
  std::vector<std::uint64_t> ids;
  int rc = run([&] {
    auto never = make_chan<int>();
    auto id_ch = make_chan<std::uint64_t>(kStuck);
    for (int i = 0; i < kStuck; ++i)
      fsan::go([never, id_ch] {
        id_ch.send(fsan::fiber_id());
        never.recv();
      });
    for (int i = 0; i < kStuck; ++i) ids.push_back(*id_ch.recv());
    auto done = make_chan<Unit>();
    done.recv();
  });
  expect_global_deadlock(rc, "chan receive");
  const auto fs = fsan::findings();
  const fsan::Finding* f = first_of_kind(fs, FindingKind::global_deadlock);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kStuck));
  for (std::uint64_t id : ids) {
    const fsan::FiberInfo* fi = fiber_in(*f, id);
    ASSERT_NE(fi, nullptr) << "fiber " << id << " missing\n" << describe(fs);
    EXPECT_EQ(fi->wait_reason, "chan receive");
  }
}

TEST_P(DeadlockTest, CustomExitCodeIsHonoured) {
  fsan::Options o = options();
  o.exitcode = 3;
  int rc = run(o, [] {
    auto ch = make_chan<int>();
    ch.recv();
  });
  EXPECT_EQ(rc, 3) << describe(fsan::findings());
  EXPECT_EQ(count_kind(fsan::findings(), FindingKind::global_deadlock), 1u);
}

TEST_P(DeadlockTest, FindingsAreClearedWhenTheNextRunStarts) {
  int rc1 = run([] { make_chan<int>().recv(); });
  const std::size_t after_bad = fsan::findings().size();
  int rc2 = run([] {});
  EXPECT_EQ(rc1, 66);
  EXPECT_GE(after_bad, 1u);
  EXPECT_CLEAN_RUN(rc2);
}

// A fiber inside a blocking call runs on its worker thread: it can still
// send, so main waiting for it is not a deadlock. (The thread sleep is the
// blocking call under test, not a synchronisation.)
TEST_P(DeadlockTest, AFiberBlockedInsideASystemCallIsNotADeadlock) {
  std::optional<int> got;
  int rc = run([&] {
    auto ch = make_chan<int>();
    fsan::go([ch] {
      std::this_thread::sleep_for(100ms);
      ch.send(9);
    });
    got = ch.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 9);
}

TEST_P(DeadlockTest, ABusyFiberIsNotADeadlock) {
  std::optional<long> got;
  int rc = run([&] {
    auto ch = make_chan<long>();
    fsan::go([ch] {
      volatile long x = 0;
      for (long i = 0; i < 50'000'000; ++i) x = x + i;
      ch.send(x);
    });
    got = ch.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 50'000'000L * (50'000'000L - 1) / 2);
}

TEST(FindingKind, ToStringUsesTheSchemaNames) {
  EXPECT_STREQ(fsan::to_string(FindingKind::data_race), "data_race");
  EXPECT_STREQ(fsan::to_string(FindingKind::global_deadlock), "global_deadlock");
  EXPECT_STREQ(fsan::to_string(FindingKind::partial_deadlock), "partial_deadlock");
  EXPECT_STREQ(fsan::to_string(FindingKind::lock_order_inversion), "lock_order_inversion");
  EXPECT_STREQ(fsan::to_string(FindingKind::fiber_leak), "fiber_leak");
  EXPECT_STREQ(fsan::to_string(FindingKind::timer_leak), "timer_leak");
  EXPECT_STREQ(fsan::to_string(FindingKind::lost_cancel), "lost_cancel");
  EXPECT_STREQ(fsan::to_string(FindingKind::panic), "panic");
}

}  // namespace
