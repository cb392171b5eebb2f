// Monitor: the background thread that finds partial deadlocks while the
// program runs. Hooks only record and flag a change (a block, an exit, a
// dropped channel handle); every tick (kTick) with a change the monitor takes
// one consistent snapshot (wait_graph.cpp), solves liveness (liveness.cpp)
// and reports each stuck group that has a fiber not reported in this same
// wait before, once two checks a tick apart agree — so a group is reported
// within about two ticks of forming,
// off every hot path and off every wait-queue lock.
// Before reporting, the group's fibers are probed for their stacks (under
// g_dump_mu, so run end cannot free them) and re-checked to still be in the
// very wait the analysis saw: a fiber that moved on is never reported.
// Lock order: g_dump_mu -> registry locks (the probe) ; the wait-graph state
// lock and the handle registry lock are taken alone. Nothing is held while
// a finding is published.
#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fsan/finding.hpp>

#include "report/report.hpp"
#include "sched/fiber.hpp"
#include "sched/foreign.hpp"
#include "sched/scheduler.hpp"
#include "waitgraph/handle_registry.hpp"
#include "waitgraph/liveness.hpp"
#include "waitgraph/wait_graph.hpp"

namespace fsan::detail::waitgraph {
namespace {

constexpr auto kTick = std::chrono::milliseconds(50);

std::atomic<bool> g_changed{false};

using Wait = std::pair<std::uint64_t, std::uint64_t>;  // fiber id, block_seq

// Waits already reported, and waits judged stuck at the last check, per run
// (only the monitor thread touches it). A group is reported only when the
// check before already judged every member stuck in the same wait: two
// snapshots a tick apart, so a hand-off in flight at the first one (a job
// queued for a pool worker that has not picked it up yet) is seen.
struct Reported {
  std::uint64_t epoch = 0;
  std::set<Wait> waits;
  std::set<Wait> suspects;
};

bool has_new_member(const WaitSnapshot& snap, const StuckGroup& g, const Reported& r) {
  for (std::size_t i : g.members)
    if (r.waits.count(Wait{snap.agents[i].id, snap.agents[i].block_seq}) == 0) return true;
  return false;
}

bool foreign_may_act(Scheduler* s) {
  if (foreign_running(s->epoch()) > 0) return true;
  std::vector<FiberSnapshot> attached;
  {
    LockGuard g(g_dump_mu);
    foreign_snapshot(s->epoch(), attached);
  }
  return !attached.empty() || foreign_unknown_threads(s->epoch(), s->worker_tids());
}

// report_group: probes the members' stacks, re-checks their waits, publishes.
bool report_group(Scheduler* s, const WaitSnapshot& snap, const StuckGroup& g) {
  std::vector<Wait> waits;
  std::unordered_map<const Fiber*, std::size_t> slot;
  for (std::size_t k = 0; k < g.members.size(); ++k) {
    const AgentView& a = snap.agents[g.members[k]];
    waits.emplace_back(a.id, a.block_seq);
    slot[a.fiber] = k;
  }
  std::vector<FiberSnapshot> snaps(g.members.size());
  std::size_t found = 0;
  {
    LockGuard dl(g_dump_mu);
    if (!s->fibers_valid() || s->stopping()) return false;
    s->for_each_fiber([&](Fiber* f) {
      auto it = slot.find(f);
      if (it == slot.end()) return;
      const AgentView& a = snap.agents[g.members[it->second]];
      if (f->id != a.id) return;  // the record was reused
      FiberSnapshot& fs = snaps[it->second];
      fs.id = f->id;
      fs.parent_id = f->parent_id;
      fs.name = f->name;
      fs.state = FiberState::waiting;
      fs.wait_reason = a.why;
      fs.wait_since_ns = f->wait_since_ns;
      fs.n_created = f->n_created;
      for (int i = 0; i < fs.n_created; ++i) fs.created[i] = f->created_pcs[i];
      fs.n_stack = s->capture_parked_stack(f, fs.stack, kMaxProbeFrames);
      ++found;
    });
  }
  if (found != g.members.size() || !still_blocked(waits)) return false;
  Finding f;
  f.kind = FindingKind::partial_deadlock;
  std::size_t n = g.members.size();
  f.message = "partial deadlock: " + (n == 1 ? std::string("a fiber is") : std::to_string(n) + " fibers are") +
              " blocked for good while the program runs (" + describe_group(snap, g.members) + ")";
  f.fibers = describe_snapshots(snaps, now_ns());
  f.graph = build_graph(snap, g.members);
  publish_finding(std::move(f));
  return true;
}

void check_once(Reported* reported) {
  SchedRef ref;
  Scheduler* s = ref.get();
  if (s == nullptr || s->stopping() || !s->options().detect_partial_deadlocks) return;
  if (reported->epoch != s->epoch()) {
    reported->epoch = s->epoch();
    reported->waits.clear();
    reported->suspects.clear();
  }
  std::set<Wait> suspects = std::move(reported->suspects);
  reported->suspects.clear();
  WaitSnapshot snap;
  take_snapshot(&snap);
  auto fresh = [&](std::vector<StuckGroup> groups) {
    std::vector<StuckGroup> out;
    for (StuckGroup& g : groups)
      if (has_new_member(snap, g, *reported)) out.push_back(std::move(g));
    return out;
  };
  std::vector<StuckGroup> groups = fresh(find_stuck_groups(snap));
  if (groups.empty()) return;
  // Only now the costlier question: could a thread outside the runtime act?
  if (foreign_may_act(s)) {
    snap.foreign_active = true;
    groups = fresh(find_stuck_groups(snap));
  }
  for (const StuckGroup& g : groups) {
    bool confirmed = true;
    for (std::size_t i : g.members) {
      Wait w{snap.agents[i].id, snap.agents[i].block_seq};
      confirmed = confirmed && suspects.count(w) != 0;
      reported->suspects.insert(w);
    }
    if (!confirmed) {
      note_change();  // look again at the next tick
      continue;
    }
    if (!report_group(s, snap, g)) continue;
    for (std::size_t i : g.members) reported->waits.insert(Wait{snap.agents[i].id, snap.agents[i].block_seq});
  }
}

void monitor_main() {
  mark_internal_thread();
  Reported reported;
  for (;;) {
    std::this_thread::sleep_for(kTick);
    bool changed = g_changed.exchange(false, std::memory_order_acq_rel);
    changed = handles_changed() || changed;
    if (changed) check_once(&reported);
  }
}

// draw_global_graph: the global deadlock's graph, every blocked fiber in it.
void draw_global_graph(Finding& f) {
  WaitSnapshot snap;
  take_snapshot(&snap);
  std::vector<std::size_t> members;
  for (std::size_t i = 0; i < snap.agents.size(); ++i)
    if (snap.agents[i].blocked) members.push_back(i);
  if (!members.empty()) f.graph = build_graph(snap, members);
}

}  // namespace

void note_change() {
  if (!g_changed.load(std::memory_order_relaxed)) g_changed.store(true, std::memory_order_release);
}

void start_monitor() {
  g_global_deadlock_graph = &draw_global_graph;
  std::thread(monitor_main).detach();
}

}  // namespace fsan::detail::waitgraph
