// The wait-for graph detector (SyncHooks). Two findings, made while the
// program runs:
//  - lock_order_inversion: every blocking acquisition of a mutex (Mutex, or
//    RWMutex's writer side) adds edges held -> new to a process-wide order
//    graph; a new edge that closes a cycle is reported once per lock pair.
//    Try-lock acquisitions are held but add no edge (std::lock's protocol).
//  - partial_deadlock: when a fiber parks on a mutex, follow holder -> what
//    that holder is parked on -> ...; coming back to the start means no fiber
//    of the cycle can run again (only a mutex's holder unlocks it).
// Invariants: holder[m] is set only after m's acquisition (on_acquire) and
// cleared before its release (on_release precedes the unlock), so a recorded
// holder really holds m; blocked_on is set at on_block and cleared at
// on_unblock, so a recorded waiter really is queued. Anything unknown (no
// recorded holder, a holder that is not parked, a foreign thread) ends the
// walk quietly: no false positives.
// Lock order: State::mu is a leaf (hooks may run under a wait-queue lock);
// stacks are captured before it is taken and findings published after.
#include "waitgraph/wait_graph.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fsan/finding.hpp>

#include "base/stack_trace.hpp"
#include "hooks/sync_hooks.hpp"
#include "report/report.hpp"
#include "sched/fiber.hpp"

namespace fsan::detail::waitgraph {
namespace {

constexpr int kDepth = 48;

struct Stack {
  std::uintptr_t pcs[kDepth];
  int n = 0;
  // capture: the caller's stack, without the hook frames above it.
  void capture() { n = capture_stack(pcs, kDepth, 0); }
};

// What a report needs of a fiber that may have exited since (edges outlive
// the fibers that created them).
struct FiberRecord {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  std::string name;
  bool foreign = false;
  std::uintptr_t created[kMaxCreationFrames];
  int n_created = 0;

  static FiberRecord of(const Fiber* f) {
    FiberRecord r;
    r.id = f->id;
    r.parent_id = f->parent_id;
    r.name = f->name;
    r.foreign = f->foreign;
    r.n_created = f->n_created;
    std::copy(f->created_pcs, f->created_pcs + f->n_created, r.created);
    return r;
  }
};

struct Held {
  const void* m = nullptr;
  Stack acquired;
};

struct AgentState {
  std::vector<Held> held;  // in acquisition order
  const void* blocked_on = nullptr;
  WaitReason why = WaitReason::none;
  Stack block_stack;
};

// One lock-order edge a -> b: b was acquired (blocking) while a was held.
struct OrderEdge {
  FiberRecord fiber;
  Stack held_at;      // where a was acquired
  Stack acquired_at;  // where b was acquired
};

using LockPair = std::pair<const void*, const void*>;

struct State {
  std::mutex mu;
  std::unordered_map<const Fiber*, AgentState> agents;
  std::unordered_map<const void*, const Fiber*> holder;
  std::set<const void*> rwmutexes;  // seen parked on as an RWMutex (labels only)
  std::unordered_map<const void*, std::vector<const void*>> order;
  std::map<LockPair, OrderEdge> edges;
  std::set<LockPair> reported_pairs;
  std::set<std::vector<std::uint64_t>> reported_cycles;

  void reset() {
    agents.clear();
    holder.clear();
    rwmutexes.clear();
    order.clear();
    edges.clear();
    reported_pairs.clear();
    reported_cycles.clear();
  }
};

State& state() {
  static State* s = new State();
  return *s;
}

bool is_mutex_wait(WaitReason why) {
  return why == WaitReason::sync_mutex_lock || why == WaitReason::sync_rwmutex_lock ||
         why == WaitReason::sync_rwmutex_rlock;
}

std::string lock_label(const State& s, const void* m) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s %p", s.rwmutexes.count(m) != 0 ? "RWMutex" : "Mutex", m);
  return buf;
}

std::string fiber_label(std::uint64_t id, const std::string& name) {
  return "fiber " + std::to_string(id) + (name.empty() ? "" : " " + name);
}

FiberInfo describe_record(const FiberRecord& r, const Stack& st) {
  // describe_fiber reads only identity and stacks from a record like this.
  Fiber copy;
  copy.id = r.id;
  copy.parent_id = r.parent_id;
  copy.name = r.name;
  copy.foreign = r.foreign;
  copy.state.store(FiberState::running, std::memory_order_relaxed);
  copy.n_created = static_cast<std::uint8_t>(r.n_created);
  std::copy(r.created, r.created + r.n_created, copy.created_pcs);
  return describe_fiber(&copy, st.pcs, st.n);
}

// ---------------------------------------------------------------------------
// partial_deadlock

struct CycleMember {
  const Fiber* f;
  const void* waits_on;
  WaitReason why;
  Stack stack;
};

struct PendingDeadlock {
  std::vector<CycleMember> cycle;
  std::vector<std::string> lock_labels;
};

// find_cycle: from f (just recorded as parked on its mutex), follows
// holder -> blocked_on until it returns to f. s.mu held.
bool find_cycle(State& s, const Fiber* f, PendingDeadlock* out) {
  std::vector<const Fiber*> path{f};
  const Fiber* cur = f;
  for (;;) {
    const AgentState& st = s.agents[cur];
    auto h = s.holder.find(st.blocked_on);
    if (h == s.holder.end()) return false;  // holder unknown: maybe about to unlock
    const Fiber* next = h->second;
    if (next == f) break;
    if (std::find(path.begin(), path.end(), next) != path.end()) return false;  // a cycle f only feeds into
    auto a = s.agents.find(next);
    if (next->foreign || a == s.agents.end() || a->second.blocked_on == nullptr) return false;  // may run
    path.push_back(next);
    cur = next;
  }
  std::vector<std::uint64_t> key;
  for (const Fiber* p : path) key.push_back(p->id);
  std::sort(key.begin(), key.end());
  if (!s.reported_cycles.insert(key).second) return false;
  for (const Fiber* p : path) {
    const AgentState& st = s.agents[p];
    out->cycle.push_back(CycleMember{p, st.blocked_on, st.why, st.block_stack});
    out->lock_labels.push_back(lock_label(s, st.blocked_on));
  }
  return true;
}

void report_deadlock(const Fiber* self, const PendingDeadlock& d) {
  Finding f;
  f.kind = FindingKind::partial_deadlock;
  std::string chain;
  for (std::size_t i = 0; i < d.cycle.size(); ++i) {
    const CycleMember& c = d.cycle[i];
    const CycleMember& next = d.cycle[(i + 1) % d.cycle.size()];
    FiberInfo fi = describe_fiber(c.f, c.stack.pcs, c.stack.n);
    if (c.f == self) {
      // Still on its way to park: say what it is about to wait for.
      fi.state = "waiting";
      fi.wait_reason = to_string(c.why);
      fi.wait_ns = 0;
    }
    f.fibers.push_back(std::move(fi));
    std::string fid = "f" + std::to_string(c.f->id);
    std::string mid = "m" + std::to_string(i + 1);
    std::string nid = "f" + std::to_string(next.f->id);
    f.graph.nodes.push_back(GraphNode{fid, "fiber", fiber_label(c.f->id, c.f->name)});
    f.graph.nodes.push_back(GraphNode{mid, "mutex", d.lock_labels[i]});
    f.graph.edges.push_back(GraphEdge{fid, mid, std::string("waits (") + to_string(c.why) + ")"});
    f.graph.edges.push_back(GraphEdge{mid, nid, "held by"});
    f.graph.cycle.push_back(fid);
    f.graph.cycle.push_back(mid);
    chain += (i ? ", " : "") + fiber_label(c.f->id, "") + " waits for " + d.lock_labels[i] + " held by " +
             fiber_label(next.f->id, "");
  }
  f.graph.cycle.push_back(f.graph.cycle.front());
  f.message = d.cycle.size() == 1 ? "partial deadlock: fiber locks a mutex it already holds (" + chain + ")"
                                  : "partial deadlock: " + std::to_string(d.cycle.size()) +
                                        " fibers wait for each other's mutexes (" + chain + ")";
  publish_finding(std::move(f));
}

// ---------------------------------------------------------------------------
// lock_order_inversion

struct PendingInversion {
  FiberRecord first_fiber;
  Stack first_held_at, first_acquired_at;
  Stack second_held_at;
  std::vector<std::string> labels;  // the cycle's locks: new, held, ..., in "acquired after" order
};

// path_between: lock-order path from -> ... -> to (nodes, from first). s.mu held.
std::vector<const void*> path_between(const State& s, const void* from, const void* to) {
  std::unordered_map<const void*, const void*> parent{{from, nullptr}};
  std::vector<const void*> todo{from};
  while (!todo.empty()) {
    const void* n = todo.back();
    todo.pop_back();
    if (n == to) {
      std::vector<const void*> path;
      for (const void* p = to; p != nullptr; p = parent[p]) path.push_back(p);
      std::reverse(path.begin(), path.end());
      return path;
    }
    auto it = s.order.find(n);
    if (it == s.order.end()) continue;
    for (const void* m : it->second)
      if (parent.emplace(m, n).second) todo.push_back(m);
  }
  return {};
}

// add_edge: records held -> m for f; returns true (filling *out) when the
// edge closes a cycle not reported yet. s.mu held.
bool add_edge(State& s, const Fiber* f, const Held& held, const void* m, const Stack& now, PendingInversion* out) {
  LockPair e{held.m, m};
  if (s.edges.count(e) != 0) return false;
  bool found = false;
  std::vector<const void*> path = path_between(s, m, held.m);
  if (!path.empty()) {
    // Both orders taken by one fiber alone cannot deadlock (SEMANTICS.md:
    // "by different fibers").
    bool other = false;
    for (std::size_t i = 0; i + 1 < path.size(); ++i)
      other = other || s.edges[{path[i], path[i + 1]}].fiber.id != f->id;
    LockPair key{std::min(held.m, m), std::max(held.m, m)};
    if (other && s.reported_pairs.insert(key).second) {
      const OrderEdge& first = s.edges[{path[0], path[1]}];
      out->first_fiber = first.fiber;
      out->first_held_at = first.held_at;
      out->first_acquired_at = first.acquired_at;
      out->second_held_at = held.acquired;
      // "acquired after" runs against the order edges: m, held, ..., path[1], m.
      out->labels.push_back(lock_label(s, m));
      for (std::size_t i = path.size() - 1; i >= 1; --i) out->labels.push_back(lock_label(s, path[i]));
      found = true;
    }
  }
  s.edges.emplace(e, OrderEdge{FiberRecord::of(f), held.acquired, now});
  s.order[held.m].push_back(m);
  return found;
}

void report_inversion(const Fiber* self, const Stack& now, const PendingInversion& p) {
  Finding f;
  f.kind = FindingKind::lock_order_inversion;
  FiberInfo second = describe_fiber(self, now.pcs, now.n);
  second.state = "running";
  FiberInfo first = describe_record(p.first_fiber, p.first_acquired_at);
  // labels: m1 = the lock just acquired, m2 = the held one, ..., mn = the
  // lock the first order's fiber acquired after m1.
  std::size_t n = p.labels.size();
  f.message = "lock-order inversion: " + p.labels[n - 1] + " acquired after " + p.labels[0] + " by " +
              fiber_label(p.first_fiber.id, p.first_fiber.name) + ", and " + p.labels[0] + " acquired after " +
              p.labels[1] + " by " + fiber_label(self->id, self->name);
  f.fibers.push_back(std::move(first));
  f.fibers.push_back(std::move(second));
  for (std::size_t i = 0; i < n; ++i) {
    std::string id = "m" + std::to_string(i + 1);
    f.graph.nodes.push_back(GraphNode{id, "mutex", p.labels[i]});
    f.graph.cycle.push_back(id);
  }
  f.graph.cycle.push_back("m1");
  for (std::size_t i = 0; i < n; ++i)
    f.graph.edges.push_back(
        GraphEdge{"m" + std::to_string(i + 1), "m" + std::to_string((i + 1) % n + 1), "acquired after"});
  // Which fiber acquired which lock: the current one took m1 (holding m2);
  // the first order's fiber took the last lock of the cycle before m1.
  std::string cur = "f" + std::to_string(self->id), old = "f" + std::to_string(p.first_fiber.id);
  f.graph.nodes.push_back(GraphNode{old, "fiber", fiber_label(p.first_fiber.id, p.first_fiber.name)});
  if (cur != old) f.graph.nodes.push_back(GraphNode{cur, "fiber", fiber_label(self->id, self->name)});
  f.graph.edges.push_back(GraphEdge{old, "m" + std::to_string(n), "acquired"});
  f.graph.edges.push_back(GraphEdge{cur, "m1", "acquired"});
  publish_finding(std::move(f));
}

// ---------------------------------------------------------------------------

class WaitGraphHooks final : public SyncHooks {
 public:
  void on_spawn(Fiber* parent, Fiber* child) override {
    if (parent != nullptr || child->id != 1) return;
    // A new run: lock addresses and fiber records of the last one mean nothing now.
    State& s = state();
    std::lock_guard<std::mutex> g(s.mu);
    s.reset();
  }

  void on_exit(Fiber* f) override {
    State& s = state();
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.agents.find(f);
    if (it == s.agents.end()) return;
    // Locks it still holds stay locked with no known holder (another fiber
    // may unlock them); its record may be reused by a new fiber.
    for (const Held& h : it->second.held) {
      auto hi = s.holder.find(h.m);
      if (hi != s.holder.end() && hi->second == f) s.holder.erase(hi);
    }
    s.agents.erase(it);
  }

  void on_block(Fiber* f, WaitReason why, const void* obj) override {
    if (!is_mutex_wait(why) || f->foreign) return;
    Stack st;
    st.capture();
    PendingDeadlock d;
    bool found;
    {
      State& s = state();
      std::lock_guard<std::mutex> g(s.mu);
      AgentState& a = s.agents[f];
      a.blocked_on = obj;
      a.why = why;
      a.block_stack = st;
      if (why != WaitReason::sync_mutex_lock) s.rwmutexes.insert(obj);
      found = find_cycle(s, f, &d);
    }
    if (found) report_deadlock(f, d);
  }

  void on_unblock(Fiber* f, Fiber* /*by*/) override {
    State& s = state();
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.agents.find(f);
    if (it != s.agents.end()) it->second.blocked_on = nullptr;
  }

  void on_acquire(Fiber* f, const void* obj, SyncOp op) override {
    if (op != SyncOp::mutex && op != SyncOp::mutex_try) return;
    Stack st;
    st.capture();
    std::vector<PendingInversion> found;
    {
      State& s = state();
      std::lock_guard<std::mutex> g(s.mu);
      AgentState& a = s.agents[f];
      if (op == SyncOp::mutex) {
        for (const Held& h : a.held) {
          PendingInversion p;
          if (h.m != obj && add_edge(s, f, h, obj, st, &p)) found.push_back(std::move(p));
        }
      }
      a.held.push_back(Held{obj, st});
      s.holder[obj] = f;
    }
    for (const PendingInversion& p : found) report_inversion(f, st, p);
  }

  void on_release(Fiber* f, const void* obj, SyncOp op) override {
    if (op != SyncOp::mutex) return;
    State& s = state();
    std::lock_guard<std::mutex> g(s.mu);
    // The releaser may differ from the holder (Go allows it).
    auto hi = s.holder.find(obj);
    const Fiber* owner = hi != s.holder.end() ? hi->second : f;
    if (hi != s.holder.end()) s.holder.erase(hi);
    auto it = s.agents.find(owner);
    if (it == s.agents.end()) return;
    auto& held = it->second.held;
    for (auto h = held.rbegin(); h != held.rend(); ++h)
      if (h->m == obj) {
        held.erase(std::next(h).base());
        break;
      }
  }
};

}  // namespace

void enable() {
  static bool enabled = false;
  if (enabled) return;
  enabled = true;
  install_sync_hooks(new WaitGraphHooks());
}

}  // namespace fsan::detail::waitgraph
