// The detector interface: every sync event the runtime core emits reaches an
// installed SyncHooks, and with none installed nothing is called. Internal
// test (includes runtime/ headers).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include <fsan/fsan.hpp>

#include "hooks/sync_hooks.hpp"
#include "sched/fiber.hpp"

namespace {

using fsan::detail::Fiber;
using fsan::detail::SyncOp;
using fsan::detail::WaitReason;

struct Recorder final : fsan::detail::SyncHooks {
  std::mutex mu;
  int spawns = 0, exits = 0, blocks = 0, unblocks = 0, acquires = 0, releases = 0;
  std::vector<WaitReason> reasons;
  std::vector<SyncOp> ops;
  void on_spawn(Fiber*, Fiber*) override {
    std::lock_guard<std::mutex> g(mu);
    ++spawns;
  }
  void on_exit(Fiber*) override {
    std::lock_guard<std::mutex> g(mu);
    ++exits;
  }
  void on_block(Fiber*, WaitReason why, const void*) override {
    std::lock_guard<std::mutex> g(mu);
    ++blocks;
    reasons.push_back(why);
  }
  void on_unblock(Fiber*, Fiber*) override {
    std::lock_guard<std::mutex> g(mu);
    ++unblocks;
  }
  void on_acquire(Fiber*, const void*, SyncOp op) override {
    std::lock_guard<std::mutex> g(mu);
    ++acquires;
    ops.push_back(op);
  }
  void on_release(Fiber*, const void*, SyncOp op) override {
    std::lock_guard<std::mutex> g(mu);
    ++releases;
    ops.push_back(op);
  }
  bool saw(SyncOp op) {
    for (SyncOp o : ops)
      if (o == op) return true;
    return false;
  }
};

class SyncHooksTest : public ::testing::TestWithParam<int> {};

TEST_P(SyncHooksTest, EverySyncEventReachesTheInstalledDetector) {
  Recorder rec;
  fsan::detail::install_sync_hooks(&rec);
  fsan::Options o;
  o.workers = GetParam();
  int rc = fsan::run(o, [] {
    auto ch = fsan::make_chan<int>();
    auto buf = fsan::make_chan<int>(1);
    fsan::go([ch, buf] {
      ch.send(1);
      buf.send(2);
      buf.close();
    });
    EXPECT_EQ(*ch.recv(), 1);
    EXPECT_EQ(*buf.recv(), 2);
    EXPECT_FALSE(buf.recv().has_value());
    fsan::sleep_for(std::chrono::milliseconds(1));
  });
  fsan::detail::uninstall_sync_hooks(&rec);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(rec.spawns, 2);  // main and the sender
  EXPECT_EQ(rec.exits, 2);   // the sender and main
  EXPECT_GE(rec.blocks, 1);  // at least the sleep
  EXPECT_EQ(rec.blocks, rec.unblocks);
  EXPECT_TRUE(rec.saw(SyncOp::chan_send));
  EXPECT_TRUE(rec.saw(SyncOp::chan_recv));
  EXPECT_TRUE(rec.saw(SyncOp::chan_slot));
  EXPECT_TRUE(rec.saw(SyncOp::chan_close));
  EXPECT_TRUE(rec.saw(SyncOp::chan_recv_closed));
  bool slept = false;
  for (WaitReason r : rec.reasons) slept = slept || r == WaitReason::sleep;
  EXPECT_TRUE(slept);
}

TEST(SyncHooks, NoneInstalledMeansTheHookPointerIsNull) {
  EXPECT_EQ(fsan::detail::g_sync_hooks, nullptr);
  Recorder a, b;
  fsan::detail::install_sync_hooks(&a);
  EXPECT_EQ(fsan::detail::g_sync_hooks, &a);  // one detector: called directly
  fsan::detail::install_sync_hooks(&b);
  EXPECT_NE(fsan::detail::g_sync_hooks, nullptr);
  fsan::detail::uninstall_sync_hooks(&a);
  fsan::detail::uninstall_sync_hooks(&b);
  EXPECT_EQ(fsan::detail::g_sync_hooks, nullptr);
}

INSTANTIATE_TEST_SUITE_P(Workers, SyncHooksTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

}  // namespace
