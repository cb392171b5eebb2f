// Channels (SEMANTICS.md "Channels"), each rule under 1, 2 and 4 workers:
// when send and receive block, FIFO of values and of waiting fibers, close,
// nil channels, the element types a Chan must carry, and element lifetimes.
#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using fsan::Chan;
using fsan::make_chan;
using fsan::Unit;
using fsan_test::wait_until_blocked;
using fsan_test::yield_n;

class ChanTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, ChanTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

TEST_P(ChanTest, UnbufferedSendCompletesOnlyWhenAReceiverTakesTheValue) {
  std::atomic<bool> sent{false};
  bool sent_before_recv = true;
  bool sent_after_recv = false;
  std::optional<int> got;
  int rc = run([&] {
    auto ch = make_chan<int>();
    auto started = make_chan<Unit>(1);
    auto done = make_chan<Unit>();
    fsan::go([&sent, ch, started, done] {
      started.send(Unit{});
      ch.send(7);
      sent.store(true);
      done.send(Unit{});
    });
    started.recv();
    yield_n(200);  // ample chance for a wrong runtime to complete the send
    sent_before_recv = sent.load();
    got = ch.recv();
    done.recv();
    sent_after_recv = sent.load();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_FALSE(sent_before_recv);
  EXPECT_EQ(got, 7);
  EXPECT_TRUE(sent_after_recv);
}

TEST_P(ChanTest, BufferedSendBlocksOnlyWhenTheBufferIsFull) {
  std::atomic<bool> sent{false};
  std::size_t len_when_full = 0;
  bool sent_while_full = true;
  bool sent_after_recv = false;
  std::vector<int> got;
  int rc = run([&] {
    auto ch = make_chan<int>(3);
    // Three sends fit: had one blocked, main would be stuck and the run would
    // end with a global deadlock.
    ch.send(1);
    ch.send(2);
    ch.send(3);
    len_when_full = ch.len();
    auto started = make_chan<Unit>(1);
    auto done = make_chan<Unit>();
    fsan::go([&sent, ch, started, done] {
      started.send(Unit{});
      ch.send(4);
      sent.store(true);
      done.send(Unit{});
    });
    started.recv();
    yield_n(200);
    sent_while_full = sent.load();
    got.push_back(*ch.recv());
    done.recv();
    sent_after_recv = sent.load();
    for (int i = 0; i < 3; ++i) got.push_back(*ch.recv());
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(len_when_full, 3u);
  EXPECT_FALSE(sent_while_full);
  EXPECT_TRUE(sent_after_recv);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TEST_P(ChanTest, ReceiveBlocksWhileTheChannelIsEmpty) {
  for (std::size_t cap : {0u, 4u}) {
    std::atomic<bool> received{false};
    bool received_before_send = true;
    std::optional<int> got;
    int rc = run([&] {
      auto ch = make_chan<int>(cap);
      auto started = make_chan<Unit>(1);
      auto done = make_chan<Unit>();
      fsan::go([&, ch, started, done] {
        started.send(Unit{});
        got = ch.recv();
        received.store(true);
        done.send(Unit{});
      });
      started.recv();
      yield_n(200);
      received_before_send = received.load();
      ch.send(11);
      done.recv();
    });
    EXPECT_CLEAN_RUN(rc);
    EXPECT_FALSE(received_before_send) << "cap " << cap;
    EXPECT_EQ(got, 11) << "cap " << cap;
  }
}

TEST_P(ChanTest, ValuesAreDeliveredInSendOrder) {
  for (std::size_t cap : {0u, 1u, 16u}) {
    std::vector<int> got;
    int rc = run([&] {
      auto ch = make_chan<int>(cap);
      fsan::go([ch] {
        for (int i = 0; i < 1000; ++i) ch.send(i);
        ch.close();
      });
      for (int v : ch) got.push_back(v);
    });
    EXPECT_CLEAN_RUN(rc);
    std::vector<int> want(1000);
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(got, want) << "cap " << cap;
  }
}

TEST_P(ChanTest, ValuesOfEachSenderStayInOrderWithManySenders) {
  constexpr int kSenders = 8, kPerSender = 500;
  std::vector<int> next(kSenders, 0);
  bool in_order = true;
  int rc = run([&] {
    auto ch = make_chan<std::pair<int, int>>(4);
    for (int s = 0; s < kSenders; ++s)
      fsan::go([ch, s] {
        for (int i = 0; i < kPerSender; ++i) ch.send({s, i});
      });
    for (int k = 0; k < kSenders * kPerSender; ++k) {
      auto [s, i] = *ch.recv();
      if (next[s] != i) in_order = false;
      next[s] = i + 1;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(next, std::vector<int>(kSenders, kPerSender));
}

// Blocked senders are served in the order they blocked: each sender is
// spawned only once the previous one is parked in `chan send`.
TEST_P(ChanTest, BlockedSendersAreServedFifo) {
  constexpr int kSenders = 8;
  for (std::size_t cap : {0u, 2u}) {
    std::vector<int> got;
    fsan::Options o = options();
    o.symbolize = false;  // the dump is polled; keep it cheap
    int rc = run(o, [&] {
      auto ch = make_chan<int>(cap);
      for (std::size_t i = 0; i < cap; ++i) ch.send(100 + static_cast<int>(i));
      for (int k = 0; k < kSenders; ++k) {
        fsan::go([ch, k] { ch.send(k); });
        wait_until_blocked("chan send", static_cast<std::size_t>(k) + 1);
      }
      for (std::size_t i = 0; i < cap + kSenders; ++i) got.push_back(*ch.recv());
    });
    EXPECT_CLEAN_RUN(rc);
    std::vector<int> want;
    for (std::size_t i = 0; i < cap; ++i) want.push_back(100 + static_cast<int>(i));
    for (int k = 0; k < kSenders; ++k) want.push_back(k);
    EXPECT_EQ(got, want) << "cap " << cap;
  }
}

TEST_P(ChanTest, BlockedReceiversAreServedFifo) {
  constexpr int kReceivers = 8;
  for (std::size_t cap : {0u, 4u}) {
    std::vector<std::pair<int, int>> got;
    fsan::Options o = options();
    o.symbolize = false;
    int rc = run(o, [&] {
      auto ch = make_chan<int>(cap);
      auto results = make_chan<std::pair<int, int>>(kReceivers);  // never blocks
      for (int k = 0; k < kReceivers; ++k) {
        fsan::go([ch, results, k] { results.send({k, ch.recv().value_or(-1)}); });
        wait_until_blocked("chan receive", static_cast<std::size_t>(k) + 1);
      }
      for (int v = 0; v < kReceivers; ++v) ch.send(v);
      for (int k = 0; k < kReceivers; ++k) got.push_back(*results.recv());
    });
    EXPECT_CLEAN_RUN(rc);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kReceivers));
    for (auto [receiver, value] : got) EXPECT_EQ(receiver, value) << "cap " << cap;
  }
}

TEST_P(ChanTest, CloseDrainsBufferThenReturnsNullopt) {
  std::vector<std::optional<int>> got;
  std::size_t len_after_close = 0;
  int rc = run([&] {
    auto ch = make_chan<int>(3);
    ch.send(1);
    ch.send(2);
    ch.send(3);
    ch.close();
    len_after_close = ch.len();
    for (int i = 0; i < 5; ++i) got.push_back(ch.recv());
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(len_after_close, 3u);
  EXPECT_EQ(got, (std::vector<std::optional<int>>{1, 2, 3, std::nullopt, std::nullopt}));
}

TEST_P(ChanTest, CloseWakesEveryBlockedReceiverWithNullopt) {
  constexpr int kReceivers = 6;
  int woken = 0, with_value = 0;
  fsan::Options o = options();
  o.symbolize = false;
  int rc = run(o, [&] {
    auto ch = make_chan<int>();
    auto results = make_chan<bool>(kReceivers);
    for (int k = 0; k < kReceivers; ++k) fsan::go([ch, results] { results.send(ch.recv().has_value()); });
    wait_until_blocked("chan receive", kReceivers);
    ch.close();
    for (int k = 0; k < kReceivers; ++k) {
      ++woken;
      with_value += *results.recv() ? 1 : 0;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(woken, kReceivers);
  EXPECT_EQ(with_value, 0);
}

TEST_P(ChanTest, RangeForEndsAtClose) {
  for (std::size_t cap : {0u, 10u}) {
    int sum = 0, count = 0;
    int rc = run([&] {
      auto ch = make_chan<int>(cap);
      fsan::go([ch] {
        for (int i = 1; i <= 100; ++i) ch.send(i);
        ch.close();
      });
      for (int x : ch) {
        sum += x;
        ++count;
      }
    });
    EXPECT_CLEAN_RUN(rc);
    EXPECT_EQ(count, 100) << "cap " << cap;
    EXPECT_EQ(sum, 5050) << "cap " << cap;
  }
}

TEST_P(ChanTest, RangeForOverAClosedBufferedChannelYieldsTheBufferedValues) {
  std::vector<int> got;
  int rc = run([&] {
    auto ch = make_chan<int>(4);
    ch.send(5);
    ch.send(6);
    ch.close();
    for (int x : ch) got.push_back(x);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, (std::vector<int>{5, 6}));
}

TEST_P(ChanTest, LenAndCapReportBufferState) {
  std::vector<std::size_t> seen;
  int rc = run([&] {
    auto unbuffered = make_chan<int>();
    seen.push_back(unbuffered.len());
    seen.push_back(unbuffered.cap());
    auto ch = make_chan<int>(5);
    seen.push_back(ch.len());
    seen.push_back(ch.cap());
    ch.send(1);
    ch.send(2);
    seen.push_back(ch.len());
    ch.recv();
    seen.push_back(ch.len());
    seen.push_back(ch.cap());
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(seen, (std::vector<std::size_t>{0, 0, 0, 5, 2, 1, 5}));
}

TEST_P(ChanTest, NilChannelIsNilHasNoBufferAndNeverProceedsInSelect) {
  bool nil_is_nil = false, made_is_nil = true;
  std::size_t nil_len = 1, nil_cap = 1;
  std::size_t recv_choice = 99, send_choice = 99;
  bool default_ran = false;
  int ready_chosen = 0;
  int rc = run([&] {
    Chan<int> nil_ch;
    auto made = make_chan<int>();
    nil_is_nil = nil_ch.is_nil();
    made_is_nil = made.is_nil();
    nil_len = nil_ch.len();
    nil_cap = nil_ch.cap();
    recv_choice = fsan::select(fsan::recv_case(nil_ch), fsan::default_case([&] { default_ran = true; }));
    send_choice = fsan::select(fsan::send_case(nil_ch, 1), fsan::default_case());
    auto ready = make_chan<int>(1);
    for (int i = 0; i < 100; ++i) {
      ready.send(i);
      ready_chosen +=
          fsan::select(fsan::recv_case(nil_ch), fsan::recv_case(ready), fsan::send_case(nil_ch, 3)) == 1 ? 1 : 0;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(nil_is_nil);
  EXPECT_FALSE(made_is_nil);
  EXPECT_EQ(nil_len, 0u);
  EXPECT_EQ(nil_cap, 0u);
  EXPECT_EQ(recv_choice, 1u);
  EXPECT_TRUE(default_ran);
  EXPECT_EQ(send_choice, 1u);
  EXPECT_EQ(ready_chosen, 100);
}

TEST_P(ChanTest, CarriesMoveOnlyElements) {
  for (std::size_t cap : {0u, 2u}) {
    std::vector<int> got;
    int rc = run([&] {
      auto ch = make_chan<std::unique_ptr<int>>(cap);
      fsan::go([ch] {
        for (int i = 0; i < 10; ++i) ch.send(std::make_unique<int>(i));
        ch.close();
      });
      for (auto& p : ch) got.push_back(p ? *p : -1);
    });
    EXPECT_CLEAN_RUN(rc);
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << "cap " << cap;
  }
}

// Request/reply: each request carries the channel its reply goes to.
TEST_P(ChanTest, CarriesChannelsOfChannels) {
  std::vector<int> replies;
  int rc = run([&] {
    auto requests = make_chan<std::pair<int, Chan<int>>>();
    fsan::go([requests] {
      for (auto& [n, reply] : requests) reply.send(n * n);
    });
    for (int i = 1; i <= 5; ++i) {
      auto reply = make_chan<int>();
      requests.send({i, reply});
      replies.push_back(*reply.recv());
    }
    requests.close();
    // A Chan<Chan<int>> proper, buffered and unbuffered.
    auto chans = make_chan<Chan<int>>(1);
    auto inner = make_chan<int>(1);
    chans.send(inner);
    Chan<int> back = *chans.recv();
    back.send(42);
    replies.push_back(*inner.recv());
    replies.push_back(back == inner ? 1 : 0);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(replies, (std::vector<int>{1, 4, 9, 16, 25, 42, 1}));
}

TEST_P(ChanTest, UnitChannelSignalsAndCloseBroadcasts) {
  constexpr int kWaiters = 5;
  int signals = 0, closed_seen = 0;
  int rc = run([&] {
    auto ping = make_chan<Unit>();
    auto stop = make_chan<Unit>();
    auto results = make_chan<bool>(kWaiters);
    fsan::go([ping] {
      for (int i = 0; i < 3; ++i) ping.send(Unit{});
    });
    for (int i = 0; i < 3; ++i) signals += ping.recv().has_value() ? 1 : 0;
    for (int k = 0; k < kWaiters; ++k) fsan::go([stop, results] { results.send(!stop.recv().has_value()); });
    stop.close();
    for (int k = 0; k < kWaiters; ++k) closed_seen += *results.recv() ? 1 : 0;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(signals, 3);
  EXPECT_EQ(closed_seen, kWaiters);
}

int drain_sum(const Chan<int>& ch, std::size_t& cap_seen) {
  cap_seen = ch.cap();
  int sum = 0;
  for (int x : ch) sum += x;
  return sum;
}

// Every operation is const: a channel captured by value in a non-mutable
// lambda, or held through const&, is fully usable.
TEST_P(ChanTest, ConstHandleSupportsEveryOperation) {
  int sum = 0;
  std::size_t cap_seen = 0, len_seen = 0;
  int rc = run([&] {
    const Chan<int> ch = make_chan<int>(4);
    const Chan<Unit> sent = make_chan<Unit>();
    fsan::go([ch, sent] {  // not mutable
      ch.send(1);
      ch.send(2);
      ch.send(3);
      sent.send(Unit{});
      ch.close();
    });
    sent.recv();
    len_seen = ch.len();
    sum = drain_sum(ch, cap_seen);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(len_seen, 3u);
  EXPECT_EQ(cap_seen, 4u);
  EXPECT_EQ(sum, 6);
}

TEST_P(ChanTest, EqualityComparesIdentity) {
  bool copy_eq = false, moved_eq = false, distinct_ne = false, nils_eq = false, nil_ne_made = false;
  int rc = run([&] {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    Chan<int> a_copy = a;
    copy_eq = a_copy == a && !(a_copy != a);
    Chan<int> a_copy2 = a;
    Chan<int> moved = std::move(a_copy2);
    moved_eq = moved == a;
    distinct_ne = a != b && !(a == b);
    nils_eq = Chan<int>{} == Chan<int>{};
    nil_ne_made = Chan<int>{} != a;
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(copy_eq);
  EXPECT_TRUE(moved_eq);
  EXPECT_TRUE(distinct_ne);
  EXPECT_TRUE(nils_eq);
  EXPECT_TRUE(nil_ne_made);
}

TEST_P(ChanTest, CarriesLargeElements) {
  using Big = std::array<char, 4096>;
  for (std::size_t cap : {0u, 4u}) {
    int bad = 0, count = 0;
    int rc = run([&] {
      auto ch = make_chan<Big>(cap);
      fsan::go([ch] {
        for (int i = 0; i < 50; ++i) {
          Big b;
          for (std::size_t j = 0; j < b.size(); ++j) b[j] = static_cast<char>((i * 31 + j) % 127);
          ch.send(b);
        }
        ch.close();
      });
      int i = 0;
      for (const Big& b : ch) {
        for (std::size_t j = 0; j < b.size(); ++j)
          if (b[j] != static_cast<char>((i * 31 + j) % 127)) ++bad;
        ++i;
      }
      count = i;
    });
    EXPECT_CLEAN_RUN(rc);
    EXPECT_EQ(count, 50) << "cap " << cap;
    EXPECT_EQ(bad, 0) << "cap " << cap;
  }
}

// Counted: counts live instances and spots destruction of a dead one.
struct Counted {
  static inline std::atomic<int> live{0};
  static inline std::atomic<int> bad_destroy{0};
  static constexpr unsigned kAlive = 0xA11CEu;
  int v;
  unsigned state;
  explicit Counted(int x) : v(x), state(kAlive) { live.fetch_add(1); }
  Counted(const Counted& o) : v(o.v), state(kAlive) { live.fetch_add(1); }
  Counted(Counted&& o) noexcept : v(o.v), state(kAlive) { live.fetch_add(1); }
  Counted& operator=(const Counted&) = default;
  ~Counted() {
    if (state != kAlive) bad_destroy.fetch_add(1);
    state = 0;
    live.fetch_sub(1);
  }
};

// Every element moved through a channel — handed over directly, buffered,
// left in a dropped or closed channel, offered by a select case that did not
// run — is destroyed exactly once.
TEST_P(ChanTest, ElementsWithDestructorsAreDestroyedExactlyOnce) {
  Counted::live = 0;
  Counted::bad_destroy = 0;
  int received_sum = 0;
  int rc = run([&] {
    {  // direct handoff to a blocked receiver, and a blocked sender
      auto ch = make_chan<Counted>();
      auto done = make_chan<int>();
      fsan::go([ch, done] {
        int s = 0;
        for (int i = 0; i < 3; ++i) s += ch.recv()->v;
        done.send(s);
      });
      for (int i = 1; i <= 3; ++i) ch.send(Counted(i));
      received_sum += *done.recv();
    }
    {  // through the buffer, with some values left in it when dropped
      auto ch = make_chan<Counted>(8);
      for (int i = 0; i < 6; ++i) ch.send(Counted(10));
      received_sum += ch.recv()->v;
      received_sum += ch.recv()->v;
    }
    {  // closed with values still buffered
      auto ch = make_chan<Counted>(4);
      ch.send(Counted(1));
      ch.send(Counted(1));
      ch.close();
      received_sum += ch.recv()->v;
    }
    {  // select: a send case that does not run, a recv case that does
      auto full = make_chan<Counted>(1);
      full.send(Counted(0));
      auto ready = make_chan<Counted>(1);
      ready.send(Counted(100));
      fsan::select(fsan::send_case(full, Counted(5)),
                   fsan::recv_case(ready, [&](std::optional<Counted> c) { received_sum += c ? c->v : -1000; }));
      fsan::select(fsan::send_case(full, Counted(5)), fsan::default_case());
    }
    {  // a blocked sender whose value moves into the buffer on receive
      auto ch = make_chan<Counted>(1);
      ch.send(Counted(1000));
      auto done = make_chan<Unit>();
      fsan::go([ch, done] {
        ch.send(Counted(1000));
        done.send(Unit{});
      });
      received_sum += ch.recv()->v;
      done.recv();
      received_sum += ch.recv()->v;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(received_sum, 6 + 20 + 1 + 100 + 2000);
  EXPECT_EQ(Counted::live.load(), 0) << "instances leaked (or destroyed too often)";
  EXPECT_EQ(Counted::bad_destroy.load(), 0) << "destroyed twice";
}

// The channel lives while any handle does: the fiber that made it may exit.
TEST_P(ChanTest, ChannelOutlivesTheFiberThatMadeIt) {
  std::vector<int> got;
  int rc = run([&] {
    auto handoff = make_chan<Chan<int>>();
    fsan::go([handoff] {
      auto ch = make_chan<int>(3);
      ch.send(1);
      ch.send(2);
      ch.send(3);
      ch.close();
      handoff.send(ch);
    });
    Chan<int> ch = *handoff.recv();
    for (int x : ch) got.push_back(x);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

TEST_P(ChanTest, ManySendersAndReceiversExchangeEveryValueOnce) {
  constexpr int kSenders = 8, kReceivers = 8, kPerSender = 2000;
  for (std::size_t cap : {0u, 64u}) {
    long long total = 0, count = 0;
    int rc = run([&] {
      auto ch = make_chan<int>(cap);
      auto senders_done = make_chan<Unit>();
      auto partial = make_chan<std::pair<long long, long long>>();
      for (int s = 0; s < kSenders; ++s)
        fsan::go([ch, senders_done, s] {
          for (int i = 0; i < kPerSender; ++i) ch.send(s * kPerSender + i);
          senders_done.send(Unit{});
        });
      for (int r = 0; r < kReceivers; ++r)
        fsan::go([ch, partial] {
          long long sum = 0, n = 0;
          for (int v : ch) {
            sum += v;
            ++n;
          }
          partial.send({sum, n});
        });
      for (int s = 0; s < kSenders; ++s) senders_done.recv();
      ch.close();
      for (int r = 0; r < kReceivers; ++r) {
        auto [sum, n] = *partial.recv();
        total += sum;
        count += n;
      }
    });
    EXPECT_CLEAN_RUN(rc);
    const long long n = static_cast<long long>(kSenders) * kPerSender;
    EXPECT_EQ(count, n) << "cap " << cap;
    EXPECT_EQ(total, n * (n - 1) / 2) << "cap " << cap;
  }
}

}  // namespace
