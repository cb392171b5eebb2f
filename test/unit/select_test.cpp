// select (SEMANTICS.md "Select"), each rule under 1, 2 and 4 workers: which
// case runs, default, blocking, handlers, close, a channel in several cases,
// concurrent close and lock order, statistical fairness, and `select {}`.
#include <array>
#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using fsan::Chan;
using fsan::default_case;
using fsan::make_chan;
using fsan::recv_case;
using fsan::send_case;
using fsan::Unit;
using fsan_test::yield_n;

class SelectTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, SelectTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

TEST_P(SelectTest, ReadyCaseIsChosen) {
  std::size_t chosen = 99;
  std::optional<int> got;
  bool other_ran = false;
  int rc = run([&] {
    auto empty = make_chan<int>(1);
    auto ready = make_chan<int>(1);
    ready.send(5);
    chosen = fsan::select(recv_case(empty, [&](std::optional<int>) { other_ran = true; }),
                          recv_case(ready, [&](std::optional<int> v) { got = v; }));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen, 1u);
  EXPECT_EQ(got, 5);
  EXPECT_FALSE(other_ran);
}

TEST_P(SelectTest, DefaultRunsWhenNoCaseIsReady) {
  std::size_t chosen = 99;
  bool default_ran = false, other_ran = false;
  int rc = run([&] {
    auto a = make_chan<int>();
    auto full = make_chan<int>(1);
    full.send(1);
    chosen = fsan::select(recv_case(a, [&] { other_ran = true; }), default_case([&] { default_ran = true; }),
                          send_case(full, 2, [&] { other_ran = true; }));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen, 1u);  // the argument index of default_case
  EXPECT_TRUE(default_ran);
  EXPECT_FALSE(other_ran);
}

TEST_P(SelectTest, DefaultIsNeverChosenWhileACaseIsReady) {
  int defaults = 0;
  int rc = run([&] {
    auto a = make_chan<int>(1);
    auto b = make_chan<int>(1);
    for (int i = 0; i < 1000; ++i) {
      a.send(i);
      std::size_t c = fsan::select(recv_case(a), recv_case(b), default_case());
      if (c == 2) ++defaults;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(defaults, 0);
}

TEST_P(SelectTest, BlocksUntilACaseCanProceed) {
  std::atomic<bool> sent{false};
  bool sent_when_woken = false;
  std::size_t chosen = 99;
  std::optional<int> got;
  int rc = run([&] {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    fsan::go([&sent, b] {
      yield_n(100);
      sent.store(true);
      b.send(8);
    });
    chosen = fsan::select(recv_case(a), recv_case(b, [&](std::optional<int> v) { got = v; }));
    sent_when_woken = sent.load();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen, 1u);
  EXPECT_EQ(got, 8);
  EXPECT_TRUE(sent_when_woken);
}

TEST_P(SelectTest, SendCaseHandlerRunsAfterTheValueIsSent) {
  bool ran = false;
  std::size_t chosen = 99;
  std::optional<int> in_buffer;
  std::optional<int> handed_over;
  int rc = run([&] {
    auto room = make_chan<int>(1);
    chosen = fsan::select(send_case(room, 5, [&] { ran = true; }));
    in_buffer = room.recv();
    // Unbuffered: the select blocks until the receiver takes the value.
    auto ch = make_chan<int>();
    auto done = make_chan<Unit>();
    fsan::go([ch, done, &handed_over] {
      handed_over = ch.recv();
      done.send(Unit{});
    });
    fsan::select(send_case(ch, 9));
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen, 0u);
  EXPECT_TRUE(ran);
  EXPECT_EQ(in_buffer, 5);
  EXPECT_EQ(handed_over, 9);
}

TEST_P(SelectTest, SendCaseOnAFullChannelIsNotReady) {
  std::size_t chosen = 99;
  std::size_t len = 0;
  int rc = run([&] {
    auto full = make_chan<int>(2);
    full.send(1);
    full.send(2);
    chosen = fsan::select(send_case(full, 3), default_case());
    len = full.len();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen, 1u);
  EXPECT_EQ(len, 2u);
}

TEST_P(SelectTest, RecvCaseHandlerGetsNulloptOnClose) {
  int calls = 0;
  bool closed_before_saw_value = true, closed_while_blocked_saw_value = true;
  bool no_arg_handler_ran = false;
  int rc = run([&] {
    auto closed = make_chan<int>(1);
    closed.close();
    fsan::select(recv_case(closed, [&](std::optional<int> v) {
      ++calls;
      closed_before_saw_value = v.has_value();
    }));
    fsan::select(recv_case(closed, [&] { no_arg_handler_ran = true; }));
    auto later = make_chan<int>();
    auto other = make_chan<int>();
    fsan::go([later] {
      yield_n(50);
      later.close();
    });
    fsan::select(recv_case(other), recv_case(later, [&](std::optional<int> v) {
                   ++calls;
                   closed_while_blocked_saw_value = v.has_value();
                 }));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(closed_before_saw_value);
  EXPECT_FALSE(closed_while_blocked_saw_value);
  EXPECT_TRUE(no_arg_handler_ran);
}

TEST_P(SelectTest, ClosedChannelDrainsBufferBeforeNulloptInSelect) {
  std::vector<std::optional<int>> got;
  int rc = run([&] {
    auto ch = make_chan<int>(2);
    ch.send(1);
    ch.send(2);
    ch.close();
    for (int i = 0; i < 3; ++i) fsan::select(recv_case(ch, [&](std::optional<int> v) { got.push_back(v); }));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, (std::vector<std::optional<int>>{1, 2, std::nullopt}));
}

TEST_P(SelectTest, SameChannelInSeveralCasesDeliversOnce) {
  int values = 0;
  bool counts_ok = true;
  std::array<int, 3> chosen{};
  int rc = run([&] {
    auto ch = make_chan<int>(1);
    auto src = make_chan<int>();
    fsan::go([src] {
      for (int i = 0; i < 150; ++i) src.send(i);  // one per odd round
    });
    for (int i = 0; i < 300; ++i) {
      if (i % 2 == 0) {
        ch.send(i);  // buffered value
      }
      int ran = 0;
      auto h = [&](std::optional<int> v) {
        ++ran;
        values += v ? 1 : 0;
      };
      // Odd rounds: the value comes from the blocked/arriving sender on src.
      Chan<int> c = i % 2 == 0 ? ch : src;
      chosen[fsan::select(recv_case(c, h), recv_case(c, h), recv_case(c, h))]++;
      if (ran != 1) counts_ok = false;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(counts_ok);
  EXPECT_EQ(values, 300);
  EXPECT_EQ(chosen[0] + chosen[1] + chosen[2], 300);
}

// Two fibers each `select { case ch <- id: case v := <-ch: }` on one
// unbuffered channel: every round pairs them; a select never matches itself.
TEST_P(SelectTest, SendAndRecvOfOneChannelInOneSelectNeverPairWithItself) {
  constexpr int kRounds = 1000;
  std::array<int, 2> sends{}, recvs{}, self_matches{};
  int rc = run([&] {
    auto ch = make_chan<int>();
    auto done = make_chan<Unit>();
    for (int id = 0; id < 2; ++id)
      fsan::go([&, ch, done, id] {
        for (int r = 0; r < kRounds; ++r)
          fsan::select(send_case(ch, id, [&] { ++sends[id]; }), recv_case(ch, [&](std::optional<int> v) {
                         ++recvs[id];
                         if (v != 1 - id) ++self_matches[id];
                       }));
        done.send(Unit{});
      });
    done.recv();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(self_matches[0] + self_matches[1], 0);
  EXPECT_EQ(sends[0] + recvs[0], kRounds);
  EXPECT_EQ(sends[1] + recvs[1], kRounds);
  EXPECT_EQ(sends[0], recvs[1]);
  EXPECT_EQ(sends[1], recvs[0]);
}

// Selects over the same channels in different argument orders while another
// fiber closes them: all wake with nullopt, none hangs (channels are locked in
// address order, not argument order).
TEST_P(SelectTest, SelectOverChannelsClosedConcurrentlyNeverHangs) {
  constexpr int kRounds = 300;
  int woken = 0, with_value = 0;
  int rc = run([&] {
    for (int round = 0; round < kRounds; ++round) {
      std::array<Chan<int>, 3> c{make_chan<int>(), make_chan<int>(round % 2), make_chan<int>()};
      auto results = make_chan<bool>(8);
      constexpr int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
      for (const auto& p : perms)
        fsan::go([results, x = c[p[0]], y = c[p[1]], z = c[p[2]]] {
          bool got = false;
          fsan::select(recv_case(x, [&](std::optional<int> v) { got = v.has_value(); }),
                       recv_case(y, [&](std::optional<int> v) { got = v.has_value(); }),
                       recv_case(x, [&](std::optional<int> v) { got = v.has_value(); }),
                       recv_case(z, [&](std::optional<int> v) { got = v.has_value(); }));
          results.send(got);
        });
      fsan::go([c, round] {
        for (int k = 0; k < 3; ++k) c[(k + round) % 3].close();
      });
      for (int k = 0; k < 6; ++k) {
        ++woken;
        with_value += *results.recv() ? 1 : 0;
      }
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(woken, 6 * kRounds);
  EXPECT_EQ(with_value, 0);
}

// Fibers of two kinds select over channels a and b in opposite orders: X
// sends on a or receives on b, Y sends on b or receives on a. Every select
// pairs an X with a Y; with equal numbers all finish.
TEST_P(SelectTest, OppositeOrderSelectsOverTwoChannelsAllComplete) {
  constexpr int kPerKind = 4, kRounds = 500;
  int finished = 0;
  long long x_sum = 0, y_sum = 0;
  int rc = run([&] {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    auto done = make_chan<long long>();
    for (int i = 0; i < kPerKind; ++i) {
      fsan::go([a, b, done] {
        long long got = 0;
        for (int r = 0; r < kRounds; ++r)
          fsan::select(send_case(a, 1), recv_case(b, [&](std::optional<int> v) { got += v.value_or(-1000000); }));
        done.send(got);
      });
      fsan::go([a, b, done] {
        long long got = 0;
        for (int r = 0; r < kRounds; ++r)
          fsan::select(recv_case(a, [&](std::optional<int> v) { got += v.value_or(-1000000) * 1000000LL; }),
                       send_case(b, 1));
        done.send(got);
      });
    }
    for (int i = 0; i < 2 * kPerKind; ++i) {
      long long g = *done.recv();
      x_sum += g % 1000000;
      y_sum += g / 1000000;
      ++finished;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(finished, 2 * kPerKind);
  // Each of the kPerKind * kRounds pairings moved one value one way.
  EXPECT_EQ(x_sum + y_sum, static_cast<long long>(kPerKind) * kRounds);
}

// Fairness: with n = 10,000 and p = 1/2, sd = 50; 4,000..6,000 is a 20-sd
// window, so a fair runtime never fails and a biased one always does.
TEST_P(SelectTest, ChoosesUniformlyBetweenTwoReadyRecvCases) {
  constexpr int kSelects = 10000;
  std::array<int, 2> chosen{};
  int rc = run([&] {
    std::array<Chan<int>, 2> c{make_chan<int>(1), make_chan<int>(1)};
    c[0].send(0);
    c[1].send(1);
    for (int i = 0; i < kSelects; ++i) {
      std::size_t k = fsan::select(recv_case(c[0]), recv_case(c[1]));
      chosen[k]++;
      c[k].send(static_cast<int>(k));  // refill: both stay ready
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen[0] + chosen[1], kSelects);
  for (int n : chosen) {
    EXPECT_GE(n, 4000);
    EXPECT_LE(n, 6000);
  }
}

// p = 1/3: sd = 47; 2,800..3,900 is more than 11 sd either side.
TEST_P(SelectTest, ChoosesUniformlyAmongThreeReadyRecvCases) {
  constexpr int kSelects = 10000;
  std::array<int, 3> chosen{};
  int rc = run([&] {
    std::array<Chan<int>, 3> c{make_chan<int>(1), make_chan<int>(1), make_chan<int>(1)};
    for (int k = 0; k < 3; ++k) c[k].send(k);
    for (int i = 0; i < kSelects; ++i) {
      std::size_t k = fsan::select(recv_case(c[0]), recv_case(c[1]), recv_case(c[2]));
      chosen[k]++;
      c[k].send(static_cast<int>(k));
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(chosen[0] + chosen[1] + chosen[2], kSelects);
  for (int n : chosen) {
    EXPECT_GE(n, 2800);
    EXPECT_LE(n, 3900);
  }
}

TEST_P(SelectTest, ChoosesUniformlyBetweenTwoReadySendCases) {
  constexpr int kSelects = 10000;
  std::array<int, 2> chosen{};
  int rc = run([&] {
    std::array<Chan<int>, 2> c{make_chan<int>(1), make_chan<int>(1)};
    for (int i = 0; i < kSelects; ++i) {
      std::size_t k = fsan::select(send_case(c[0], 0), send_case(c[1], 1));
      chosen[k]++;
      c[k].recv();  // drain: both stay ready
    }
  });
  EXPECT_CLEAN_RUN(rc);
  for (int n : chosen) {
    EXPECT_GE(n, 4000);
    EXPECT_LE(n, 6000);
  }
}

TEST_P(SelectTest, ReadyCaseIsFoundAmongManyCases) {
  bool all_right = true;
  int rc = run([&] {
    std::array<Chan<int>, 8> c;
    for (auto& ch : c) ch = make_chan<int>(1);
    for (int i = 0; i < 200; ++i) {
      const int k = (i * 5) % 8;
      c[k].send(i);
      std::optional<int> got;
      auto h = [&](std::optional<int> v) { got = v; };
      std::size_t idx = fsan::select(recv_case(c[0], h), recv_case(c[1], h), recv_case(c[2], h), recv_case(c[3], h),
                                     recv_case(c[4], h), recv_case(c[5], h), recv_case(c[6], h), recv_case(c[7], h));
      if (idx != static_cast<std::size_t>(k) || got != i) all_right = false;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(all_right);
}

// Operands are evaluated once, when the cases are built, even if the select
// parks and wakes.
TEST_P(SelectTest, ChannelOperandsAreEvaluatedOnce) {
  int evaluations = 0;
  std::optional<int> got;
  int rc = run([&] {
    auto ch = make_chan<int>();
    auto operand = [&] {
      ++evaluations;
      return ch;
    };
    fsan::go([ch] {
      yield_n(20);
      ch.send(6);
    });
    fsan::select(recv_case(operand(), [&](std::optional<int> v) { got = v; }));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(evaluations, 1);
  EXPECT_EQ(got, 6);
}

TEST_P(SelectTest, HandlersMayBlockOnOtherChannels) {
  std::vector<int> got;
  int rc = run([&] {
    auto in = make_chan<int>(1);
    auto out = make_chan<int>();
    auto done = make_chan<Unit>();
    fsan::go([out, done, &got] {
      for (int v : out) got.push_back(v);
      done.send(Unit{});
    });
    for (int i = 0; i < 20; ++i) {
      in.send(i);
      fsan::select(recv_case(in, [&](std::optional<int> v) { out.send(*v * 2); }));
    }
    out.close();
    done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], 2 * i);
}

TEST_P(SelectTest, MoveOnlyValuesInSendAndRecvCases) {
  int got = 0;
  int rc = run([&] {
    auto ch = make_chan<std::unique_ptr<int>>(1);
    fsan::select(send_case(ch, std::make_unique<int>(41)));
    fsan::select(recv_case(ch, [&](std::optional<std::unique_ptr<int>> p) { got = p && *p ? **p + 1 : -1; }));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, 42);
}

// Go's `select {}`: blocks forever; with nothing else runnable that is a
// global deadlock naming the empty select.
TEST_P(SelectTest, SelectWithNoCasesIsAGlobalDeadlock) {
  bool returned = false;
  int rc = run([&] {
    fsan::select();
    returned = true;
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << fsan_test::describe(fs);
  EXPECT_FALSE(returned);
  ASSERT_EQ(fsan_test::count_kind(fs, fsan::FindingKind::global_deadlock), 1u) << fsan_test::describe(fs);
  const fsan::Finding* f = fsan_test::first_of_kind(fs, fsan::FindingKind::global_deadlock);
  const fsan::FiberInfo* main_fiber = fsan_test::fiber_in(*f, 1);
  ASSERT_NE(main_fiber, nullptr) << fsan_test::describe(fs);
  EXPECT_EQ(main_fiber->wait_reason, "select (no cases)");
}

TEST_P(SelectTest, SelectOverOnlyNilChannelsBlocksForever) {
  int rc = run([&] {
    Chan<int> nil1;
    Chan<Unit> nil2;
    fsan::select(recv_case(nil1), send_case(nil2, Unit{}));
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << fsan_test::describe(fs);
  ASSERT_EQ(fsan_test::count_kind(fs, fsan::FindingKind::global_deadlock), 1u) << fsan_test::describe(fs);
  const fsan::FiberInfo* main_fiber =
      fsan_test::fiber_in(*fsan_test::first_of_kind(fs, fsan::FindingKind::global_deadlock), 1);
  ASSERT_NE(main_fiber, nullptr) << fsan_test::describe(fs);
  EXPECT_EQ(main_fiber->wait_reason.rfind("select", 0), 0u) << main_fiber->wait_reason;
}

}  // namespace
