// The wait-for graph detector's hooks (SyncHooks) and the state they keep:
//  - per agent: identity, stack range, locks held (acquisition order) and,
//    while parked, what it waits on (the channels of a select, or the one
//    object) with a sequence number per wait;
//  - per lock: its holders (the writer, or readers);
//  - stacks that escaped: a pointer into them was sent on a channel;
//  - who last released each sync object, and the stacks a fiber outside
//    their family may have learned about through a release -> acquire edge;
//  - fiber lineage (parent links of live fibers and of dead ones with live
//    descendants: a child may hold references into its ancestors' stacks);
//  - the lock-order graph: every blocking acquisition of a mutex (Mutex, or
//    RWMutex's writer side) adds edges held -> new; a new edge that closes a
//    cycle is reported once per lock pair (lock_order_inversion). Try-lock
//    acquisitions are held but add no edge (std::lock's protocol). The graph
//    has no size cap: it grows with the locks the program uses.
// Invariants: a recorded holder really holds the lock (set after the
// acquisition, cleared before the release); a recorded wait is really queued
// (set at on_block, under the wait queue's lock, cleared at on_unblock).
// Partial deadlocks are judged by the monitor, never here: hooks run under
// wait-queue locks and only record.
// Lock order: State::mu is a leaf below wait-queue and channel locks (the
// handle registry's lock comes after it, in take_snapshot); stacks are
// captured before it is taken and findings published after.
#include "waitgraph/wait_graph.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fsan/finding.hpp>

#include "base/lock.hpp"
#include "base/stack_trace.hpp"
#include "chan/waiter.hpp"
#include "hooks/sync_hooks.hpp"
#include "report/report.hpp"
#include "sched/fiber.hpp"
#include "waitgraph/handle_registry.hpp"

namespace fsan::detail::waitgraph {
namespace {

constexpr int kDepth = 32;

struct Stack {
  std::uintptr_t pcs[kDepth];
  int n = 0;
  // capture: the caller's stack, without the hook frames above it. Taken at
  // every lock acquisition, so a frame-pointer walk (fsan-clang++ keeps frame
  // pointers; the runtime always does), not the DWARF unwinder: that cost
  // microseconds per lock and was half of a lock-heavy program's overhead.
  FSAN_NOINLINE void capture() {
    n = walk_frame_pointers(reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)), pcs, kDepth);
  }
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
  bool known = false;  // identity filled in
  std::uint64_t id = 0;
  std::string name;
  bool foreign = false;
  std::uintptr_t stack_lo = 0, stack_hi = 0;
  std::vector<Held> held;  // in acquisition order (blocking and try acquisitions of writer locks)
  std::vector<const void*> read_held;  // RWMutexes it holds as a reader
  bool blocked = false;
  WaitReason why = WaitReason::none;
  std::vector<const void*> waits_on;
  std::uint64_t block_seq = 0;
  bool escaped = false;  // a pointer into its stack was sent on a channel
};

// A lock's holder: the writer, or one reader (a reader may hold it twice).
struct Holder {
  const Fiber* f;
  bool reader;
};

// Lineage of one fiber of the run: kept while it is alive or has live descendants.
struct Lineage {
  std::uint64_t parent = 0;
  std::uint32_t live_children = 0;
  bool alive = true;
};

// One lock-order edge a -> b: b was acquired (blocking) while a was held.
struct OrderEdge {
  FiberRecord fiber;
  Stack held_at;      // where a was acquired
  Stack acquired_at;  // where b was acquired
};

using LockPair = std::pair<const void*, const void*>;

struct State {
  Lock mu;
  std::unordered_map<const Fiber*, AgentState> agents FSAN_GUARDED_BY(mu);
  std::unordered_map<const void*, std::vector<Holder>> holders FSAN_GUARDED_BY(mu);
  std::set<const void*> rwmutexes FSAN_GUARDED_BY(mu);  // seen as an RWMutex (labels only)
  std::unordered_map<std::uint64_t, Lineage> lineage FSAN_GUARDED_BY(mu);
  std::map<std::uintptr_t, const Fiber*> stacks FSAN_GUARDED_BY(mu);  // stack_lo -> fiber (escape lookups)
  // Who last released each sync object (fiber id), and the fibers whose
  // stacks a fiber outside their family may have learned about through such
  // a release -> acquire edge (see note_communication).
  std::unordered_map<const void*, std::uint64_t> last_releaser FSAN_GUARDED_BY(mu);
  std::unordered_set<std::uint64_t> shared_out FSAN_GUARDED_BY(mu);
  bool communication_lost FSAN_GUARDED_BY(mu) = false;  // last_releaser hit its cap: every stack counts as shared
  std::uint64_t next_block_seq FSAN_GUARDED_BY(mu) = 0;
  std::unordered_map<const void*, std::vector<const void*>> order FSAN_GUARDED_BY(mu);
  std::map<LockPair, OrderEdge> edges FSAN_GUARDED_BY(mu);
  std::set<LockPair> reported_pairs FSAN_GUARDED_BY(mu);

  void reset() FSAN_REQUIRES(mu) {
    agents.clear();
    stacks.clear();
    last_releaser.clear();
    shared_out.clear();
    communication_lost = false;
    holders.clear();
    rwmutexes.clear();
    lineage.clear();
    order.clear();
    edges.clear();
    reported_pairs.clear();
  }
};

State& state() {
  static State* s = new State();
  return *s;
}

// agent: f's record, its identity filled in on first sight (fibers that
// existed before the detector was on, foreign threads). s.mu held.
AgentState& agent(State& s, const Fiber* f) FSAN_REQUIRES(s.mu) {
  AgentState& a = s.agents[f];
  if (!a.known) {
    a.known = true;
    a.id = f->foreign ? 0 : f->id;
    a.name = f->name;
    a.foreign = f->foreign;
    if (!f->foreign) {
      // Top of a fiber's stack: [closure][Fiber]; both belong to it.
      a.stack_lo = reinterpret_cast<std::uintptr_t>(f->stack_lo);
      a.stack_hi = reinterpret_cast<std::uintptr_t>(f) + sizeof(Fiber);
      s.stacks[a.stack_lo] = f;
    }
  }
  return a;
}

// prune_lineage: drops dead fibers with no live descendants, up the chain. s.mu held.
void prune_lineage(State& s, std::uint64_t id) FSAN_REQUIRES(s.mu) {
  for (;;) {
    auto it = s.lineage.find(id);
    if (it == s.lineage.end() || it->second.alive || it->second.live_children != 0) return;
    std::uint64_t parent = it->second.parent;
    s.lineage.erase(it);
    auto p = s.lineage.find(parent);
    if (p == s.lineage.end()) return;
    if (p->second.live_children > 0) --p->second.live_children;
    id = parent;
  }
}

// Sync objects whose release -> acquire edges can carry a pointer from one
// fiber to another (all but annotations, Once and context internals).
bool communicates(SyncOp op) {
  switch (op) {
    case SyncOp::chan_send:
    case SyncOp::chan_recv:
    case SyncOp::chan_close:
    case SyncOp::chan_recv_closed:
    case SyncOp::chan_slot:
    case SyncOp::mutex:
    case SyncOp::mutex_try:
    case SyncOp::rwmutex_read:
    case SyncOp::rwmutex_read_try:
    case SyncOp::waitgroup:
    case SyncOp::cond:
      return true;
    case SyncOp::once:
    case SyncOp::context:
    case SyncOp::annotation:
      return false;
  }
  return false;
}

constexpr std::size_t kMaxReleasers = std::size_t{1} << 22;

// note_communication: fiber `to` acquired what fiber `from` released. `to`
// may now hold pointers into the stacks of `from` and of `from`'s ancestors
// up to (not including) their common ancestor — stacks `to` could not reach
// by descent. Those count as shared with outsiders. s.mu held.
void note_communication(State& s, std::uint64_t from, std::uint64_t to, bool to_foreign) FSAN_REQUIRES(s.mu) {
  std::uint64_t chain[64];
  int n = 0;
  if (!to_foreign)
    for (std::uint64_t x = to; x != 0 && n < 64;) {
      chain[n++] = x;
      auto l = s.lineage.find(x);
      x = l == s.lineage.end() ? 0 : l->second.parent;
    }
  for (std::uint64_t x = from; x != 0;) {
    if (std::find(chain, chain + n, x) != chain + n) return;  // a common ancestor: reachable by descent
    if (!s.shared_out.insert(x).second && n == 0) return;
    auto l = s.lineage.find(x);
    x = l == s.lineage.end() ? 0 : l->second.parent;
  }
}

std::string lock_label(const State& s, const void* m) FSAN_REQUIRES(s.mu) {
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
// lock_order_inversion

struct PendingInversion {
  FiberRecord first_fiber;
  Stack first_held_at, first_acquired_at;
  Stack second_held_at;
  std::vector<std::string> labels;  // the cycle's locks: new, held, ..., in "acquired after" order
};

// path_between: lock-order path from -> ... -> to (nodes, from first). s.mu held.
std::vector<const void*> path_between(const State& s, const void* from, const void* to) FSAN_REQUIRES(s.mu) {
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
bool add_edge(State& s, const Fiber* f, const Held& held, const void* m, const Stack& now, PendingInversion* out)
    FSAN_REQUIRES(s.mu) {
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
    State& s = state();
    LockGuard g(s.mu);
    // A new run: lock addresses and fiber records of the last one mean nothing now.
    if (parent == nullptr && child->id == 1) s.reset();
    agent(s, child);
    std::uint64_t pid = parent != nullptr && !parent->foreign ? parent->id : 0;
    s.lineage[child->id] = Lineage{pid, 0, true};
    auto p = s.lineage.find(pid);
    if (p != s.lineage.end()) ++p->second.live_children;
  }

  void on_exit(Fiber* f) override {
    {
      State& s = state();
      LockGuard g(s.mu);
      auto it = s.agents.find(f);
      if (it != s.agents.end()) {
        // Locks it still holds stay locked with no known holder (another
        // fiber may unlock them); its record may be reused by a new fiber.
        for (const Held& h : it->second.held) drop_holder(s, h.m, f, false);
        for (const void* m : it->second.read_held) drop_holder(s, m, f, true);
        auto st = s.stacks.find(it->second.stack_lo);
        if (st != s.stacks.end() && st->second == f) s.stacks.erase(st);
        s.agents.erase(it);
      }
      s.shared_out.erase(f->id);
      auto l = s.lineage.find(f->id);
      if (l != s.lineage.end()) {
        l->second.alive = false;
        prune_lineage(s, f->id);
      }
    }
    note_change();
  }

  void on_block(Fiber* f, WaitReason why, const void* obj) override {
    if (f->foreign) return;
    {
      State& s = state();
      LockGuard g(s.mu);
      AgentState& a = agent(s, f);
      a.blocked = true;
      a.why = why;
      a.block_seq = ++s.next_block_seq;
      a.waits_on.clear();
      if (why == WaitReason::select) {
        // The select's Waiters are linked (under their channels' locks) before it parks.
        for (const Waiter* w = f->waiters; w != nullptr; w = w->next_of_agent) a.waits_on.push_back(w->chan);
      } else if (obj != nullptr) {
        a.waits_on.push_back(obj);
      }
      if (why == WaitReason::sync_rwmutex_lock || why == WaitReason::sync_rwmutex_rlock) s.rwmutexes.insert(obj);
    }
    note_change();
  }

  void on_unblock(Fiber* f, Fiber* /*by*/) override {
    State& s = state();
    LockGuard g(s.mu);
    auto it = s.agents.find(f);
    if (it != s.agents.end()) it->second.blocked = false;
  }

  void on_acquire(Fiber* f, const void* obj, SyncOp op) override {
    if (communicates(op)) {
      State& s = state();
      LockGuard g(s.mu);
      auto r = s.last_releaser.find(obj);
      if (r != s.last_releaser.end() && r->second != (f->foreign ? 0 : f->id))
        note_communication(s, r->second, f->foreign ? 0 : f->id, f->foreign);
    }
    if (op == SyncOp::rwmutex_read || op == SyncOp::rwmutex_read_try) {
      State& s = state();
      LockGuard g(s.mu);
      agent(s, f).read_held.push_back(obj);
      s.rwmutexes.insert(obj);
      s.holders[obj].push_back(Holder{f, true});
      return;
    }
    if (op != SyncOp::mutex && op != SyncOp::mutex_try) return;
    Stack st;
    st.capture();
    std::vector<PendingInversion> found;
    {
      State& s = state();
      LockGuard g(s.mu);
      AgentState& a = agent(s, f);
      if (op == SyncOp::mutex) {
        for (const Held& h : a.held) {
          PendingInversion p;
          if (h.m != obj && add_edge(s, f, h, obj, st, &p)) found.push_back(std::move(p));
        }
      }
      a.held.push_back(Held{obj, st});
      s.holders[obj].push_back(Holder{f, false});
    }
    for (const PendingInversion& p : found) report_inversion(f, st, p);
  }

  void on_release(Fiber* f, const void* obj, SyncOp op) override {
    if (!communicates(op)) return;
    State& s = state();
    LockGuard g(s.mu);
    if (!f->foreign) {
      if (s.last_releaser.size() < kMaxReleasers)
        s.last_releaser[obj] = f->id;
      else if (s.last_releaser.count(obj) == 0)
        s.communication_lost = true;
      else
        s.last_releaser[obj] = f->id;
    }
    if (op != SyncOp::mutex && op != SyncOp::rwmutex_read) return;
    // The releaser may differ from the holder (Go allows it).
    const Fiber* owner = drop_holder(s, obj, f, op == SyncOp::rwmutex_read);
    auto it = s.agents.find(owner != nullptr ? owner : f);
    if (it == s.agents.end()) return;
    if (op == SyncOp::rwmutex_read) {
      auto& rh = it->second.read_held;
      auto r = std::find(rh.begin(), rh.end(), obj);
      if (r != rh.end()) rh.erase(r);
      return;
    }
    auto& held = it->second.held;
    for (auto h = held.rbegin(); h != held.rend(); ++h)
      if (h->m == obj) {
        held.erase(std::next(h).base());
        break;
      }
  }

 private:
  // drop_holder: removes one holder of m of that side, f's own entry if it
  // has one; returns whose it was. s.mu held.
  static const Fiber* drop_holder(State& s, const void* m, const Fiber* f, bool reader) FSAN_REQUIRES(s.mu) {
    auto it = s.holders.find(m);
    if (it == s.holders.end()) return nullptr;
    auto& hs = it->second;
    auto pick = std::find_if(hs.begin(), hs.end(), [&](const Holder& h) { return h.f == f && h.reader == reader; });
    if (pick == hs.end())
      pick = std::find_if(hs.begin(), hs.end(), [&](const Holder& h) { return h.reader == reader; });
    const Fiber* owner = nullptr;
    if (pick != hs.end()) {
      owner = pick->f;
      hs.erase(pick);
    }
    if (hs.empty()) s.holders.erase(it);
    return owner;
  }
};

}  // namespace

void take_snapshot(WaitSnapshot* out) {
  State& s = state();
  LockGuard g(s.mu);
  out->agents.clear();
  out->holders.clear();
  out->is_rwmutex.clear();
  out->parent_of.clear();
  out->agents.reserve(s.agents.size());
  for (const auto& [f, a] : s.agents) {
    if (a.foreign) continue;  // foreign threads are live; as holders they read as unknown (id 0)
    AgentView& v = out->agents.emplace_back();
    v.fiber = f;
    v.id = a.id;
    v.name = a.name;
    v.main = a.id == 1;
    v.blocked = a.blocked;
    v.why = a.why;
    v.waits_on = a.waits_on;
    v.block_seq = a.block_seq;
    v.stack_lo = a.stack_lo;
    v.stack_hi = a.stack_hi;
    v.escaped = a.escaped;
    v.shared_out = s.communication_lost || s.shared_out.count(a.id) != 0;
  }
  for (const auto& [m, hs] : s.holders) {
    auto& ids = out->holders[m];
    for (const Holder& h : hs) {
      auto a = s.agents.find(h.f);
      ids.push_back(a == s.agents.end() || a->second.foreign ? 0 : a->second.id);
    }
  }
  for (const void* m : s.rwmutexes) out->is_rwmutex[m] = true;
  for (const auto& [id, l] : s.lineage) out->parent_of[id] = l.parent;
  snapshot_handles(&out->handles);
}

void note_published(const void* elem, std::size_t size) {
  // Words that could be user-space pointers at all; most sent values (ints,
  // heap pointers aside) are skipped without taking the lock.
  constexpr std::size_t kMaxScan = 4096;
  std::uintptr_t candidates[16];
  int n = 0;
  auto base = static_cast<const unsigned char*>(elem);
  for (std::size_t off = 0; off + sizeof(std::uintptr_t) <= std::min(size, kMaxScan) && n < 16;
       off += sizeof(std::uintptr_t)) {
    std::uintptr_t w;
    std::memcpy(&w, base + off, sizeof(w));
    // Pointers into the value itself (std::string's small buffer) go with it.
    bool inside = w >= reinterpret_cast<std::uintptr_t>(base) && w < reinterpret_cast<std::uintptr_t>(base) + size;
    if (!inside && w >= 0x10000 && w < (std::uintptr_t{1} << 48)) candidates[n++] = w;
  }
  if (n == 0) return;
  State& s = state();
  LockGuard g(s.mu);
  for (int i = 0; i < n; ++i) {
    auto it = s.stacks.upper_bound(candidates[i]);
    if (it == s.stacks.begin()) continue;
    --it;
    auto a = s.agents.find(it->second);
    if (a != s.agents.end() && candidates[i] < a->second.stack_hi) a->second.escaped = true;
  }
}

bool still_blocked(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& waits) {
  State& s = state();
  LockGuard g(s.mu);
  std::unordered_map<std::uint64_t, std::uint64_t> seq_of;
  for (const auto& [f, a] : s.agents)
    if (a.blocked && !a.foreign) seq_of[a.id] = a.block_seq;
  for (const auto& [id, seq] : waits) {
    auto it = seq_of.find(id);
    if (it == seq_of.end() || it->second != seq) return false;
  }
  return true;
}

void enable() {
  static bool enabled = false;
  if (enabled) return;
  enabled = true;
  start_handle_tracking();
  install_sync_hooks(new WaitGraphHooks());
  start_monitor();
}

}  // namespace fsan::detail::waitgraph
