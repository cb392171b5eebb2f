// Foreign threads: see foreign.hpp for the accounting rules. The count of
// running foreign threads and the epoch of the run it belongs to share one
// atomic word, so an update made for a run that has ended fails its CAS
// instead of corrupting the next run's count.
// Why a census and not pthread_create interposition for threads born in the
// run: the race detector already interposes pthread_create, and a census
// also sees threads created any other way.
#include "sched/foreign.hpp"

#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "base/futex.hpp"
#include "base/lock.hpp"
#include "base/stack_trace.hpp"
#include "sched/scheduler.hpp"
#include "sched/timers.hpp"

namespace fsan::detail {
namespace {

// High bits: the epoch of the run in progress (0: none); low bits: its
// running foreign threads.
constexpr int kCountBits = 24;
constexpr std::uint64_t kCountMask = (std::uint64_t{1} << kCountBits) - 1;
std::atomic<std::uint64_t> g_foreign{0};

// Every live agent (for dumps and reports); agents add themselves when
// created and leave when their thread exits. A runtime Lock, not a pthread
// mutex: the race detector's pthread interceptors ask for the current agent.
Lock g_agents_mu;
ForeignAgent* g_agents FSAN_GUARDED_BY(g_agents_mu) = nullptr;

// Threads alive when the run began (sorted tids). Written at run start,
// before any worker exists; read by workers.
std::vector<int> g_baseline;

std::uint64_t current_epoch() { return g_foreign.load(std::memory_order_acquire) >> kCountBits; }

// adjust: adds delta to run `epoch`'s count if that run is still in
// progress; returns the new count, or -1 if the run has ended.
long adjust(std::uint64_t epoch, long delta) {
  std::uint64_t v = g_foreign.load(std::memory_order_acquire);
  for (;;) {
    if ((v >> kCountBits) != epoch || epoch == 0) return -1;
    long n = static_cast<long>(v & kCountMask) + delta;
    if (n < 0) n = 0;  // never expected; keeps the word well formed
    std::uint64_t nv = (epoch << kCountBits) | static_cast<std::uint64_t>(n);
    if (g_foreign.compare_exchange_weak(v, nv, std::memory_order_acq_rel)) return n;
  }
}

// recheck: the last running foreign thread of run `epoch` parked or left;
// let an idle worker run the global-deadlock check again.
void recheck(std::uint64_t epoch) {
  SchedRef ref;
  if (ref.get() != nullptr && ref.get()->epoch() == epoch) ref.get()->recheck_deadlock();
}

void leave(std::uint64_t epoch) {
  if (adjust(epoch, -1) == 0) recheck(epoch);
}

// attach: counts `a` (running) in the run in progress, unless it already is.
void attach(ForeignAgent* a) {
  std::uint64_t e = current_epoch();
  if (e == 0 || a->epoch.load(std::memory_order_relaxed) == e) return;
  a->epoch.store(e, std::memory_order_relaxed);
  adjust(e, +1);
}

struct AgentHolder {
  ForeignAgent* agent = nullptr;
  ~AgentHolder();
};
thread_local AgentHolder tl_holder;
thread_local bool tl_internal = false;  // mark_internal_thread

// What a thread that has exited (its agent freed) gets if a hook asks for
// its agent during thread exit: a record that is never attached to a run
// and never listed. At namespace scope, not a function-local static: the
// race detector intercepts static-initialization guards, and those ask for
// the current agent.
struct ExitedAgent : ForeignAgent {
  ExitedAgent() {
    foreign = true;
    name = "exited foreign thread";
  }
};
ExitedAgent g_exited_agent;
inline ForeignAgent* exited_agent() { return &g_exited_agent; }

ForeignAgent* create_agent() {
  // Allocating may re-enter (an allocator hook asking for the current
  // agent): the first record to be published wins.
  auto* a = new ForeignAgent();
  if (tl_holder.agent != nullptr) {
    delete a;
    return tl_holder.agent;
  }
  a->foreign = true;
  a->state.store(FiberState::running, std::memory_order_relaxed);
  a->id = 0;
  tl_holder.agent = a;
  a->internal = tl_internal;
  a->tid = current_tid();
  a->name = "foreign thread " + std::to_string(a->tid);
  LockGuard g(g_agents_mu);
  a->list_next = g_agents;
  if (g_agents != nullptr) g_agents->list_prev = a;
  g_agents = a;
  return a;
}

AgentHolder::~AgentHolder() {
  ForeignAgent* a = agent;
  if (a == nullptr || a == exited_agent()) return;
  agent = exited_agent();
  // It exits running (it cannot exit while parked): it can act no more.
  if (std::uint64_t e = a->epoch.load(std::memory_order_relaxed); e != 0) leave(e);
  {
    LockGuard g(g_agents_mu);
    if (a->list_prev != nullptr)
      a->list_prev->list_next = a->list_next;
    else
      g_agents = a->list_next;
    if (a->list_next != nullptr) a->list_next->list_prev = a->list_prev;
  }
  delete a;
}

std::vector<int> list_tids() {
  std::vector<int> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(std::atoi(e->d_name));
  closedir(d);
  return out;
}

}  // namespace

void foreign_begin_run(std::uint64_t epoch) {
  g_baseline = list_tids();
  std::sort(g_baseline.begin(), g_baseline.end());
  g_foreign.store(epoch << kCountBits, std::memory_order_release);
}

bool foreign_unknown_threads(std::uint64_t epoch, const std::vector<int>& workers) {
  (void)epoch;                       // a thread parked in the runtime is blocked whichever run it parked in
  std::vector<int> blocked, active;  // threads with an agent
  {
    LockGuard g(g_agents_mu);
    for (ForeignAgent* a = g_agents; a != nullptr; a = a->list_next) {
      if (a->internal) continue;
      bool parked = a->state.load(std::memory_order_acquire) == FiberState::waiting;
      (parked ? blocked : active).push_back(a->tid);
    }
  }
  auto has = [](const std::vector<int>& v, int tid) { return std::find(v.begin(), v.end(), tid) != v.end(); };
  for (int tid : list_tids()) {
    if (has(workers, tid) || has(blocked, tid)) continue;
    if (has(active, tid)) return true;
    if (std::binary_search(g_baseline.begin(), g_baseline.end(), tid)) continue;
    return true;  // born during the run
  }
  return false;
}

int current_tid() { return static_cast<int>(syscall(SYS_gettid)); }

void foreign_end_run() { g_foreign.store(0, std::memory_order_release); }

int foreign_running(std::uint64_t epoch) {
  std::uint64_t v = g_foreign.load(std::memory_order_acquire);
  return (v >> kCountBits) == epoch ? static_cast<int>(v & kCountMask) : 0;
}

ForeignAgent* foreign_self() {
  ForeignAgent* a = tl_holder.agent;
  if (FSAN_UNLIKELY(a == nullptr)) a = create_agent();
  // A worker outside any fiber (a timer callback) is no foreign thread.
  if (tl_worker == nullptr && !tl_internal && a != exited_agent()) attach(a);
  return a;
}

void unmark_internal_thread() {
  tl_internal = false;
  ForeignAgent* a = tl_holder.agent;
  if (a == nullptr || a == exited_agent()) return;
  LockGuard g(g_agents_mu);
  a->internal = false;
}

ForeignAgent* foreign_self_if_exists() {
  ForeignAgent* a = tl_holder.agent;
  return a == exited_agent() ? nullptr : a;
}

void mark_internal_thread() {
  tl_internal = true;
  ForeignAgent* a = tl_holder.agent;
  if (a == nullptr || a == exited_agent()) return;
  {
    LockGuard g(g_agents_mu);
    a->internal = true;
  }
  std::uint64_t e = a->epoch.exchange(0, std::memory_order_relaxed);
  if (e != 0) adjust(e, -1);
}

void foreign_park(ForeignAgent* a, WaitReason why, const void* obj, void (*after)(void*), void* arg) {
  a->wait_reason = why;
  a->wait_object = obj;
  a->wait_since_ns = coarse_now_ns();
  std::uint64_t e = a->epoch.load(std::memory_order_relaxed);
  bool counted = e != 0 && e == current_epoch();
  if (counted) {
    // Where it parks, for dumps and deadlock reports (a foreign thread's
    // stack cannot be probed). One unwind per park, and only during a run.
    a->park_seq.fetch_add(1, std::memory_order_acq_rel);
    a->n_park = static_cast<std::uint8_t>(capture_stack(a->park_pcs, kMaxProbeFrames, 0));
    a->park_seq.fetch_add(1, std::memory_order_release);
  }
  a->thread_wake.store(0, std::memory_order_relaxed);
  a->state.store(FiberState::waiting, std::memory_order_release);
  // Parked from here on: no longer counted as able to act. The caller's
  // locks are still held, so no waker can count it back in before this.
  long left = counted ? adjust(e, -1) : -1;
  if (after != nullptr) after(arg);
  if (left == 0) recheck(e);
  while (a->thread_wake.load(std::memory_order_acquire) == 0) futex_wait(&a->thread_wake, 0);
  a->state.store(FiberState::running, std::memory_order_relaxed);
  a->wait_reason = WaitReason::none;
  a->wait_object = nullptr;
}

void foreign_ready(ForeignAgent* a) {
  FiberState expected = FiberState::waiting;
  while (!a->state.compare_exchange_weak(expected, FiberState::runnable, std::memory_order_acq_rel)) {
    expected = FiberState::waiting;
    cpu_relax();
  }
  // Running again: count it before it can run (attaching it to the run in
  // progress if it parked before that run began).
  if (std::uint64_t e = current_epoch(); e != 0) {
    a->epoch.store(e, std::memory_order_relaxed);
    adjust(e, +1);
  }
  a->thread_wake.store(1, std::memory_order_release);
  futex_wake(&a->thread_wake, 1);
}

void foreign_snapshot(std::uint64_t epoch, std::vector<FiberSnapshot>& out) {
  ForeignAgent* self = tl_holder.agent;
  LockGuard g(g_agents_mu);
  for (ForeignAgent* a = g_agents; a != nullptr; a = a->list_next) {
    if (a->epoch.load(std::memory_order_relaxed) != epoch) continue;
    FiberSnapshot& s = out.emplace_back();
    s.id = 0;
    s.name = a->name;
    s.self = a == self;
    FiberState st = a->state.load(std::memory_order_acquire);
    s.state = st == FiberState::runnable ? FiberState::running : st;
    if (s.self) {
      s.state = FiberState::running;
      s.n_stack = capture_stack(s.stack, kMaxProbeFrames, 0);
      continue;
    }
    if (st != FiberState::waiting) continue;
    // A seqlock read: keep the stack only if no park began meanwhile.
    std::uint32_t seq = a->park_seq.load(std::memory_order_acquire);
    s.wait_reason = a->wait_reason;
    s.wait_since_ns = a->wait_since_ns;
    int n = a->n_park;
    for (int i = 0; i < n; ++i) s.stack[i] = a->park_pcs[i];
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((seq & 1) == 0 && a->park_seq.load(std::memory_order_relaxed) == seq &&
        a->state.load(std::memory_order_relaxed) == FiberState::waiting)
      s.n_stack = n;
    else
      s.wait_reason = WaitReason::none;
  }
}

}  // namespace fsan::detail
