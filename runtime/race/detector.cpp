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
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <fsan/finding.hpp>

#include "base/stack_trace.hpp"
#include "base/symbolizer.hpp"
#include "hooks/sync_hooks.hpp"
#include "race/held_set.hpp"
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

// SidInfo: who held a sid from epoch `start` on, for reports about an access
// made by a fiber that may have exited since. Compact: the creation stack is
// a stack-trie node, and the name an index into interned names (0 = none).
struct SidInfo {
  Epoch start = 0;  // the owner's first epoch in this sid
  std::uint32_t name_id = 0;
  std::uint64_t fiber_id = 0;
  std::uint64_t parent_id = 0;
  NodeId created = 0;
};

struct Sids {
  std::mutex mu;
  Sid next_fresh = 1;
  std::deque<Sid> free;
  std::vector<Epoch> last_epoch = std::vector<Epoch>(kMaxSid + 1, 0);
  // info[sid][k]: the sid's owners, newest first (at most kSidHistory).
  std::vector<std::vector<SidInfo>> info = std::vector<std::vector<SidInfo>>(1024);
  std::vector<std::string> names = std::vector<std::string>(1);  // interned; [0] = ""
  std::unordered_map<std::string, std::uint32_t> name_ids;
};

Sids& sids() {
  static Sids* s = new Sids();
  return *s;
}

Sid alloc_sid(const Fiber* f, Epoch* start) {
  // The creation stack, outermost frame first, as a trie node (outside the
  // sid lock: the trie has its own).
  NodeId created = 0;
  for (int i = std::min<int>(f->n_created, 32) - 1; i >= 0; --i)
    created = StackTrie::instance().child(created, f->created_pcs[i]);
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
  std::uint32_t name_id = 0;
  if (!f->name.empty()) {
    auto [it, fresh] = s.name_ids.emplace(f->name, static_cast<std::uint32_t>(s.names.size()));
    if (fresh) s.names.push_back(f->name);
    name_id = it->second;
  }
  owners.insert(owners.begin(), SidInfo{*start, name_id, f->id, f->parent_id, created});
  return sid;
}

void free_sid(Sid sid, Epoch last) {
  if (sid == 0) return;
  Sids& s = sids();
  std::lock_guard<std::mutex> g(s.mu);
  s.last_epoch[sid] = last;
  s.free.push_back(sid);
}

// sid_info: who owned `sid` at `epoch` (and its name); fiber_id 0 when that
// owner has left the sid's short history.
SidInfo sid_info(Sid sid, Epoch epoch, std::string* name) {
  Sids& s = sids();
  std::lock_guard<std::mutex> g(s.mu);
  if (sid < s.info.size())
    for (const SidInfo& in : s.info[sid])
      if (in.start <= epoch) {
        *name = s.names[in.name_id];
        return in;
      }
  *name = "(an exited fiber)";
  return SidInfo{};
}

// ---------------------------------------------------------------------------
// Sync variables: one clock per synchronizing address. Memory that is
// allocated anew (a heap block, a dead fiber's stack) drops the clocks of
// the addresses in it, so a channel or mutex reusing an address never
// inherits its predecessor's clock (that would hide races). Shards are
// 64 KiB address regions so a range is a few ordered-map erases.

struct SyncVar {
  std::mutex mu;
  VClock clock;
  bool has_readers = false;  // an RWMutex whose readers released to reader_clock_key
};

constexpr int kSyncShards = 64;
constexpr int kSyncRegionShift = 16;
struct SyncShard {
  std::mutex mu;
  std::map<std::uintptr_t, SyncVar*> vars;
  std::vector<SyncVar*> spare;  // dropped vars, cleared, for reuse (never freed: a
                                // stale pointer held across a drop stays valid)
};

SyncShard* sync_shards() {
  static SyncShard* s = new SyncShard[kSyncShards];
  return s;
}

SyncShard& sync_shard(std::uintptr_t addr) {
  // Bit 63 (reader_clock_key) maps to the same shard as its base address.
  return sync_shards()[(addr >> kSyncRegionShift) % kSyncShards];
}

SyncVar* sync_var(std::uintptr_t addr) {
  SyncShard& sh = sync_shard(addr);
  std::lock_guard<std::mutex> g(sh.mu);
  SyncVar*& v = sh.vars[addr];
  if (v == nullptr) {
    if (!sh.spare.empty()) {
      v = sh.spare.back();
      sh.spare.pop_back();
    } else {
      v = new SyncVar();
    }
  }
  return v;
}

// find_sync_var: the clock of addr if anything ever released to it.
SyncVar* find_sync_var(std::uintptr_t addr) {
  SyncShard& sh = sync_shard(addr);
  std::lock_guard<std::mutex> g(sh.mu);
  auto it = sh.vars.find(addr);
  return it == sh.vars.end() ? nullptr : it->second;
}

void drop_sync_vars_locked(SyncShard& sh, std::uintptr_t lo, std::uintptr_t hi) {
  auto it = sh.vars.lower_bound(lo);
  while (it != sh.vars.end() && it->first < hi) {
    SyncVar* v = it->second;
    {
      std::lock_guard<std::mutex> g(v->mu);
      v->clock.clear();
      v->has_readers = false;
    }
    sh.spare.push_back(v);
    it = sh.vars.erase(it);
  }
}

// drop_sync_vars: forgets the clocks of every address in [lo, hi).
void drop_sync_vars(std::uintptr_t lo, std::uintptr_t hi) {
  constexpr std::uintptr_t kReader = std::uintptr_t{1} << 63;
  auto drop_in = [&](SyncShard& sh, std::uintptr_t a, std::uintptr_t b) {
    std::lock_guard<std::mutex> g(sh.mu);
    if (sh.vars.empty()) return;
    drop_sync_vars_locked(sh, a, b);
    drop_sync_vars_locked(sh, a | kReader, b | kReader);
  };
  if (((hi - lo) >> kSyncRegionShift) >= kSyncShards) {
    for (int i = 0; i < kSyncShards; ++i) drop_in(sync_shards()[i], lo, hi);
    return;
  }
  for (std::uintptr_t r = lo >> kSyncRegionShift; r <= (hi - 1) >> kSyncRegionShift; ++r) {
    std::uintptr_t a = std::max(lo, r << kSyncRegionShift), b = std::min(hi, (r + 1) << kSyncRegionShift);
    drop_in(sync_shard(a), a, b);
  }
}

void reset_sync_vars() {
  for (int i = 0; i < kSyncShards; ++i) {
    SyncShard& sh = sync_shards()[i];
    std::lock_guard<std::mutex> g(sh.mu);
    for (auto& [a, v] : sh.vars) delete v;
    sh.vars.clear();
    for (SyncVar* v : sh.spare) delete v;
    sh.spare.clear();
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

// RWMutex readers release to a clock of their own, keyed off the mutex's
// address with bit 63 set (no application address has it).
constexpr std::uintptr_t reader_clock_key(std::uintptr_t addr) { return addr | (std::uintptr_t{1} << 63); }

// acquire_lock: a Mutex, or an RWMutex's writer side: the last unlock's
// clock, and for an RWMutex also every unlock_shared's since.
void acquire_lock(AgentState* st, std::uintptr_t addr) {
  bool readers;
  {
    SyncVar* v = sync_var(addr);
    std::lock_guard<std::mutex> g(v->mu);
    st->clock.join(v->clock);
    readers = v->has_readers;
  }
  if (readers) acquire_from(st, reader_clock_key(addr));
}

// release_shared: unlock_shared releases to the reader clock, which only the
// next writer acquires.
void release_shared(AgentState* st, std::uintptr_t addr) {
  {
    SyncVar* v = sync_var(addr);
    std::lock_guard<std::mutex> g(v->mu);
    v->has_readers = true;
  }
  release_to(st, reader_clock_key(addr));
}

// acquisition_node: where the lock being taken was taken, as a trie node.
// Cheap case: the frame walk meets the innermost instrumented call site
// (the top of st->node); the frame just inside it is the user's lock call,
// so the node is st->node plus that pc. Else (lock taken from code the pass
// did not see) the whole walked stack goes into the trie.
NodeId acquisition_node(AgentState* st) {
  std::uintptr_t pcs[32];
  int n = walk_frame_pointers(reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)), pcs, 32);
  std::uintptr_t top = 0;
  if (st->node != 0) StackTrie::instance().stack(st->node, &top, 1);
  for (int i = 0; i + 1 < n && top != 0; ++i)
    if (pcs[i + 1] == top) return st->cache.lookup(st->node, pcs[i]);
  NodeId node = 0;
  for (int i = n - 1; i >= 0; --i) node = st->cache.lookup(node, pcs[i]);
  return node;
}

// set_held: st->held changed; its id comes from the agent's transition memo
// when this lock/unlock was seen before from the same set (a lock in a loop
// costs no table lookup), else from the shared table.
void set_held(AgentState* st, HeldSetId from, const HeldMutex& m, bool add) {
  const std::uint64_t key = (std::uint64_t{from} << 2) | (std::uint64_t{m.write} << 1) | std::uint64_t{add};
  for (HeldMemo& e : st->held_memo) {
    if (e.key == key && e.addr == m.addr && e.node == m.acquired && e.to != kNoHeldSet) {
      st->held_id = e.to;
      return;
    }
  }
  st->held_id = HeldSets::instance().intern(st->held);
  st->held_memo[st->held_memo_next++ % kHeldMemo] = HeldMemo{key, m.addr, m.acquired, st->held_id};
}

void note_locked(AgentState* st, std::uintptr_t addr, bool write) {
  HeldMutex m{addr, write, acquisition_node(st)};
  st->held.push_back(m);
  set_held(st, st->held_id, m, true);
}

void note_unlocked(AgentState* st, std::uintptr_t addr, bool write) {
  for (auto it = st->held.rbegin(); it != st->held.rend(); ++it) {
    if (it->addr == addr && it->write == write) {
      HeldMutex m = *it;
      st->held.erase(std::next(it).base());
      set_held(st, st->held_id, m, false);
      return;
    }
  }
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

std::vector<HeldLock> describe_held(const std::vector<HeldMutex>& set) {
  std::vector<HeldLock> out;
  for (const HeldMutex& m : set) {
    HeldLock h;
    h.addr = m.addr;
    h.write = m.write;
    h.acquired_at = filter_user_frames(frames_of(m.acquired));
    out.push_back(std::move(h));
  }
  return out;
}

FSAN_NOINLINE void report_race(AgentState* st, std::uintptr_t pc, std::uintptr_t addr, std::size_t size, bool is_write,
                              bool is_atomic, Cell prev, NodeId prev_node, HeldSetId prev_held) {
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
  cur.held = describe_held(st->held);
  Access old;
  std::string pname;
  SidInfo pinfo = sid_info(prev.sid(), prev.epoch(), &pname);
  old.fiber = pinfo.fiber_id;
  old.op = prev.write() ? "write" : "read";
  old.size = static_cast<std::size_t>(__builtin_popcount(prev.mask()));
  old.addr = (addr & ~std::uintptr_t{7}) + static_cast<std::uintptr_t>(__builtin_ctz(prev.mask() | 0x100));
  old.atomic = prev.atomic();
  old.stack = filter_user_frames(frames_of(prev_node));
  old.held = describe_held(HeldSets::instance().get(prev_held));
  f.accesses.push_back(std::move(cur));
  f.accesses.push_back(std::move(old));
  // Both fibers, with their creation stacks.
  FiberInfo a = describe_fiber(st->fiber, nullptr, 0);
  a.state = "running";
  f.fibers.push_back(std::move(a));
  FiberInfo b;
  b.id = pinfo.fiber_id;
  b.name = pname;
  b.parent_id = pinfo.parent_id;
  b.state = "unknown";
  if (pinfo.created != 0) b.created_at = filter_user_frames(frames_of(pinfo.created));
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
      if (c.mask() == mask && (c.write() || !is_write) && c.atomic() == is_atomic && c.epoch() == st->epoch &&
          g->held[i].load(std::memory_order_relaxed) == st->held_id)
        return;
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
                g->origins[i].load(std::memory_order_relaxed), g->held[i].load(std::memory_order_relaxed));
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
    g->held[slot].store(st->held_id, std::memory_order_relaxed);
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
    // The stack goes back to the pool and will hold another fiber's frames:
    // its accesses and clocks must not look like that fiber's history.
    if (f->stack_lo != nullptr) {
      auto lo = reinterpret_cast<std::uintptr_t>(f->stack_lo), hi = reinterpret_cast<std::uintptr_t>(f->stack_hi);
      release_range(lo, hi - lo);
      drop_sync_vars(lo, hi);
    }
    auto* st = static_cast<AgentState*>(f->race);
    if (st == nullptr) return;
    free_sid(st->sid, st->epoch);
    f->race = nullptr;
    delete st;
  }
  void on_block(Fiber*, WaitReason, const void*) override {}
  void on_unblock(Fiber*, Fiber*) override {}
  void on_acquire(Fiber* f, const void* obj, SyncOp op) override {
    Inside in;
    AgentState* st = state_of(f);
    auto addr = reinterpret_cast<std::uintptr_t>(obj);
    switch (op) {
      case SyncOp::mutex:
      case SyncOp::mutex_try:
        // An RWMutex writer also waits for the readers before it.
        acquire_lock(st, addr);
        note_locked(st, addr, true);
        break;
      case SyncOp::rwmutex_read:
      case SyncOp::rwmutex_read_try:
        acquire_from(st, addr);
        note_locked(st, addr, false);
        break;
      default:
        acquire_from(st, addr);
        break;
    }
  }
  void on_release(Fiber* f, const void* obj, SyncOp op) override {
    Inside in;
    AgentState* st = state_of(f);
    auto addr = reinterpret_cast<std::uintptr_t>(obj);
    switch (op) {
      case SyncOp::mutex:
        note_unlocked(st, addr, true);
        release_to(st, addr);
        break;
      case SyncOp::rwmutex_read:
        // unlock_shared orders only the next writer, never other readers
        // (readers writing under a read lock still race with each other).
        note_unlocked(st, addr, false);
        release_shared(st, addr);
        break;
      default:
        release_to(st, addr);
        break;
    }
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
  if (FSAN_UNLIKELY(t_depth > 0)) return;  // instrumented code run by the detector itself
  Inside in;
  AgentState* st = current_state();
  if (st == nullptr) return;
  st->node = st->cache.lookup(st->node, caller_pc);
}

void Detector::func_exit() {
  if (FSAN_UNLIKELY(t_depth > 0)) return;  // instrumented code run by the detector itself
  Inside in;
  AgentState* st = current_state();
  if (st == nullptr) return;
  st->node = StackTrie::instance().parent(st->node);
}

void Detector::access(std::uintptr_t pc, std::uintptr_t addr, std::size_t size, bool is_write, bool is_atomic) {
  if (FSAN_UNLIKELY(t_depth > 0)) return;  // instrumented code run by the detector itself
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

// Atomics are checked in two halves around the hardware operation, so the
// clocks travel in the same order as the values: a store publishes its
// release before the value becomes visible, and a load takes the clock only
// after it has read the value (taking it before would miss the release of
// the very store it then reads: a false race).
bool Detector::atomic_before(std::uintptr_t addr, int mo, bool is_store) {
  if (!is_store) return false;
  if (FSAN_UNLIKELY(t_depth > 0)) return false;  // instrumented code run by the detector itself
  Inside in;
  AgentState* st = current_state();
  if (st == nullptr) return false;
  const bool release = mo == 3 || mo == 4 || mo == 5;
  if (!release && !st->has_fence_release) return false;
  SyncVar* v = sync_var(addr);
  std::lock_guard<std::mutex> g(v->mu);
  // A relaxed store after a release fence publishes the fence's clock.
  v->clock.join(release ? st->clock : st->fence_release);
  return release;
}

void Detector::atomic_after(std::uintptr_t pc, std::uintptr_t addr, std::size_t size, int mo, bool is_load,
                            bool is_write, bool released) {
  if (FSAN_UNLIKELY(t_depth > 0)) return;  // instrumented code run by the detector itself
  Inside in;
  AgentState* st = current_state();
  if (st == nullptr) return;
  const bool acquire = is_load && (mo == 1 || mo == 2 || mo == 4 || mo == 5);
  if (acquire) {
    acquire_from(st, addr);
  } else if (is_load) {
    // A relaxed load: what it read becomes visible at the next acquire fence.
    if (SyncVar* v = find_sync_var(addr)) {
      std::lock_guard<std::mutex> g(v->mu);
      st->fence_acquire.join(v->clock);
    }
  }
  access(pc, addr, size, is_write, true);
  // The release joined the clock before the operation; the epoch moves on
  // only now, so the access itself is covered by what was released.
  if (released) tick(st);
}

void Detector::fence(int mo) {
  if (FSAN_UNLIKELY(t_depth > 0)) return;  // instrumented code run by the detector itself
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
  if (size > 0) drop_sync_vars(addr, addr + size);
  AgentState* st = current_state();
  if (st == nullptr) return;
  record_heap_block(addr, size, st->fiber->id, st->cache.lookup(st->node, reinterpret_cast<std::uintptr_t>(__builtin_return_address(0))));
}

void Detector::on_free(std::uintptr_t addr) {
  Inside in;
  // A freed channel's or mutex's clock is dead weight (it is dropped again
  // when the memory is reused, for blocks freed where we did not see it).
  if (std::size_t size = forget_heap_block(addr)) drop_sync_vars(addr, addr + size);
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
  // HeldSets are kept: a foreign thread's agent outlives the run and still
  // refers to its set ids (the table only grows by distinct lock sets).
}

}  // namespace fsan::detail::race
