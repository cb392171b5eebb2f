// Fiber dumps (API.md "dump_fibers", REPORTS.md headers): every live fiber
// with a Go-style header `fiber N "name" [wait reason, duration]:`, its
// stack (parked fibers are probed in the live run), and `created by fiber
// M at:` with the creation stack. SIGQUIT prints the same while a run is
// active and the process carries on. Under 1, 2 and 4 workers.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <regex>
#include <string>
#include <thread>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using fsan::make_chan;
using fsan::Unit;
using fsan_test::wait_until_blocked;

class DumpTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, DumpTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

// The dump section of the fiber whose header starts with `header`.
std::string section_of(const std::string& dump, const std::string& header) {
  std::size_t at = dump.find(header);
  if (at == std::string::npos) return "";
  std::size_t end = dump.find("\n\n", at);
  return dump.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

bool mentions_this_file(const std::string& text) { return text.find("dump_test.cpp:") != std::string::npos; }

// Kept out of line so it shows as a frame of its own in the parked stack.
__attribute__((noinline)) void send_forever_from_helper(fsan::Chan<int> ch) { ch.send(1); }

TEST_P(DumpTest, ParkedFiberShowsHeaderWaitReasonItsStackAndWhereItWasCreated) {
  std::string dump;
  std::uint64_t sender_id = 0;
  int rc = run([&] {
    auto ch = make_chan<int>();
    auto id = make_chan<std::uint64_t>(1);
    fsan::go_named("blocked-sender", [ch, id] {
      id.send(fsan::fiber_id());
      send_forever_from_helper(ch);
    });
    sender_id = *id.recv();
    wait_until_blocked("[chan send", 1);
    dump = fsan::dump_fibers();
    ch.recv();  // let it finish
  });
  EXPECT_CLEAN_RUN(rc);
  std::string header = "fiber " + std::to_string(sender_id) + " \"blocked-sender\" [chan send";
  std::string sec = section_of(dump, header);
  ASSERT_FALSE(sec.empty()) << dump;
  std::size_t created = sec.find("created by fiber 1 at:");
  ASSERT_NE(created, std::string::npos) << sec;
  std::string stack = sec.substr(0, created), creation = sec.substr(created);
  EXPECT_NE(stack.find("send_forever_from_helper"), std::string::npos) << sec;
  EXPECT_TRUE(mentions_this_file(stack)) << sec;
  EXPECT_TRUE(mentions_this_file(creation)) << sec;
  // Frames carry module+offset always.
  EXPECT_TRUE(std::regex_search(stack, std::regex(R"(\(dump_test\+0x[0-9a-f]+\))"))) << sec;
}

TEST_P(DumpTest, CallingFiberShowsItselfRunningWithItsOwnStack) {
  std::string dump;
  int rc = run([&] { dump = fsan::dump_fibers(); });
  EXPECT_CLEAN_RUN(rc);
  std::string sec = section_of(dump, "fiber 1 \"main\" [running]:");
  ASSERT_FALSE(sec.empty()) << dump;
  EXPECT_TRUE(mentions_this_file(sec)) << sec;
  EXPECT_EQ(sec.find("dump_fibers"), std::string::npos) << "runtime frames are hidden\n" << sec;
}

TEST_P(DumpTest, ListsEveryLiveFiberOnceInIdOrder) {
  std::string dump;
  int rc = run([&] {
    auto release = make_chan<Unit>();
    for (int i = 0; i < 5; ++i) fsan::go([release] { release.recv(); });
    wait_until_blocked("[chan receive", 5);
    dump = fsan::dump_fibers();
    release.close();
    while (fsan::num_fibers() > 1) fsan::yield();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(fsan_test::count_occurrences(dump, "[chan receive"), 5u) << dump;
  EXPECT_EQ(fsan_test::count_occurrences(dump, "created by fiber 1 at:"), 5u) << dump;
  EXPECT_EQ(dump.find("fiber 1 \"main\" [running]:"), 0u) << dump;
}

// Go shows how long a fiber has waited; fibersan shows it from 1ms on.
TEST_P(DumpTest, LongWaitShowsItsDuration) {
  std::string dump;
  int rc = run([&] {
    auto ch = make_chan<int>();
    fsan::go([ch] { ch.recv(); });
    wait_until_blocked("[chan receive", 1);
    fsan::sleep_for(std::chrono::milliseconds(20));
    dump = fsan::dump_fibers();
    ch.send(1);
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_TRUE(std::regex_search(dump, std::regex(R"(\[chan receive, [0-9.]+(ms|s)\]:)"))) << dump;
}

TEST_P(DumpTest, DumpFromAForeignThreadProbesParkedFibers) {
  std::string dump;
  int rc = run([&] {
    auto ch = make_chan<int>();
    fsan::go_named("parked", [ch] { send_forever_from_helper(ch); });
    wait_until_blocked("[chan send", 1);
    std::thread t([&] { dump = fsan::dump_fibers(); });
    t.join();
    ch.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  std::string sec = section_of(dump, "\"parked\" [chan send");
  ASSERT_FALSE(sec.empty()) << dump;
  EXPECT_NE(sec.find("send_forever_from_helper"), std::string::npos) << sec;
  // The main fiber is running (it joins the thread) on some worker.
  EXPECT_NE(dump.find("fiber 1 \"main\" [running]:\n  (stack not captured: running)"), std::string::npos) << dump;
}

TEST(Dump, OutsideARunIsEmpty) { EXPECT_EQ(fsan::dump_fibers(), ""); }

// Reads what fd 2 receives until `marker` shows up (the dump is printed by
// another thread), then puts fd 2 back. Returns what was read.
std::string capture_stderr_until(const std::string& marker, void (*trigger)()) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  int saved = dup(2);
  dup2(fds[1], 2);
  close(fds[1]);
  trigger();
  std::string got;
  char buf[4096];
  while (got.find(marker) == std::string::npos) {
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  dup2(saved, 2);
  close(saved);
  close(fds[0]);
  return got;
}

// SIGQUIT in a run: the dump goes to stderr and the process carries on
// (the child exits 0 after checking it got the dump).
TEST(DumpDeathTest, SigquitPrintsTheDumpAndTheProcessContinues) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        signal(SIGQUIT, SIG_DFL);
        std::string got;
        fsan::Options o;
        o.workers = 2;
        int rc = fsan::run(o, [&] {
          auto ch = make_chan<int>();
          fsan::go_named("sigquit-parked", [ch] { send_forever_from_helper(ch); });
          wait_until_blocked("[chan send", 1);
          got = capture_stderr_until("fibersan: end of SIGQUIT dump", [] { kill(getpid(), SIGQUIT); });
          ch.recv();
        });
        std::fputs(got.c_str(), stderr);
        std::fprintf(stderr, "run returned %d\n", rc);
        std::exit(rc == 0 && got.find("end of SIGQUIT dump") != std::string::npos ? 0 : 1);
      },
      ::testing::ExitedWithCode(0),
      "fibersan: SIGQUIT: dump of every fiber(.|\n)*fiber [0-9]+ \"sigquit-parked\" \\[chan send(.|\n)*"
      "send_forever_from_helper(.|\n)*created by fiber 1 at:(.|\n)*run returned 0");
}

// Between runs SIGQUIT is the program's again: the handler in place before
// the run is back after it, and it was chained to during the run.
std::atomic<int> g_user_quits{0};
void user_quit_handler(int) { g_user_quits.fetch_add(1); }

TEST(DumpDeathTest, SigquitHandlerIsChainedDuringARunAndRestoredAfter) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        signal(SIGQUIT, &user_quit_handler);
        std::string got;
        fsan::run(
            [&] { got = capture_stderr_until("fibersan: end of SIGQUIT dump", [] { kill(getpid(), SIGQUIT); }); });
        struct sigaction after;
        sigaction(SIGQUIT, nullptr, &after);
        bool restored = (after.sa_flags & SA_SIGINFO) == 0 && after.sa_handler == &user_quit_handler;
        std::fprintf(stderr, "restored=%d user_quits=%d dumped=%d\n", restored ? 1 : 0, g_user_quits.load(),
                     got.find("fiber 1 \"main\"") != std::string::npos ? 1 : 0);
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "restored=1 user_quits=1 dumped=1");
}

}  // namespace
