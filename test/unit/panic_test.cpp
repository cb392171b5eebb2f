// Panics (SEMANTICS.md "Findings"): send on a closed channel, close of a
// closed or nil channel, an exception escaping a fiber and a stack overflow
// each produce one `panic` finding and make run return Options::exitcode.
// Receiving from a closed channel is not a panic. Under 1, 2 and 4 workers.
#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>

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

class PanicTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, PanicTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// expect_one_panic: rc is the default exit code and exactly one panic was
// reported, its message containing `what` (empty: any message).
void expect_one_panic(int rc, const std::string& what) {
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  ASSERT_EQ(count_kind(fs, FindingKind::panic), 1u) << describe(fs);
  const fsan::Finding* f = first_of_kind(fs, FindingKind::panic);
  EXPECT_NE(f->message.find(what), std::string::npos) << "message: '" << f->message << "'";
}

TEST_P(PanicTest, SendOnAClosedChannelPanics) {
  int rc = run([] {
    auto ch = make_chan<int>(1);
    ch.close();
    ch.send(1);
  });
  expect_one_panic(rc, "send on closed channel");
  EXPECT_EQ(fsan::findings().size(), 1u) << describe(fsan::findings());
}

TEST_P(PanicTest, SendOnAClosedUnbufferedChannelPanics) {
  int rc = run([] {
    auto ch = make_chan<int>();
    ch.close();
    ch.send(1);
  });
  expect_one_panic(rc, "send on closed channel");
}

TEST_P(PanicTest, CloseOfAClosedChannelPanics) {
  int rc = run([] {
    auto ch = make_chan<int>();
    ch.close();
    ch.close();
  });
  expect_one_panic(rc, "close of closed channel");
  EXPECT_EQ(fsan::findings().size(), 1u) << describe(fsan::findings());
}

TEST_P(PanicTest, CloseOfANilChannelPanics) {
  int rc = run([] {
    Chan<int> nil_ch;
    nil_ch.close();
  });
  expect_one_panic(rc, "close of nil channel");
  EXPECT_EQ(fsan::findings().size(), 1u) << describe(fsan::findings());
}

TEST_P(PanicTest, ReceiveOnAClosedChannelIsNotAPanic) {
  std::optional<int> a = 1, b = 1;
  int rc = run([&] {
    auto ch = make_chan<int>();
    ch.close();
    a = ch.recv();
    b = ch.recv();
    auto buffered = make_chan<int>(2);
    buffered.close();
    fsan::select(fsan::recv_case(buffered));
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(a, std::nullopt);
  EXPECT_EQ(b, std::nullopt);
}

// The panic happens in a fiber other than main; main waits for the report.
TEST_P(PanicTest, PanicInAChildFiberIsReported) {
  int rc = run([] {
    auto ch = make_chan<int>();
    ch.close();
    fsan::go([ch] { ch.send(1); });
    fsan_test::wait_for_findings(1);
  });
  expect_one_panic(rc, "send on closed channel");
}

// Whether the sender is already parked when close happens or arrives later,
// its send panics.
TEST_P(PanicTest, ASenderBlockedOnAChannelThatGetsClosedPanics) {
  int rc = run([] {
    auto ch = make_chan<int>();
    auto started = make_chan<Unit>(1);
    fsan::go([ch, started] {
      started.send(Unit{});
      ch.send(1);
    });
    started.recv();
    fsan_test::yield_n(100);
    ch.close();
    fsan_test::wait_for_findings(1);
  });
  expect_one_panic(rc, "send on closed channel");
}

TEST_P(PanicTest, SelectSendCaseOnAClosedChannelPanics) {
  int rc = run([] {
    auto ch = make_chan<int>(1);
    ch.close();
    fsan::select(fsan::send_case(ch, 1), fsan::default_case());
  });
  expect_one_panic(rc, "send on closed channel");
}

TEST_P(PanicTest, PanicFindingNamesThePanickingFiber) {
  int rc = run([] {
    auto ch = make_chan<int>();
    ch.close();
    ch.close();
  });
  expect_one_panic(rc, "close of closed channel");
  const auto fs = fsan::findings();
  const fsan::Finding* f = first_of_kind(fs, FindingKind::panic);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(fsan_test::fiber_in(*f, 1), nullptr) << describe(fs);
}

TEST_P(PanicTest, ExceptionEscapingAFiberIsAPanic) {
  int rc = run([] {
    fsan::go([] { throw std::runtime_error("boom from a fiber"); });
    fsan_test::wait_for_findings(1);
  });
  expect_one_panic(rc, "");
}

TEST_P(PanicTest, ExceptionEscapingMainIsAPanic) {
  int rc = run([] { throw std::runtime_error("boom from main"); });
  expect_one_panic(rc, "");
}

TEST_P(PanicTest, ExceptionsCaughtInsideAFiberAreNotPanics) {
  int caught = 0;
  int rc = run([&] {
    auto out = make_chan<int>();
    for (int i = 0; i < 20; ++i)
      fsan::go([out] {
        try {
          fsan::yield();
          throw std::runtime_error("caught");
        } catch (const std::runtime_error&) {
          out.send(1);
        }
      });
    for (int i = 0; i < 20; ++i) caught += *out.recv();
    try {
      throw std::logic_error("in main");
    } catch (const std::logic_error&) {
      ++caught;
    }
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(caught, 21);
}

// overflow: unbounded recursion in frames smaller than a page, so every page
// of the stack is touched in turn and the guard page is hit, not skipped.
FSAN_NOINLINE int overflow(int depth, const volatile char* parent) {
  volatile char buf[256];
  for (auto& c : buf) c = static_cast<char>(depth);
  if (depth == 1 << 30) return 0;  // never: the stack ends long before
  return overflow(depth + 1, buf) + parent[depth % 256];
}

TEST_P(PanicTest, StackOverflowIsAPanicFinding) {
  int rc = run([] {
    fsan::go([] {
      volatile char top[256] = {};
      overflow(1, top);
    });
    fsan_test::wait_for_findings(1);
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  ASSERT_EQ(count_kind(fs, FindingKind::panic), 1u) << describe(fs);
  const fsan::Finding* f = first_of_kind(fs, FindingKind::panic);
  EXPECT_NE((f->message + " " + f->summary).find("overflow"), std::string::npos) << describe(fs);
}

}  // namespace
