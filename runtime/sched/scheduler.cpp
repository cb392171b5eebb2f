// Scheduler: see scheduler.hpp for the design and lock order.
#include "sched/scheduler.hpp"

#include <pthread.h>
#include <unwind.h>

#include <cstdio>
#include <cstring>
#include <new>
#include <random>

#include <fsan/fiber.hpp>
#include <fsan/run.hpp>

#include "base/checks.hpp"
#include "base/stack_trace.hpp"
#include "chan/waiter.hpp"
#include "hooks/sync_hooks.hpp"
#include "leak/run_end_check.hpp"
#include "report/report.hpp"
#include "report/suppressions.hpp"
#include "sched/context.hpp"
#include "sched/foreign.hpp"
#include "sched/overflow.hpp"
#include "sched/park.hpp"
#include "sched/sigquit.hpp"

namespace fsan::detail {

thread_local Worker* tl_worker = nullptr;
std::atomic<Scheduler*> g_sched{nullptr};
Lock g_dump_mu;

namespace {

// Threads that are not workers and use the scheduler of the run in
// progress (SchedRef); run end waits for them before freeing it.
std::atomic<int> g_sched_users{0};
std::atomic<std::uint64_t> g_epoch_source{0};

constexpr int kGlobalQueueEvery = 61;  // like Go: fairness for the global queue
// Anti-starvation without preemption: the local deque is LIFO, so a pair of
// fibers waking each other could keep an older runnable fiber waiting
// forever. At most every kOldestAfterNs (checked every kGlobalQueueEvery
// ticks) the worker runs its oldest local fiber instead. Doing it by time,
// not by count, keeps fan-out trees depth-first (a count-based rule would
// pull up shallow nodes and grow the live set breadth-first).
constexpr std::int64_t kOldestAfterNs = 2'000'000;
// push_runnable: readied fibers queued beside runnext before a thief is woken.
constexpr std::int64_t kWakeThiefAtQueued = 3;
constexpr std::uint64_t kIdBlock = 256;
// How often the last idle worker looks again for a global deadlock while a
// thread that might still act is alive but cannot be watched.
constexpr std::int64_t kUnknownThreadRecheckNs = 50'000'000;

}  // namespace

// ---------------------------------------------------------------------------
// GlobalQueue

void GlobalQueue::push(Fiber* f) {
  f->next_in_queue = nullptr;
  LockGuard g(lock_);
  if (tail_ != nullptr)
    tail_->next_in_queue = f;
  else
    head_ = f;
  tail_ = f;
  size_.fetch_add(1, std::memory_order_release);
}

Fiber* GlobalQueue::pop() {
  if (empty()) return nullptr;
  LockGuard g(lock_);
  Fiber* f = head_;
  if (f == nullptr) return nullptr;
  head_ = f->next_in_queue;
  if (head_ == nullptr) tail_ = nullptr;
  size_.fetch_sub(1, std::memory_order_relaxed);
  return f;
}

// ---------------------------------------------------------------------------
// Construction

Scheduler::Scheduler(const Options& o) : opts_(o) {
  epoch_ = g_epoch_source.fetch_add(1, std::memory_order_relaxed) + 1;
  nworkers_ = o.workers > 0 ? o.workers : static_cast<int>(std::thread::hardware_concurrency());
  if (nworkers_ <= 0) nworkers_ = 1;
  stack_size_ = o.stack_size < 16 * 1024 ? 16 * 1024 : static_cast<std::size_t>(o.stack_size);
  std::uint64_t seed = o.seed != 0 ? o.seed : std::random_device{}();
  for (int i = 0; i < nworkers_; ++i) {
    auto* w = new Worker();
    w->sched = this;
    w->index = i;
    w->rng.state = seed + static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull;
    workers_.push_back(w);
  }
}

Scheduler::~Scheduler() {
  for (Worker* w : workers_) delete w;
}

std::uint64_t Scheduler::alloc_id(Worker* w) {
  if (w == nullptr) return id_source_.fetch_add(1, std::memory_order_relaxed);
  if (w->next_id == w->id_limit) {
    w->next_id = id_source_.fetch_add(kIdBlock, std::memory_order_relaxed);
    w->id_limit = w->next_id + kIdBlock;
  }
  return w->next_id++;
}

// ---------------------------------------------------------------------------
// Fiber lifecycle

void fiber_main(void* arg) {
  auto* self = static_cast<Fiber*>(arg);
  Worker* w = tl_worker;
  w->sched->run_post_switch(w);
  try {
    self->entry(self->closure);
  } catch (...) {
    report_uncaught_exception(self, std::current_exception());
  }
  self->sched->exit_current();
}

Fiber* Scheduler::create_fiber(std::size_t closure_size, std::size_t closure_align, void** closure) {
  Worker* w = tl_worker;
  if (w != nullptr && w->sched != this) w = nullptr;
  StackBlock* b = nullptr;
  if (w != nullptr && w->stack_cache != nullptr) {
    b = w->stack_cache;
    w->stack_cache = b->next_free;
    --w->stack_cache_count;
  } else {
    b = StackPool::instance().take(stack_size_);
  }
  // Top of stack: [closure][Fiber][StackBlock]; the stack grows down below.
  auto top = reinterpret_cast<std::uintptr_t>(b);
  auto fiber_at = (top - sizeof(Fiber)) & ~std::uintptr_t{63};
  auto closure_at = (fiber_at - closure_size) & ~(std::uintptr_t{closure_align} - 1);
  auto* f = ::new (reinterpret_cast<void*>(fiber_at)) Fiber();
  f->sched = this;
  f->stack_lo = b->lo;
  f->stack_hi = b->hi;
  f->stack_block = b;
  f->closure = reinterpret_cast<void*>(closure_at);
  *closure = f->closure;
  return f;
}

void Scheduler::abort_fiber(Fiber* f) {
  auto* b = static_cast<StackBlock*>(f->stack_block);
  f->~Fiber();
  b->next_free = nullptr;
  StackPool::instance().give_back(b, 1);
}

void Scheduler::start_fiber(Fiber* f, std::string* name, std::uintptr_t spawn_fp) {
  Worker* w = tl_worker;
  if (w != nullptr && w->sched != this) w = nullptr;
  Fiber* parent = current_fiber();
  f->id = alloc_id(w);
  f->parent_id = parent != nullptr ? parent->id : 0;
  if (name != nullptr) f->name = std::move(*name);
  // The walk starts at spawn_commit's own frame, whose return address is the
  // go() call site; the runtime always keeps frame pointers, so that first
  // frame is exact even when user code omits them.
  if constexpr (kAlwaysOnChecks) {
    int depth = std::max(1, std::min(opts_.creation_stack_depth, kMaxCreationFrames));
    f->n_created = static_cast<std::uint8_t>(walk_frame_pointers(spawn_fp, f->created_pcs, depth));
  }
  f->sp = make_context(reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(f->closure) & ~std::uintptr_t{15}),
                       &fiber_main, f);
  Worker* owner = w != nullptr ? w : workers_[0];
  f->reg_owner = owner->index;
  {
    LockGuard g(owner->registry.lock);
    f->reg_next = owner->registry.head;
    if (owner->registry.head != nullptr) owner->registry.head->reg_prev = f;
    owner->registry.head = f;
  }
  if (w != nullptr)
    w->live.store(w->live.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  else
    foreign_live_.fetch_add(1, std::memory_order_relaxed);
  FSAN_HOOK(on_spawn(parent, f));
  f->state.store(FiberState::runnable, std::memory_order_relaxed);
  push_runnable(w, f, true);
}

std::size_t Scheduler::live_fibers() const {
  std::int64_t n = foreign_live_.load(std::memory_order_relaxed);
  for (Worker* w : workers_) n += w->live.load(std::memory_order_relaxed);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

void Scheduler::exit_current() {
  Worker* w = tl_worker;
  Fiber* self = w->current;
  FSAN_HOOK(on_exit(self));
  {
    Worker* owner = workers_[static_cast<std::size_t>(self->reg_owner)];
    LockGuard g(owner->registry.lock);
    if (self->reg_prev != nullptr)
      self->reg_prev->reg_next = self->reg_next;
    else
      owner->registry.head = self->reg_next;
    if (self->reg_next != nullptr) self->reg_next->reg_prev = self->reg_prev;
  }
  w->live.store(w->live.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  if (self->id == main_fiber_id()) stop(0);
  if (!StackPool::canary_intact(static_cast<StackBlock*>(self->stack_block))) report_stack_overflow(self, nullptr);
  w->post = PostSwitch{PostSwitch::Kind::exit, self, nullptr, nullptr};
  switch_away(w, self);
  __builtin_unreachable();
}

void Scheduler::release_stack(Worker* w, Fiber* f) {
  auto* b = static_cast<StackBlock*>(f->stack_block);
  f->~Fiber();
  if (w->stack_cache_count < opts_.stack_cache) {
    b->next_free = w->stack_cache;
    w->stack_cache = b;
    ++w->stack_cache_count;
    return;
  }
  b->next_free = nullptr;
  StackPool::instance().give_back(b, 1);
}

// ---------------------------------------------------------------------------
// Switching

void Scheduler::run_post_switch(Worker* w) {
  PostSwitch p = w->post;
  w->post.kind = PostSwitch::Kind::none;
  switch (p.kind) {
    case PostSwitch::Kind::none:
      return;
    case PostSwitch::Kind::park:
      p.fiber->state.store(FiberState::waiting, std::memory_order_release);
      if (p.after != nullptr) p.after(p.after_arg);
      return;
    case PostSwitch::Kind::exit:
      release_stack(w, p.fiber);
      return;
    case PostSwitch::Kind::requeue:
      p.fiber->state.store(FiberState::runnable, std::memory_order_relaxed);
      global_.push(p.fiber);
      return;
  }
}

void Scheduler::switch_away(Worker* w, Fiber* self) {
  // Timers are not fired here: `self` is not parked yet (its post-switch
  // action has not run), and a timer may be the one to wake it. Due timers
  // send us through the scheduler context, which fires them after parking.
  Fiber* next = timers_due() ? nullptr : pick_local(w, /*fire_timers=*/false);
  if (next != nullptr) {
    w->current = next;
    next->state.store(FiberState::running, std::memory_order_relaxed);
    fsan_switch_context(&self->sp, next->sp);
  } else {
    w->current = nullptr;
    fsan_switch_context(&self->sp, w->sched_sp);
  }
  // Resumed, possibly on another worker.
  while (FSAN_UNLIKELY(self->probe_request)) {
    self->n_probe = static_cast<std::uint8_t>(capture_stack(self->probe_pcs, kMaxProbeFrames, 0));
    self->probe_request = false;
    fsan_switch_context(&self->sp, self->probe_return_sp);
  }
  Worker* now = tl_worker;
  now->sched->run_post_switch(now);
}

Fiber* Scheduler::pick_local(Worker* w, bool fire_timers) {
  if (FSAN_UNLIKELY(stopping())) return nullptr;
  ++w->tick;
  if (fire_timers && timers_due()) timers_.run_due(now_ns());
  Fiber* f = nullptr;
  if (FSAN_UNLIKELY(w->tick % kGlobalQueueEvery == 0)) {
    if (!global_.empty() && (f = global_.pop()) != nullptr) return f;
    std::int64_t now = now_ns();
    if (now - w->last_oldest_ns >= kOldestAfterNs) {
      w->last_oldest_ns = now;
      f = w->runq.steal();
    }
  }
  if (f == nullptr && w->runnext.load(std::memory_order_relaxed) != nullptr)
    f = w->runnext.exchange(nullptr, std::memory_order_acquire);
  if (f == nullptr) f = w->runq.pop();
  if (f != nullptr) return f;
  return global_.pop();
}

void Scheduler::push_runnable(Worker* w, Fiber* f, bool spawn) {
  bool had_work = true;
  if (w != nullptr && !spawn) {
    // A readied fiber takes runnext; the one it displaces joins the deque.
    // A thief is worth waking only once this worker has real parallel work
    // queued (kWakeThiefAtQueued fibers beside runnext): the few fibers a
    // writer lets in or a lock hands on run here soon, and moving them would
    // bounce the objects they touch between cores (an RWMutex read-mostly
    // loop ran 2.4x slower waking a thief at the first displaced fiber).
    Fiber* old = w->runnext.exchange(f, std::memory_order_acq_rel);
    had_work = old != nullptr && w->runq.size() + 1 >= kWakeThiefAtQueued;
    if (old != nullptr && !w->runq.push(old)) global_.push(old);
  } else if (w != nullptr) {
    had_work = w->runq.size() > 0;
    if (!w->runq.push(f)) global_.push(f);
  } else {
    global_.push(f);
  }
  // A lone readied fiber usually runs right after the current one parks
  // (ping-pong, request/reply), so waking a thief for it would only bounce it
  // across cores. Wake one when there is more than that: a spawn, several
  // queued readied fibers, or work from outside the workers.
  if (!spawn && had_work == false && w != nullptr) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (nidle_.load(std::memory_order_relaxed) > 0 && nspinning_.load(std::memory_order_relaxed) == 0) wake_idle_worker();
}

void Scheduler::ready(Fiber* f) {
  FiberState expected = FiberState::waiting;
  while (!f->state.compare_exchange_weak(expected, FiberState::runnable, std::memory_order_acq_rel)) {
    // Still switching out (post-switch not yet run), or its stack is being
    // captured: both end within a few hundred instructions.
    expected = FiberState::waiting;
    cpu_relax();
  }
  FSAN_HOOK(on_unblock(f, current_fiber()));
  Worker* w = tl_worker;
  if (w != nullptr && w->sched != this) w = nullptr;
  push_runnable(w, f, false);
}

void Scheduler::park(WaitReason why, const void* obj, void (*after)(void*), void* arg) {
  Worker* w = tl_worker;
  Fiber* self = w->current;
  if constexpr (kAlwaysOnChecks) {
    self->wait_reason = why;
    self->wait_object = obj;
    self->wait_since_ns = coarse_now_ns();
  }
  FSAN_HOOK(on_block(self, why, obj));
  if constexpr (kAlwaysOnChecks) {
    if (!self->stack_block || !StackPool::canary_intact(static_cast<StackBlock*>(self->stack_block)))
      report_stack_overflow(self, nullptr);
  }
  w->post = PostSwitch{PostSwitch::Kind::park, self, after, arg};
  switch_away(w, self);
  if constexpr (kAlwaysOnChecks) {
    self->wait_reason = WaitReason::none;
    self->wait_object = nullptr;
  }
}

void Scheduler::yield_current() {
  Worker* w = tl_worker;
  Fiber* self = w->current;
  if (!has_local_work(w) && global_.empty() && !timers_due()) return;  // nobody else to run here
  w->post = PostSwitch{PostSwitch::Kind::requeue, self, nullptr, nullptr};
  switch_away(w, self);
}

namespace {
struct SleepTimer {
  TimerEntry entry;
  Fiber* fiber;
};
}  // namespace

void Scheduler::sleep_until_ns(std::int64_t when) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  Worker* w = tl_worker;
  Fiber* self = w->current;
  SleepTimer t;
  t.fiber = self;
  t.entry.when = when;
  t.entry.fire = [](TimerEntry* e, std::int64_t) {
    Fiber* f = reinterpret_cast<SleepTimer*>(e)->fiber;
    f->sched->ready(f);
  };
  // Abandoned at run end: the fiber is freed with the others.
  t.entry.discard = nullptr;
  timers_.lock().lock();
  bool earliest = timers_.add_locked(&t.entry);
  if (earliest) timer_added();
  park(WaitReason::sleep, nullptr, &unlock_lock, &timers_.lock());
}

// ---------------------------------------------------------------------------
// Idle workers

void Scheduler::wake_idle_worker() {
  Worker* w = nullptr;
  {
    LockGuard g(idle_lock_);
    w = idle_head_;
    if (w == nullptr) return;
    idle_head_ = w->next_idle;
    w->in_idle_list = false;
    nidle_.fetch_sub(1, std::memory_order_relaxed);
  }
  w->parker.store(1, std::memory_order_release);
  futex_wake(&w->parker, 1);
}

void Scheduler::wake_all_workers() {
  for (Worker* w : workers_) {
    {
      LockGuard g(idle_lock_);
      if (w->in_idle_list) {
        Worker** p = &idle_head_;
        while (*p != w) p = &(*p)->next_idle;
        *p = w->next_idle;
        w->in_idle_list = false;
        nidle_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    w->parker.store(1, std::memory_order_release);
    futex_wake(&w->parker, 1);
  }
}

void Scheduler::timer_added() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (Worker* s = timer_sleeper_.load(std::memory_order_acquire)) {
    s->parker.store(1, std::memory_order_release);
    futex_wake(&s->parker, 1);
  } else if (tl_worker == nullptr || tl_worker->sched != this) {
    // Added from outside the workers: make sure some worker takes timer duty
    // (a worker adding a timer takes it itself when it next goes idle).
    wake_idle_worker();
  }
}

Fiber* Scheduler::find_slow(Worker* w) {
  // Phase 1: spin, stealing from random victims (at most half the workers spin).
  if (nworkers_ > 1 && nspinning_.load(std::memory_order_relaxed) * 2 < nworkers_) {
    nspinning_.fetch_add(1, std::memory_order_acq_rel);
    for (int round = 0; round < opts_.spin_rounds && !stopping(); ++round) {
      std::uint32_t start = w->rng.below(static_cast<std::uint32_t>(nworkers_));
      for (int i = 0; i < nworkers_; ++i) {
        Worker* v = workers_[(start + static_cast<std::uint32_t>(i)) % static_cast<std::uint32_t>(nworkers_)];
        if (v == w) continue;
        Fiber* f = v->runq.steal();
        // A victim's runnext only once it has gone stale: after half the
        // spin rounds (a few microseconds, Go waits 3), its owner is busy
        // running something else for a while.
        if (f == nullptr && round >= opts_.spin_rounds / 2) {
          f = v->runnext.load(std::memory_order_relaxed);
          if (f != nullptr && !v->runnext.compare_exchange_strong(f, nullptr, std::memory_order_acquire))
            f = nullptr;
        }
        if (f != nullptr) {
          // Keep one spinner around while work is flowing (Go's resetspinning).
          if (nspinning_.fetch_sub(1, std::memory_order_acq_rel) == 1) wake_idle_worker();
          return f;
        }
      }
      if (Fiber* f = global_.pop()) {
        nspinning_.fetch_sub(1, std::memory_order_acq_rel);
        return f;
      }
      if (timers_due()) {
        nspinning_.fetch_sub(1, std::memory_order_acq_rel);
        return nullptr;  // back to pick_local, which fires them
      }
      for (int k = 0; k < 32; ++k) cpu_relax();
    }
    nspinning_.fetch_sub(1, std::memory_order_acq_rel);
  }
  if (stopping()) return nullptr;

  // Phase 2: register as idle, re-check everything, then sleep.
  w->parker.store(0, std::memory_order_relaxed);
  {
    LockGuard g(idle_lock_);
    if (!global_.empty()) return global_.pop();
    w->in_idle_list = true;
    w->next_idle = idle_head_;
    idle_head_ = w;
    nidle_.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // After the fence: either this worker sees the waiter, or the waiter sees
  // every exit this worker ran (wait_live_at_most fences the other way).
  if (FSAN_UNLIKELY(live_wait_active_.load(std::memory_order_acquire))) poke_live_wait();
  bool work = !global_.empty();
  for (Worker* v : workers_) work = work || has_local_work(v);
  if (!work && !stopping()) {
    std::int64_t recheck = check_global_deadlock(w);
    std::int64_t timeout = -1;
    Worker* expected = nullptr;
    bool timer_duty = false;
    if (!timers_.empty() && timer_sleeper_.compare_exchange_strong(expected, w)) {
      timer_duty = true;
      std::atomic_thread_fence(std::memory_order_seq_cst);
      std::int64_t next = timers_.next_when();
      if (next != Timers::kNever) {
        timeout = next - now_ns();
        if (timeout < 0) timeout = 0;
      }
    }
    if (recheck >= 0 && (timeout < 0 || recheck < timeout)) timeout = recheck;
    if (timeout != 0 && !stopping()) {
      while (w->parker.load(std::memory_order_acquire) == 0) {
        futex_wait(&w->parker, 0, timeout);
        if (timeout >= 0) break;
      }
    }
    if (timer_duty) timer_sleeper_.store(nullptr, std::memory_order_release);
  }
  {
    LockGuard g(idle_lock_);
    if (w->in_idle_list) {
      Worker** p = &idle_head_;
      while (*p != w) p = &(*p)->next_idle;
      *p = w->next_idle;
      w->in_idle_list = false;
      nidle_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  return nullptr;
}

std::int64_t Scheduler::check_global_deadlock(Worker* w) {
  if (!kAlwaysOnChecks || !opts_.detect_deadlocks) return -1;
  {
    LockGuard g(idle_lock_);
    if (nidle_.load(std::memory_order_relaxed) != nworkers_ || !global_.empty() || !timers_.empty() ||
        foreign_running(epoch_) > 0 || stopping())
      return -1;
    for (Worker* v : workers_)
      if (has_local_work(v)) return -1;
    // Every worker is idle, nothing is queued, no timer can fire and every
    // foreign thread attached to the run is parked in the runtime: every
    // live fiber is blocked for good. (The last running foreign thread to
    // park or exit calls recheck_deadlock, so this check runs after it.)
  }
  (void)w;
  // Unless a thread born during the run, that has not touched the runtime
  // yet, is still alive: it may be working on what a fiber waits for. It
  // cannot tell us when it exits, so look again in a while.
  std::vector<int> tids;
  for (Worker* v : workers_) tids.push_back(v->tid.load(std::memory_order_acquire));
  if (foreign_unknown_threads(epoch_, tids)) return kUnknownThreadRecheckNs;
  report_global_deadlock(this);
  stop(opts_.exitcode);
  return -1;
}

void Scheduler::recheck_deadlock() { wake_idle_worker(); }

// ---------------------------------------------------------------------------
// Waiting for the other fibers to exit (the leak check at run end)

bool Scheduler::wait_live_at_most(std::size_t n, std::int64_t deadline_ns) {
  Fiber* self = current_fiber();
  if (live_fibers() <= n) return true;
  if (self == nullptr || self->sched != this || deadline_ns <= now_ns()) return false;
  LiveWait& lw = live_wait_;
  lw.fiber = self;
  lw.at_most = n;
  lw.claimed.store(0, std::memory_order_relaxed);
  lw.timer_done.store(0, std::memory_order_relaxed);
  lw.deadline = TimerEntry{};
  lw.deadline.when = deadline_ns;
  lw.deadline.fire = [](TimerEntry* e, std::int64_t) {
    auto* w = reinterpret_cast<LiveWait*>(e);
    Fiber* f = w->fiber;
    const bool won = w->claimed.exchange(1, std::memory_order_acq_rel) == 0;
    w->timer_done.store(1, std::memory_order_release);
    if (won) f->sched->ready(f);
  };
  // Dropped with the run; nothing to free.
  lw.deadline.discard = nullptr;
  if (timers_.add(&lw.deadline)) timer_added();
  live_wait_active_.store(true, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!(live_fibers() <= n && lw.claimed.exchange(1, std::memory_order_acq_rel) == 0))
    park(WaitReason::sleep, nullptr, nullptr, nullptr);  // a claimer readies us
  live_wait_active_.store(false, std::memory_order_relaxed);
  if (!timers_.remove(&lw.deadline))
    while (lw.timer_done.load(std::memory_order_acquire) == 0) cpu_relax();  // firing right now
  return live_fibers() <= n;
}

void Scheduler::poke_live_wait() {
  LiveWait& lw = live_wait_;
  if (live_fibers() > lw.at_most) return;
  if (lw.claimed.exchange(1, std::memory_order_acq_rel) != 0) return;
  ready(lw.fiber);
}

// probe: f is pinned (state probing); switch into it, it unwinds itself in
// switch_away and switches back.
int Scheduler::probe(Fiber* f, std::uintptr_t* pcs, int max) {
  std::uintptr_t buf[kMaxProbeFrames];
  f->probe_pcs = buf;
  f->probe_request = true;
  fsan_switch_context(&f->probe_return_sp, f->sp);
  int n = f->n_probe < max ? f->n_probe : max;
  for (int i = 0; i < n; ++i) pcs[i] = buf[i];
  return n;
}

int Scheduler::capture_parked_stack(Fiber* f, std::uintptr_t* pcs, int max) {
  if (f->foreign) return 0;
  FiberState expected = FiberState::waiting;
  if (!f->state.compare_exchange_strong(expected, FiberState::probing, std::memory_order_acq_rel)) return 0;
  int n = probe(f, pcs, max);
  f->state.store(FiberState::waiting, std::memory_order_release);
  return n;
}

void Scheduler::snapshot_fibers(Fiber* self, std::vector<FiberSnapshot>& out) {
  // Each registry's lock is held while it is walked, so no fiber of it can
  // exit (and be freed) meanwhile; a parked fiber is pinned only while its
  // own stack is captured, so a waker spins for one unwind at most.
  for (Worker* w : workers_) {
    LockGuard g(w->registry.lock);
    for (Fiber* f = w->registry.head; f != nullptr; f = f->reg_next) {
      FiberSnapshot& s = out.emplace_back();
      s.id = f->id;
      s.parent_id = f->parent_id;
      s.name = f->name;
      s.n_created = f->n_created;
      for (int i = 0; i < s.n_created; ++i) s.created[i] = f->created_pcs[i];
      if (f == self) {
        s.self = true;
        s.state = FiberState::running;
        s.n_stack = capture_stack(s.stack, kMaxProbeFrames, 0);
        continue;
      }
      FiberState st = FiberState::waiting;
      if (f->state.compare_exchange_strong(st, FiberState::probing, std::memory_order_acq_rel)) {
        // Pinned: its wait fields are stable until it is released.
        s.state = FiberState::waiting;
        s.wait_reason = f->wait_reason;
        s.wait_since_ns = f->wait_since_ns;
        s.n_stack = probe(f, s.stack, kMaxProbeFrames);
        f->state.store(FiberState::waiting, std::memory_order_release);
      } else {
        s.state = st;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Running and stopping

void Scheduler::stop(int exit_status) {
  {
    LockGuard g(idle_lock_);
    if (stopping_.load(std::memory_order_relaxed)) return;
    exit_status_ = exit_status;
    stopping_.store(true, std::memory_order_release);
  }
  wake_all_workers();
}

void Scheduler::worker_loop(Worker* w) {
  tl_worker = w;
  mark_internal_thread();
  w->tid.store(current_tid(), std::memory_order_release);
  ensure_alt_stack();
  while (!stopping()) {
    Fiber* f = pick_local(w, /*fire_timers=*/true);
    if (f == nullptr) f = find_slow(w);
    if (f == nullptr) continue;
    w->current = f;
    f->state.store(FiberState::running, std::memory_order_relaxed);
    fsan_switch_context(&w->sched_sp, f->sp);
    run_post_switch(w);
  }
  tl_worker = nullptr;
  unmark_internal_thread();
}

void Scheduler::abandon_remaining() {
  // Fibers still alive at the end are dropped without unwinding (like Go's
  // exit): take each parked one off any channel wait queue so nothing that
  // outlives the run points at it, then recycle its stack.
  std::vector<Fiber*> all;
  for_each_fiber([&](Fiber* f) { all.push_back(f); });
  for (Fiber* f : all) {
    cancel_waiters(f);
    if (f->cancel_wait != nullptr) f->cancel_wait(f, f->cancel_arg);
  }
  for (Worker* w : workers_) {
    LockGuard g(w->registry.lock);
    w->registry.head = nullptr;
  }
  for (Fiber* f : all) {
    auto* b = static_cast<StackBlock*>(f->stack_block);
    f->~Fiber();
    b->next_free = nullptr;
    StackPool::instance().give_back(b, 1);
  }
  for (Worker* w : workers_) {
    if (w->stack_cache != nullptr) StackPool::instance().give_back(w->stack_cache, static_cast<std::size_t>(w->stack_cache_count));
    w->stack_cache = nullptr;
    w->stack_cache_count = 0;
  }
}

namespace {
struct MainArgs {
  void (*fn)(void*);
  void* arg;
};
}  // namespace

int Scheduler::run(void (*main_fn)(void*), void* arg) {
  Worker* w0 = workers_[0];
  tl_worker = w0;
  MainArgs args{main_fn, arg};
  void* closure = nullptr;
  Fiber* main = create_fiber(sizeof(MainArgs), alignof(MainArgs), &closure);
  ::new (closure) MainArgs(args);
  main->entry = [](void* p) {
    auto* a = static_cast<MainArgs*>(p);
    a->fn(a->arg);
    // main_fn returned normally (like Go's main): fibers, tickers still
    // alive are leaks once the grace period is over (leak/run_end_check.hpp).
    check_leaks_at_main_return(current_fiber()->sched);
  };
  // The main fiber takes id 1 (alloc_id hands out 2 and up).
  main->id = 1;
  std::string name = "main";
  main->name = name;
  main->sp = make_context(reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(closure) & ~std::uintptr_t{15}),
                          &fiber_main, main);
  main->reg_owner = 0;
  {
    LockGuard g(w0->registry.lock);
    w0->registry.head = main;
  }
  w0->live.store(1, std::memory_order_relaxed);
  main->state.store(FiberState::runnable, std::memory_order_relaxed);
  FSAN_HOOK(on_spawn(nullptr, main));
  w0->runq.push(main);

  for (int i = 1; i < nworkers_; ++i) {
    Worker* w = workers_[static_cast<std::size_t>(i)];
    w->thread = std::thread([this, w] {
      worker_loop(w);
      release_alt_stack();
    });
  }
  worker_loop(w0);
  tl_worker = nullptr;
  for (int i = 1; i < nworkers_; ++i) workers_[static_cast<std::size_t>(i)]->thread.join();

  // No fiber runs any more. Detach the run from the process before freeing
  // its fibers: no dump may be probing them, and no foreign thread may still
  // be spawning into the run.
  {
    LockGuard g(g_dump_mu);
    abandoned_ = true;
    g_sched.store(nullptr, std::memory_order_seq_cst);
  }
  while (g_sched_users.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  foreign_end_run();
  // Timers first: a sleeping fiber's timer entry lives on its stack, which
  // abandon_remaining recycles.
  timers_.discard_all();
  abandon_remaining();
  int status = exit_status_;
  if (status == 0 && had_findings_.load(std::memory_order_relaxed)) status = opts_.exitcode;
  return status;
}

// ---------------------------------------------------------------------------
// Agents: fibers and foreign threads

// Foreign threads (attaching to the run, parking on a futex, deadlock
// accounting) live in sched/foreign.cpp.

Fiber* current_agent() {
  if (Fiber* f = current_fiber()) return f;
  return foreign_self();
}

void park_current(WaitReason why, const void* obj, void (*after)(void*), void* arg) {
  if (Fiber* f = current_fiber()) {
    f->sched->park(why, obj, after, arg);
    return;
  }
  foreign_park(foreign_self(), why, obj, after, arg);
}

void ready(Fiber* f) {
  if (FSAN_UNLIKELY(f->foreign)) {
    foreign_ready(static_cast<ForeignAgent*>(f));
    return;
  }
  f->sched->ready(f);
}

SchedRef::SchedRef() {
  g_sched_users.fetch_add(1, std::memory_order_seq_cst);
  s_ = g_sched.load(std::memory_order_seq_cst);
  if (s_ == nullptr) g_sched_users.fetch_sub(1, std::memory_order_seq_cst);
}

SchedRef::~SchedRef() {
  if (s_ != nullptr) g_sched_users.fetch_sub(1, std::memory_order_seq_cst);
}

// ---------------------------------------------------------------------------
// Public entry points

int run_main(const Options& given, void (*main_fn)(void*), void* arg) {
  if (tl_worker != nullptr) {
    std::fprintf(stderr, "fibersan: fsan::run called from inside fiber %llu: runs cannot nest\n",
                 static_cast<unsigned long long>(current_fiber() != nullptr ? current_fiber()->id : 0));
    return 2;
  }
  Options o = given;
  if (!apply_env_options(o)) return 2;
  if (!load_suppressions(o.suppressions)) return 2;  // a bad file is refused, like TSan's
  if (o.help) std::fputs(options_help().c_str(), stderr);  // and run anyway, as the sanitizers do
  Scheduler* expected = nullptr;
  auto* s = new Scheduler(o);
  if (!g_sched.compare_exchange_strong(expected, s)) {
    delete s;
    std::fprintf(stderr, "fibersan: fsan::run called while another run is in progress\n");
    return 2;
  }
  begin_run_reports(o);
  install_overflow_handler();
  if (o.handle_sigquit) install_sigquit_handler();  // first: its thread belongs in the census baseline
  foreign_begin_run(s->epoch());
  int status = s->run(main_fn, arg);  // clears g_sched before it frees the fibers
  if (o.handle_sigquit) uninstall_sigquit_handler();
  if (g_run_end_hook != nullptr) g_run_end_hook();
  end_run_reports();
  g_sched.store(nullptr, std::memory_order_release);
  delete s;
  StackPool::instance().trim();
  return status;
}

namespace {
// A foreign thread that spawns keeps the run alive from spawn_begin to
// spawn_commit/spawn_abort (the same thread calls both).
thread_local SchedRef* tl_spawn_ref = nullptr;

Scheduler* scheduler_for_spawn() {
  Fiber* f = current_fiber();
  if (f != nullptr) return f->sched;
  auto* ref = new SchedRef();
  Scheduler* s = ref->get();
  if (s == nullptr) {
    std::fprintf(stderr, "fibersan: fsan::go called outside fsan::run: there is no scheduler to run the fiber\n");
    std::abort();
  }
  delete tl_spawn_ref;
  tl_spawn_ref = ref;
  foreign_self();  // touching the run attaches this thread to it
  return s;
}

void release_spawn_ref() {
  if (current_fiber() != nullptr) return;
  delete tl_spawn_ref;
  tl_spawn_ref = nullptr;
}
}  // namespace

SpawnSlot spawn_begin(std::size_t closure_size, std::size_t closure_align) {
  Scheduler* s = scheduler_for_spawn();
  void* closure = nullptr;
  Fiber* f = s->create_fiber(closure_size, closure_align, &closure);
  return SpawnSlot{f, closure};
}

void spawn_commit(SpawnSlot slot, void (*entry)(void*), std::string* name) {
  slot.fiber->entry = entry;
  slot.fiber->sched->start_fiber(slot.fiber, name, reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
  release_spawn_ref();
}

void spawn_abort(SpawnSlot slot) {
  slot.fiber->sched->abort_fiber(slot.fiber);
  release_spawn_ref();
}

}  // namespace fsan::detail

namespace fsan {

void yield() {
  if (detail::Fiber* f = detail::current_fiber()) f->sched->yield_current();
  else std::this_thread::yield();
}

void sleep_until(TimePoint t) {
  std::int64_t when = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  if (detail::Fiber* f = detail::current_fiber()) {
    if (when <= detail::now_ns()) {
      f->sched->yield_current();
      return;
    }
    f->sched->sleep_until_ns(when);
  } else {
    std::this_thread::sleep_until(t);
  }
}

void sleep_for(Duration d) { sleep_until(Clock::now() + d); }

std::uint64_t fiber_id() {
  detail::Fiber* f = detail::current_fiber();
  return f != nullptr ? f->id : 0;
}

std::size_t num_fibers() {
  detail::Scheduler* s = detail::g_sched.load(std::memory_order_acquire);
  return s != nullptr ? s->live_fibers() : 0;
}

}  // namespace fsan
