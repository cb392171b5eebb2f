// The race detector: FastTrack-style happens-before over sparse vector
// clocks, with shadow cells per 8-byte granule (race/shadow.hpp) and the
// stack trie for both accesses' stacks (race/stack_trie.hpp).
//
// Slots: every agent (fiber, or foreign thread) holds a slot id (sid) for its
// lifetime. An exited agent's sid waits in a FIFO quarantine and is reused
// once kSidQuarantine later sids were freed; a reused sid's epochs continue
// where the last owner's stopped. Clocks therefore hold at most (peak live
// agents + quarantine) entries: recycling through all 2^20 sids made a
// spawn-and-join loop's clock grow by one entry per child and every join
// linear in it (quadratic; 250 us per spawn+join after 7k of them).
// The price, as with ThreadSanitizer's slot reuse: once a sid is reused,
// whoever synchronizes with the new owner also counts as ordered after the
// old owner's accesses — a possible missed race on memory last touched more
// than kSidQuarantine fiber exits ago, never a false report. Reports find an
// old owner's identity in the sid's short history (by epoch). An agent's own
// epoch is its clock entry for its sid and advances at every release.
//
// Happens-before comes only from the runtime's own events (SyncHooks: spawn,
// channels, sync objects, context), C++ atomics with their orders,
// standalone fences, and annotations — see SEMANTICS.md.
//
// Lock order: SyncVar shard lock -> SyncVar lock; the sid lock and the
// report lock are leaves.
#include "race/detector.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <fsan/finding.hpp>

#include "base/stack_trace.hpp"
#include "base/symbolizer.hpp"
#include "hooks/sync_hooks.hpp"
#include "race/race_state.hpp"
#include "race/shadow.hpp"
#include "race/stack_trie.hpp"
#include "race/vector_clock.hpp"
#include "report/report.hpp"
#include "sched/foreign.hpp"
#include "sched/park.hpp"
#include "sched/scheduler.hpp"
#include "waitgraph/wait_graph.hpp"

namespace fsan::detail::race {

std::atomic<bool> Detector::enabled_{false};

namespace {

// ---------------------------------------------------------------------------
// Slots

constexpr Sid kMaxSid = (1u << 20) - 1;

constexpr std::size_t kSidQuarantine = 256;
constexpr int kSidHistory = 4;  // owners remembered per sid, for reports

struct SidInfo {
  Epoch start = 0;  // the owner's first epoch in this sid
  std::uint64_t fiber_id = 0;
  std::string name;
  std::uint64_t parent_id = 0;
  std::uintptr_t created[8] = {};
  int n_created = 0;
};

struct Sids {
  std::mutex mu;
  Sid next_fresh = 1;
  std::deque<Sid> free;
  std::vector<Epoch> last_epoch = std::vector<Epoch>(kMaxSid + 1, 0);
  // info[sid][k]: the sid's owners, newest first (at most kSidHistory).
  std::vector<std::vector<SidInfo>> info = std::vector<std::vector<SidInfo>>(1024);
};

Sids& sids() {
  static Sids* s = new Sids();
  return *s;
}

Sid alloc_sid(const Fiber* f, Epoch* start) {
  Sids& s = sids();
  std::lock_guard<std::mutex> g(s.mu);
  Sid sid;
  if (s.free.size() > kSidQuarantine) {
    sid = s.free.front();
    s.free.pop_front();
  } else if (s.next_fresh <= kMaxSid) {
    sid = s.next_fresh++;
  } else if (!s.free.empty()) {
    sid = s.free.front();
    s.free.pop_front();
  } else {
    sid = 0;  // every sid is held by a live agent: this one goes unchecked
  }
  if (sid == 0) return 0;
  *start = s.last_epoch[sid] + 1;
  if (sid >= s.info.size()) s.info.resize(std::min<std::size_t>(kMaxSid + 1, s.info.size() * 2 + sid));
  std::vector<SidInfo>& owners = s.info[sid];
  if (owners.size() >= static_cast<std::size_t>(kSidHistory)) owners.pop_back();
  owners.insert(owners.begin(), SidInfo{});
  SidInfo& in = owners.front();
  in.start = *start;
  in.fiber_id = f->id;
  in.name = f->name;
  in.parent_id = f->parent_id;
  in.n_created = std::min<int>(f->n_created, 8);
  for (int i = 0; i < in.n_created; ++i) in.created[i] = f->created_pcs[i];
  return sid;
}

void free_sid(Sid sid, Epoch last) {
  if (sid == 0) return;
  Sids& s = sids();
  std::lock_guard<std::mutex> g(s.mu);
  s.last_epoch[sid] = last;
  s.free.push_back(sid);
}

// sid_info: who owned `sid` at `epoch`; fiber_id 0 when that owner has
// left the sid's history.
SidInfo sid_info(Sid sid, Epoch epoch) {
  Sids& s = sids();
  std::lock_guard<std::mutex> g(s.mu);
  if (sid < s.info.size())
    for (const SidInfo& in : s.info[sid])
      if (in.start <= epoch) return in;
  SidInfo unknown;
  unknown.name = "(an exited fiber)";
  return unknown;
}

// ---------------------------------------------------------------------------
// Sync variables: one clock per synchronizing address.

struct SyncVar {
  std::mutex mu;
  VClock clock;
};

constexpr int kSyncShards = 64;
struct SyncShard {
  std::mutex mu;
  std::unordered_map<std::uintptr_t, SyncVar*> vars;
};

SyncShard* sync_shards() {
  static SyncShard* s = new SyncShard[kSyncShards];
  return s;
}

SyncVar* sync_var(std::uintptr_t addr) {
  SyncShard& sh = sync_shards()[(addr >> 4) % kSyncShards];
  std::lock_guard<std::mutex> g(sh.mu);
  SyncVar*& v = sh.vars[addr];
  if (v == nullptr) v = new SyncVar();
  return v;
}

void reset_sync_vars() {
  for (int i = 0; i < kSyncShards; ++i) {
    SyncShard& sh = sync_shards()[i];
    std::lock_guard<std::mutex> g(sh.mu);
    for (auto& [a, v] : sh.vars) delete v;
    sh.vars.clear();
  }
}

// ---------------------------------------------------------------------------
// Agents

AgentState* make_state(Fiber* a) {
  auto* st = new AgentState();
  st->fiber = a;
  st->sid = alloc_sid(a, &st->epoch);
  if (st->sid != 0) st->clock.set(st->sid, st->epoch);
  a->race = st;
  return st;
}

FSAN_ALWAYS_INLINE AgentState* state_of(Fiber* a) {
  auto* st = static_cast<AgentState*>(a->race);
  return FSAN_LIKELY(st != nullptr) ? st : make_state(a);
}

// current_state: the running agent's state. A worker's scheduler context is
// runtime code, never tracked (nullptr). A foreign thread gets an agent only
// from instrumented code: an interceptor may run while the thread is
// registering itself (holding the registry lock), so it never creates one.
thread_local bool t_in_interceptor = false;
FSAN_ALWAYS_INLINE AgentState* current_state() {
  Worker* w = tl_worker;
  if (FSAN_LIKELY(w != nullptr)) return w->current != nullptr ? state_of(w->current) : nullptr;
  Fiber* a = foreign_self_if_exists();
  if (a == nullptr) {
    if (t_in_interceptor) return nullptr;
    a = foreign_self();
  }
  return state_of(a);
}

void tick(AgentState* st) {
  if (st->sid == 0) return;
  ++st->epoch;
  st->clock.set(st->sid, st->epoch);
}

void acquire_from(AgentState* st, std::uintptr_t addr) {
  SyncVar* v = sync_var(addr);
  std::lock_guard<std::mutex> g(v->mu);
  st->clock.join(v->clock);
}

void release_to(AgentState* st, std::uintptr_t addr) {
  {
    SyncVar* v = sync_var(addr);
    std::lock_guard<std::mutex> g(v->mu);
    v->clock.join(st->clock);
  }
  tick(st);
}

// ---------------------------------------------------------------------------
// Benign races (annotate_benign_race) and reporting

std::mutex g_report_mu;
struct BenignRange {
  std::uintptr_t lo, hi;
};
std::vector<BenignRange> g_benign;

bool is_benign(std::uintptr_t addr, std::size_t size) {
  std::lock_guard<std::mutex> g(g_report_mu);
  for (const BenignRange& r : g_benign)
    if (addr < r.hi && addr + size > r.lo) return true;
  return false;
}

std::vector<Frame> frames_of(NodeId node) {
  std::uintptr_t pcs[64];
  int n = StackTrie::instance().stack(node, pcs, 64);
  return symbolize(pcs, n);
}

Location locate(std::uintptr_t addr, std::size_t size);

// Granules already reported in this run: one report per racy location, like
// ThreadSanitizer's suppress_equal_addresses.
std::unordered_map<std::uintptr_t, bool> g_reported;

FSAN_NOINLINE void report_race(AgentState* st, std::uintptr_t pc, std::uintptr_t addr, std::size_t size, bool is_write,
                              bool is_atomic, Cell prev, NodeId prev_node) {
  if (is_benign(addr, size)) return;
  {
    std::lock_guard<std::mutex> g(g_report_mu);
    if (!g_reported.emplace(addr & ~std::uintptr_t{7}, true).second) return;
  }
  NodeId cur_node = st->cache.lookup(st->node, pc);
  Finding f;
  f.kind = FindingKind::data_race;
  f.message = "data race";
  Access cur;
  cur.fiber = st->fiber->id;
  cur.op = is_write ? "write" : "read";
  cur.size = size;
  cur.addr = addr;
  cur.atomic = is_atomic;
  cur.stack = filter_user_frames(frames_of(cur_node));
  Access old;
  SidInfo pinfo = sid_info(prev.sid(), prev.epoch());
  old.fiber = pinfo.fiber_id;
  old.op = prev.write() ? "write" : "read";
  old.size = static_cast<std::size_t>(__builtin_popcount(prev.mask()));
  old.addr = (addr & ~std::uintptr_t{7}) + static_cast<std::uintptr_t>(__builtin_ctz(prev.mask() | 0x100));
  old.atomic = prev.atomic();
  old.stack = filter_user_frames(frames_of(prev_node));
  f.accesses.push_back(std::move(cur));
  f.accesses.push_back(std::move(old));
  // Both fibers, with their creation stacks.
  FiberInfo a = describe_fiber(st->fiber, nullptr, 0);
  a.state = "running";
  f.fibers.push_back(std::move(a));
  FiberInfo b;
  b.id = pinfo.fiber_id;
  b.name = pinfo.name;
  b.parent_id = pinfo.parent_id;
  b.state = "unknown";
  if (pinfo.n_created > 0) b.created_at = filter_user_frames(symbolize(pinfo.created, pinfo.n_created));
  f.fibers.push_back(std::move(b));
  f.location = locate(addr, size);
  publish_finding(std::move(f));
}

Location locate(std::uintptr_t addr, std::size_t size) {
  Location loc;
  loc.size = size;
  if (HeapBlock hb; find_heap_block(addr, &hb)) {
    loc.kind = "heap";
    loc.size = hb.size;
    loc.alloc_fiber = hb.fiber_id;
    std::uintptr_t pcs[64];
    int n = StackTrie::instance().stack(hb.node, pcs, 64);
    loc.alloc_stack = filter_user_frames(symbolize(pcs, n));
    char buf[96];
    std::snprintf(buf, sizeof(buf), "heap block of size %zu at %p", hb.size, reinterpret_cast<void*>(hb.start));
    loc.name = buf;
    return loc;
  }
  std::string gname;
  std::uintptr_t gstart = 0;
  std::size_t gsize = 0;
  if (symbolize_data(addr, &gname, &gstart, &gsize)) {
    loc.kind = "global";
    loc.name = gname;
    loc.size = gsize;
    return loc;
  }
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(addr), &info) != 0 && info.dli_sname != nullptr && info.dli_saddr != nullptr) {
    loc.kind = "global";
    loc.name = info.dli_sname;
    return loc;
  }
  // A fiber's stack?
  std::string owner;
  if (Scheduler* s = g_sched.load(std::memory_order_acquire)) {
    s->for_each_fiber([&](Fiber* fb) {
      if (addr >= reinterpret_cast<std::uintptr_t>(fb->stack_lo) && addr < reinterpret_cast<std::uintptr_t>(fb->stack_hi))
        owner = "stack of fiber " + std::to_string(fb->id) + (fb->name.empty() ? "" : " \"" + fb->name + "\"");
    });
  }
  if (!owner.empty()) {
    loc.kind = "stack";
    loc.name = owner;
    return loc;
  }
  loc.kind = "unknown";
  return loc;
}

// ---------------------------------------------------------------------------
// The access check (hot path)

FSAN_ALWAYS_INLINE void check_granule(AgentState* st, std::uintptr_t pc, std::uintptr_t access_addr,
                                      std::size_t access_size, std::uintptr_t granule, std::uint8_t mask,
                                      bool is_write, bool is_atomic) {
  GranuleShadow* g = granule_shadow(granule);
  if (FSAN_UNLIKELY(g == nullptr)) return;
  const Sid sid = st->sid;
  // Two agents checking one granule at the same moment could each miss the
  // other's cell; the cell is installed by CAS from what was checked, and a
  // lost CAS re-checks (bounded: at worst a report is missed, never invented).
  for (int attempt = 0; attempt < 3; ++attempt) {
  std::uint64_t seen[kCells];
  int free_slot = -1, own_slot = -1, ordered_slot = -1, overlap_slot = -1;
  for (int i = 0; i < kCells; ++i) {
    Cell c{g->cells[i].load(std::memory_order_acquire)};
    seen[i] = c.raw;
    if (c.raw == 0) {
      if (free_slot < 0) free_slot = i;
      continue;
    }
    if (c.sid() == sid) {
      // Our own earlier access: a write covering this one makes it redundant.
      if (c.mask() == mask && (c.write() || !is_write) && c.atomic() == is_atomic && c.epoch() == st->epoch) return;
      if (c.mask() == mask || (c.mask() & mask) == c.mask()) own_slot = i;
      continue;
    }
    bool ordered = st->clock.get(c.sid()) >= c.epoch();
    if (ordered) {
      if (ordered_slot < 0) ordered_slot = i;
      continue;
    }
    if ((c.mask() & mask) == 0) continue;
    if (overlap_slot < 0 || (!c.write() && is_write)) overlap_slot = i;
    if (!c.write() && !is_write) continue;
    if (c.atomic() && is_atomic) continue;
    report_race(st, pc, access_addr, access_size, is_write, is_atomic, c,
                g->origins[i].load(std::memory_order_relaxed));
    // Keep the racy cell: later accesses of other fibers are checked too.
  }
  // Replacement: our own older cell, a free one, one already ordered before
  // us, then one this access overlaps (it now stands for those bytes) —
  // never, if avoidable, a cell of other bytes that a later access could
  // still race with.
  int slot = own_slot >= 0       ? own_slot
             : free_slot >= 0    ? free_slot
             : ordered_slot >= 0 ? ordered_slot
             : overlap_slot >= 0 ? overlap_slot
                                 : static_cast<int>((st->epoch ^ granule >> 3) % kCells);
  std::uint64_t expected = seen[slot];
  if (g->cells[slot].compare_exchange_strong(expected, Cell::make(sid, st->epoch, mask, is_write, is_atomic).raw,
                                            std::memory_order_acq_rel)) {
    g->origins[slot].store(st->cache.lookup(st->node, pc), std::memory_order_relaxed);
    return;
  }
  }
}

// ---------------------------------------------------------------------------
// SyncHooks: the runtime's synchronization events

class RaceHooks final : public SyncHooks {
 public:
  void on_spawn(Fiber* parent, Fiber* child) override {
  Inside in;
    AgentState* p = state_of(parent != nullptr ? parent : current_agent());
    AgentState* c = state_of(child);
    // go(f) happens before f starts.
    c->clock.join(p->clock);
    tick(p);
  }
  void on_exit(Fiber* f) override {
  Inside in;
    auto* st = static_cast<AgentState*>(f->race);
    if (st == nullptr) return;
    free_sid(st->sid, st->epoch);
    f->race = nullptr;
    delete st;
  }
  void on_block(Fiber*, WaitReason, const void*) override {}
  void on_unblock(Fiber*, Fiber*) override {}
  void on_acquire(Fiber* f, const void* obj, SyncOp) override {
    Inside in;
    acquire_from(state_of(f), reinterpret_cast<std::uintptr_t>(obj));
  }
  void on_release(Fiber* f, const void* obj, SyncOp) override {
    Inside in;
    release_to(state_of(f), reinterpret_cast<std::uintptr_t>(obj));
  }
};

RaceHooks* g_hooks_impl = nullptr;

}  // namespace

void set_in_interceptor(bool on) { t_in_interceptor = on; }

void Detector::enable() {
  if (enabled_.load(std::memory_order_acquire)) return;
  g_hooks_impl = new RaceHooks();
  install_sync_hooks(g_hooks_impl);
  waitgraph::enable();  // the wait-for graph detector rides on the same switch
  g_run_end_hook = &Detector::run_ended;
  enabled_.store(true, std::memory_order_release);
}

void Detector::func_entry(std::uintptr_t caller_pc) {
  Inside in;
  AgentState* st = current_state();
  if (st == nullptr) return;
  st->node = st->cache.lookup(st->node, caller_pc);
}

void Detector::func_exit() {
  Inside in;
  AgentState* st = current_state();
  if (st == nullptr) return;
  st->node = StackTrie::instance().parent(st->node);
}

void Detector::access(std::uintptr_t pc, std::uintptr_t addr, std::size_t size, bool is_write, bool is_atomic) {
  if (size == 0) return;
  Inside in;
  AgentState* st = current_state();
  if (FSAN_UNLIKELY(st == nullptr || st->sid == 0 || st->ignore > 0)) return;
  std::uintptr_t end = addr + size;
  std::uintptr_t granule = addr & ~std::uintptr_t{7};
  if (FSAN_LIKELY(end <= granule + 8)) {
    auto mask = static_cast<std::uint8_t>(((1u << size) - 1) << (addr - granule));
    check_granule(st, pc, addr, size, granule, mask, is_write, is_atomic);
    return;
  }
  for (; granule < end; granule += 8) {
    std::uintptr_t lo = std::max(addr, granule), hi = std::min(end, granule + 8);
    auto mask = static_cast<std::uint8_t>(((1u << (hi - lo)) - 1) << (lo - granule));
    check_granule(st, pc, addr, size, granule, mask, is_write, is_atomic);
  }
}

void Detector::atomic_op(std::uintptr_t pc, std::uintptr_t addr, std::size_t size, int mo, bool is_store,
                         bool is_load) {
  Inside in;
  AgentState* st = current_state();
  if (st == nullptr) return;
  const bool acquire = is_load && (mo == 1 || mo == 2 || mo == 4 || mo == 5);
  const bool release = is_store && (mo == 3 || mo == 4 || mo == 5);
  if (acquire) {
    acquire_from(st, addr);
  } else if (is_load) {
    // A relaxed load: what it reads becomes visible at the next acquire fence.
    SyncVar* v = sync_var(addr);
    std::lock_guard<std::mutex> g(v->mu);
    st->fence_acquire.join(v->clock);
  }
  access(pc, addr, size, is_store, true);
  if (release) {
    release_to(st, addr);
  } else if (is_store && st->has_fence_release) {
    // A relaxed store after a release fence publishes the fence's clock.
    SyncVar* v = sync_var(addr);
    std::lock_guard<std::mutex> g(v->mu);
    v->clock.join(st->fence_release);
  }
}

void Detector::fence(int mo) {
  Inside in;
  AgentState* st = current_state();
  if (st == nullptr) return;
  if (mo == 2 || mo == 4 || mo == 5 || mo == 1) st->clock.join(st->fence_acquire);
  if (mo == 3 || mo == 4 || mo == 5) {
    st->fence_release = st->clock;
    st->has_fence_release = true;
    tick(st);
  }
}

void Detector::annotate_happens_before(const void* addr) {
  Inside in;
  if (!on()) return;
  if (AgentState* st = current_state()) release_to(st, reinterpret_cast<std::uintptr_t>(addr));
}
void Detector::annotate_happens_after(const void* addr) {
  Inside in;
  if (!on()) return;
  if (AgentState* st = current_state()) acquire_from(st, reinterpret_cast<std::uintptr_t>(addr));
}
void Detector::annotate_benign_race(const void* addr, std::size_t size) {
  Inside in;
  std::lock_guard<std::mutex> g(g_report_mu);
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  g_benign.push_back(BenignRange{a, a + size});
}

void Detector::on_alloc(std::uintptr_t addr, std::size_t size) {
  Inside in;
  reset_range(addr, size);
  AgentState* st = current_state();
  if (st == nullptr) return;
  record_heap_block(addr, size, st->fiber->id, st->cache.lookup(st->node, reinterpret_cast<std::uintptr_t>(__builtin_return_address(0))));
}

void Detector::on_free(std::uintptr_t addr) {
  Inside in;
  forget_heap_block(addr);
}

void Detector::run_ended() {
  if (!on()) return;
  Inside in;
  {
    std::lock_guard<std::mutex> g(g_report_mu);
    g_reported.clear();
  }
  reset_all();
  reset_sync_vars();
}

}  // namespace fsan::detail::race
