// The context tree's bookkeeping, which the public API cannot see: a child
// cancelled on its own, or dropped, leaves its parent's child list (so a
// long-lived parent does not accumulate children); a deadline timer holds the
// node only while armed; cancel and Group emit the happens-before events the
// race detector needs. Internal test (includes runtime/ headers).
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fsan/fsan.hpp>

#include "context/context_node.hpp"
#include "hooks/sync_hooks.hpp"

namespace {

using namespace std::chrono_literals;
using fsan::detail::CtxNode;
using fsan::detail::LockGuard;
using fsan::detail::node_of;

std::size_t children_of(const fsan::Context& c) {
  CtxNode* n = node_of(c);
  LockGuard g(n->lock);
  std::size_t k = 0;
  for (CtxNode* x = n->first_child; x != nullptr; x = x->next_sibling) ++k;
  return k;
}

std::uint32_t refs_of(const fsan::Context& c) { return node_of(c)->refs.load(); }

TEST(ContextTree, BackgroundHasNoNode) { EXPECT_EQ(node_of(fsan::background()), nullptr); }

TEST(ContextTree, ChildrenCancelledOnTheirOwnLeaveTheParentsList) {
  std::size_t live = 99, after = 99, after_drop = 99;
  int rc = fsan::run([&] {
    auto [parent, cancel] = fsan::with_cancel(fsan::background());
    std::vector<std::pair<fsan::Context, fsan::CancelFunc>> kids;
    for (int i = 0; i < 5; ++i) kids.push_back(fsan::with_timeout(parent, 1h));
    for (int i = 0; i < 5; ++i) kids.push_back(fsan::with_cancel(parent));
    live = children_of(parent);
    for (int i = 0; i < 5; ++i) kids[static_cast<std::size_t>(i)].second();
    after = children_of(parent);
    // Dropped uncancelled (a lost cancel): with no timer holding them they
    // are freed, and unlinked on the way.
    kids.clear();
    after_drop = children_of(parent);
    cancel();
  });
  EXPECT_EQ(rc, 66);  // the lost cancels, reported once (one creation site, one drop site)
  const auto fs = fsan::findings();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].kind, fsan::FindingKind::lost_cancel);
  EXPECT_NE(fs[0].message.find("with_cancel at context_tree_test.cpp:46"), std::string::npos) << fs[0].message;
  EXPECT_EQ(live, 10u);
  EXPECT_EQ(after, 5u);
  EXPECT_EQ(after_drop, 0u);
}

TEST(ContextTree, ParentCancelEmptiesItsChildList) {
  std::size_t before = 0, after = 99;
  int rc = fsan::run([&] {
    auto [parent, cancel] = fsan::with_cancel(fsan::background());
    auto a = fsan::with_cancel(parent);
    auto b = fsan::with_cancel(parent);
    before = children_of(parent);
    cancel();
    after = children_of(parent);
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(before, 2u);
  EXPECT_EQ(after, 0u);
}

TEST(ContextTree, AnArmedDeadlineHoldsOneReferenceUntilCancelled) {
  std::uint32_t armed = 0, cancelled = 0;
  int rc = fsan::run([&] {
    auto [ctx, cancel] = fsan::with_timeout(fsan::background(), 1h);
    armed = refs_of(ctx);  // the Context, the CancelFunc's handle, the timer
    cancel();
    cancelled = refs_of(ctx);
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(armed, 3u);
  EXPECT_EQ(cancelled, 2u);
}

// Records (op, object) of every acquire and release.
struct HbRecorder final : fsan::detail::SyncHooks {
  std::mutex mu;
  std::vector<std::pair<const void*, bool>> context_events;  // (node, is_release)
  int waitgroup_releases = 0, waitgroup_acquires = 0;
  void on_spawn(fsan::detail::Fiber*, fsan::detail::Fiber*) override {}
  void on_exit(fsan::detail::Fiber*) override {}
  void on_block(fsan::detail::Fiber*, fsan::detail::WaitReason, const void*) override {}
  void on_unblock(fsan::detail::Fiber*, fsan::detail::Fiber*) override {}
  void on_acquire(fsan::detail::Fiber*, const void* obj, fsan::detail::SyncOp op) override {
    std::lock_guard<std::mutex> g(mu);
    if (op == fsan::detail::SyncOp::context) context_events.emplace_back(obj, false);
    if (op == fsan::detail::SyncOp::waitgroup) ++waitgroup_acquires;
  }
  void on_release(fsan::detail::Fiber*, const void* obj, fsan::detail::SyncOp op) override {
    std::lock_guard<std::mutex> g(mu);
    if (op == fsan::detail::SyncOp::context) context_events.emplace_back(obj, true);
    if (op == fsan::detail::SyncOp::waitgroup) ++waitgroup_releases;
  }
};

TEST(ContextTree, CancelReleasesEveryEndedNodeAndErrAcquiresIt) {
  HbRecorder rec;
  fsan::detail::install_sync_hooks(&rec);
  const void* parent_node = nullptr;
  const void* child_node = nullptr;
  int rc = fsan::run([&] {
    auto [parent, cancel] = fsan::with_cancel(fsan::background());
    auto [child, cancel_child] = fsan::with_cancel(parent);
    parent_node = node_of(parent);
    child_node = node_of(child);
    (void)child.err();  // live: orders nothing
    cancel();
    (void)child.err();
  });
  fsan::detail::uninstall_sync_hooks(&rec);
  EXPECT_EQ(rc, 0);
  using E = std::pair<const void*, bool>;
  EXPECT_EQ(rec.context_events, (std::vector<E>{{parent_node, true}, {child_node, true}, {child_node, false}}));
}

TEST(ContextTree, GroupTasksReleaseAndWaitAcquires) {
  HbRecorder rec;
  fsan::detail::install_sync_hooks(&rec);
  int rc = fsan::run([] {
    fsan::Group g;
    for (int i = 0; i < 3; ++i) g.go([] {});
    g.wait();
  });
  fsan::detail::uninstall_sync_hooks(&rec);
  EXPECT_EQ(rc, 0);
  EXPECT_GE(rec.waitgroup_releases, 3);
  EXPECT_GE(rec.waitgroup_acquires, 1);
}

}  // namespace
