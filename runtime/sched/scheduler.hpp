// Scheduler: one M:N scheduler per fsan::run. `workers` OS threads (the
// calling thread is worker 0) each run fibers from a local Chase-Lev deque,
// then the global queue, then by stealing; idle workers spin briefly, then
// sleep on a futex (no CPU burnt when nothing is runnable).
//
// Switching: fibers switch directly to the next runnable fiber on the same
// worker; only when none is left do they switch to the worker's scheduler
// context (its OS-thread stack). Whatever must happen after a fiber's
// context is saved (release the wait-queue lock, free an exited stack,
// requeue a yielder) is a PostSwitch action run by whoever resumes next.
//
// Lock order: Timers::lock_ -> channel locks (address order) -> GlobalQueue
// lock -> Scheduler::idle_lock_ -> Registry locks -> StackPool lock.
// Dumps: g_dump_mu (one dump or deadlock report at a time) -> Registry locks
// -> the foreign agent list lock; it is never taken with a runtime Lock held.
//
// Stacks of parked fibers (dumps, deadlock and leak reports) are captured in
// a live run by *probing*: the prober pins a waiting fiber (CAS waiting ->
// probing, so no waker can resume it: ready() spins while it is pinned),
// switches into it on its own thread, the fiber unwinds itself in
// switch_away and switches straight back. Probing works from any thread,
// including ones that are not workers (the SIGQUIT dumper).
//
// Global deadlock: the last worker to go idle checks that nothing is queued,
// no timer is pending and no foreign thread could still act (attached ones
// all parked in the runtime, no other candidate thread alive: foreign.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <fsan/options.hpp>

#include "base/lock.hpp"
#include "base/rand.hpp"
#include "sched/fiber.hpp"
#include "sched/run_queue.hpp"
#include "sched/stack_pool.hpp"
#include "sched/timers.hpp"

namespace fsan::detail {

class Scheduler;

// What to do once the switching-out fiber's context is saved.
struct PostSwitch {
  enum class Kind : std::uint8_t { none, park, exit, requeue };
  Kind kind = Kind::none;
  Fiber* fiber = nullptr;
  // park: runs once the fiber is parked (releases the wait-queue locks).
  void (*after)(void*) = nullptr;
  void* after_arg = nullptr;
};

// GlobalQueue: FIFO shared by all workers (overflow, yield, foreign spawns).
class GlobalQueue {
 public:
  void push(Fiber* f) FSAN_EXCLUDES(lock_);
  Fiber* pop() FSAN_EXCLUDES(lock_);
  bool empty() const { return size_.load(std::memory_order_acquire) == 0; }

 private:
  Lock lock_;
  Fiber* head_ FSAN_GUARDED_BY(lock_) = nullptr;
  Fiber* tail_ FSAN_GUARDED_BY(lock_) = nullptr;
  std::atomic<std::int64_t> size_{0};
};

// Registry: the live fibers created on one worker (for dumps, deadlock
// reports and abandoning at run end).
struct Registry {
  Lock lock;
  Fiber* head FSAN_GUARDED_BY(lock) = nullptr;
};

struct alignas(64) Worker {
  Scheduler* sched = nullptr;
  int index = 0;
  void* sched_sp = nullptr;  // the scheduler context (OS-thread stack) while a fiber runs
  Fiber* current = nullptr;
  PostSwitch post;
  RunQueue runq;
  // runnext: the fiber this worker readied last (Go's runnext). It runs
  // before the deque and thieves leave it alone while it is fresh, so a
  // wake-up chain (ping-pong, a lock handed back and forth, readers let in
  // by a writer) stays on one core instead of bouncing its cache lines
  // between workers. Written by this worker; taken by it or, once stale,
  // by a thief (exchange/CAS).
  std::atomic<Fiber*> runnext{nullptr};
  FastRand rng{0};
  std::uint32_t tick = 0;
  std::int64_t last_oldest_ns = 0;
  // Sleeping: 0 = asleep or about to sleep, 1 = woken.
  std::atomic<std::uint32_t> parker{0};
  bool in_idle_list = false;  // guarded by Scheduler::idle_lock_
  Worker* next_idle = nullptr;
  // Fiber accounting: single writer (this worker), summed by num_fibers().
  std::atomic<std::int64_t> live{0};
  std::uint64_t next_id = 0, id_limit = 0;
  // Free stacks kept for reuse without touching the pool's lock.
  StackBlock* stack_cache = nullptr;
  int stack_cache_count = 0;
  Registry registry;
  std::thread thread;  // workers 1..n-1
  std::atomic<int> tid{0};  // its OS thread (known to the deadlock check's thread census)
};

// has_local_work: something is queued on w (its deque or runnext).
inline bool has_local_work(const Worker* w) {
  return w->runq.size() > 0 || w->runnext.load(std::memory_order_relaxed) != nullptr;
}

// FiberSnapshot: what a dump or report needs of one fiber (or attached
// foreign thread), copied while the fiber cannot go away; symbolized later
// with no runtime lock held.
struct FiberSnapshot {
  std::uint64_t id = 0;  // 0: a foreign thread
  std::uint64_t parent_id = 0;
  std::string name;
  FiberState state = FiberState::runnable;  // `probing`: pinned by another dump
  WaitReason wait_reason = WaitReason::none;
  std::int64_t wait_since_ns = 0;
  bool self = false;  // the fiber (or thread) taking the snapshot
  int n_stack = 0;
  int n_created = 0;
  std::uintptr_t stack[kMaxProbeFrames];
  std::uintptr_t created[kMaxCreationFrames];
};

// snapshot_run: every fiber and attached foreign thread of the run in
// progress, from any thread (sched/dump.cpp); false if no run is in
// progress or it is ending. The caller's own stack is captured too.
bool snapshot_run(std::vector<FiberSnapshot>& out);
// sort_snapshots: by fiber id, foreign threads (id 0) last.
void sort_snapshots(std::vector<FiberSnapshot>& snaps);

class Scheduler {
 public:
  explicit Scheduler(const Options& o);
  ~Scheduler();

  // run: runs main_fn(arg) as fiber 1; returns the exit status.
  int run(void (*main_fn)(void*), void* arg);

  const Options& options() const { return opts_; }

  // Fibers.
  Fiber* create_fiber(std::size_t closure_size, std::size_t closure_align, void** closure);
  void start_fiber(Fiber* f, std::string* name, std::uintptr_t spawn_fp);
  void abort_fiber(Fiber* f);
  std::size_t live_fibers() const;

  // ready: makes a parked fiber runnable (see fiber.hpp invariants).
  void ready(Fiber* f);
  // park: parks the current fiber; after(arg) (which releases the locks the
  // caller holds) runs once the fiber's context is saved. Returns when
  // ready() was called.
  void park(WaitReason why, const void* obj, void (*after)(void*), void* arg) FSAN_NO_THREAD_SAFETY_ANALYSIS;
  void yield_current();
  void sleep_until_ns(std::int64_t when);
  [[noreturn]] void exit_current();
  // wait_live_at_most: parks the calling fiber until at most n fibers (it
  // included) are alive, or until deadline_ns; true if the count was
  // reached. Woken by the first worker to go idle after the count dropped
  // (no polling). One waiter at a time: the leak check at run end.
  bool wait_live_at_most(std::size_t n, std::int64_t deadline_ns);

  Timers& timers() { return timers_; }
  // timer_added: wakes a sleeper when a new earliest timer was added.
  void timer_added();

  // stop: ends the run (main returned, a panic, a global deadlock).
  void stop(int exit_status);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  void note_finding() { had_findings_.store(true, std::memory_order_relaxed); }

  // Every live fiber (for dumps and reports); fibers are not pinned, so read
  // only what is safe (ids, names, wait reasons) unless the run is stopped.
  template <class F>
  void for_each_fiber(F&& fn);
  // capture_parked_stack: unwinds a parked fiber's stack by probing it (see
  // the top of this file); 0 frames if it is not parked.
  int capture_parked_stack(Fiber* f, std::uintptr_t* pcs, int max);
  // snapshot_fibers: appends every live fiber; parked ones with their stack
  // (probed), `self` with its own. Call with g_dump_mu held.
  void snapshot_fibers(Fiber* self, std::vector<FiberSnapshot>& out);
  // fibers_valid: false once run end started freeing fibers (read under g_dump_mu).
  bool fibers_valid() const { return !abandoned_; }

  std::uint64_t main_fiber_id() const { return 1; }
  int workers() const { return nworkers_; }
  // worker_tids: the workers' OS threads (for foreign_unknown_threads).
  std::vector<int> worker_tids() const {
    std::vector<int> tids;
    for (Worker* v : workers_) tids.push_back(v->tid.load(std::memory_order_acquire));
    return tids;
  }

  // epoch: this run's number (process-wide, from 1); foreign threads attach to it.
  std::uint64_t epoch() const { return epoch_; }
  // recheck_deadlock: wakes an idle worker so the global-deadlock check runs
  // again (the last running foreign thread just parked or exited).
  void recheck_deadlock();

 private:
  friend void fiber_main(void*);
  friend struct WorkerLoop;
  void worker_loop(Worker* w);
  Fiber* pick_local(Worker* w, bool fire_timers);
  bool timers_due() const { return FSAN_UNLIKELY(!timers_.empty()) && timers_.next_when() <= now_ns(); }
  Fiber* find_slow(Worker* w);
  void switch_away(Worker* w, Fiber* self);
  void run_post_switch(Worker* w);
  void push_runnable(Worker* w, Fiber* f, bool spawn);
  void wake_idle_worker();
  void wake_all_workers();
  // check_global_deadlock: reports one and stops the run, or returns when
  // to look again (ns, -1 = when woken).
  std::int64_t check_global_deadlock(Worker* w);
  void release_stack(Worker* w, Fiber* f);
  void abandon_remaining();
  // poke_live_wait: from an idle worker, wakes the wait_live_at_most waiter
  // if the count has dropped far enough (cold).
  void poke_live_wait();
  std::uint64_t alloc_id(Worker* w);
  int probe(Fiber* f, std::uintptr_t* pcs, int max);

  Options opts_;
  int nworkers_;
  std::vector<Worker*> workers_;
  GlobalQueue global_;
  Timers timers_;
  std::size_t stack_size_;

  Lock idle_lock_;
  Worker* idle_head_ FSAN_GUARDED_BY(idle_lock_) = nullptr;
  std::atomic<int> nidle_{0};
  std::atomic<int> nspinning_{0};
  std::atomic<Worker*> timer_sleeper_{nullptr};

  std::atomic<bool> stopping_{false};
  std::atomic<bool> had_findings_{false};
  int exit_status_ = 0;
  std::atomic<std::uint64_t> id_source_{2};  // 1 is the main fiber
  std::atomic<std::int64_t> foreign_live_{0};
  std::uint64_t epoch_ = 0;
  bool abandoned_ = false;  // guarded by g_dump_mu

  // The wait_live_at_most waiter. It lives here, not on the waiter's stack,
  // so an idle worker or the deadline timer may touch it after the waiter
  // has gone on. Whoever swaps `claimed` 0 -> 1 readies the fiber (or, for
  // the waiter itself, skips parking).
  struct LiveWait {
    TimerEntry deadline;  // first: the timer callback casts the entry back
    Fiber* fiber = nullptr;
    std::size_t at_most = 0;
    std::atomic<std::uint32_t> claimed{0};
    std::atomic<std::uint32_t> timer_done{0};  // the deadline callback no longer touches this
  };
  LiveWait live_wait_;
  std::atomic<bool> live_wait_active_{false};
};

// The worker running on this thread (nullptr on foreign threads).
extern thread_local Worker* tl_worker;
// The scheduler of the run in progress (nullptr between runs).
extern std::atomic<Scheduler*> g_sched;
// One dump (or deadlock/leak report) at a time; run end takes it before it
// frees the fibers and before it clears g_sched.
// (A runtime Lock, not a pthread mutex: interceptors of pthread mutexes
// would see it and order the fibers that dump.)
extern Lock g_dump_mu;

// SchedRef: the run in progress, kept alive while the ref exists (run end
// waits for every SchedRef to go). For threads that are not workers.
class SchedRef {
 public:
  SchedRef();
  ~SchedRef();
  SchedRef(const SchedRef&) = delete;
  SchedRef& operator=(const SchedRef&) = delete;
  Scheduler* get() const { return s_; }

 private:
  Scheduler* s_ = nullptr;
};

// current_fiber: the running fiber, or nullptr outside fibers.
inline Fiber* current_fiber() {
  Worker* w = tl_worker;
  return w != nullptr ? w->current : nullptr;
}

template <class F>
void Scheduler::for_each_fiber(F&& fn) {
  for (Worker* w : workers_) {
    LockGuard g(w->registry.lock);
    for (Fiber* f = w->registry.head; f != nullptr; f = f->reg_next) fn(f);
  }
}

}  // namespace fsan::detail
