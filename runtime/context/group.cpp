// GroupCore: the shared state behind fsan::Group (Go's errgroup): a count of
// active tasks, the limit, two FIFO queues of parked agents and the first
// failure, all under one Lock.
// Invariants: active counts tasks entered and not yet left, including one
// handed a slot by a leaving task while its go() is still waking up; at most
// max(limit, 0) tasks are active when limit >= 0; waitq is non-empty only while
// active > 0. Each task holds a reference, so a task may finish after the
// Group is gone.
// Lock order: GroupCore::lock -> scheduler locks (agents are readied after
// it is released); the context is cancelled with no lock held.
#include <string>

#include <fsan/group.hpp>

#include "base/lock.hpp"
#include "hooks/sync_hooks.hpp"
#include "report/report.hpp"
#include "sched/park.hpp"

namespace fsan::detail {
namespace {

struct WaiterList;

// GroupWaiter: an agent parked in go() (at the limit) or in wait(); lives on
// that agent's stack while it waits.
struct GroupWaiter {
  Fiber* agent = nullptr;
  GroupWaiter* next = nullptr;
  GroupWaiter* prev = nullptr;
  WaiterList* list = nullptr;  // non-null while queued
  GroupCore* core = nullptr;
};

struct WaiterList {
  GroupWaiter* head = nullptr;
  GroupWaiter* tail = nullptr;

  void push(GroupWaiter* w) {
    w->next = nullptr;
    w->prev = tail;
    (tail != nullptr ? tail->next : head) = w;
    tail = w;
    w->list = this;
  }
  void unlink(GroupWaiter* w) {
    (w->prev != nullptr ? w->prev->next : head) = w->next;
    (w->next != nullptr ? w->next->prev : tail) = w->prev;
    w->next = w->prev = nullptr;
    w->list = nullptr;
  }
  GroupWaiter* pop() {
    GroupWaiter* w = head;
    if (w != nullptr) unlink(w);
    return w;
  }
};

}  // namespace

struct GroupCore {
  std::atomic<std::uint32_t> refs{1};
  Lock lock;
  std::int64_t active FSAN_GUARDED_BY(lock) = 0;
  std::int64_t limit FSAN_GUARDED_BY(lock) = -1;  // < 0: none
  std::exception_ptr first_failure FSAN_GUARDED_BY(lock);
  WaiterList limitq FSAN_GUARDED_BY(lock);  // agents blocked in go()
  WaiterList waitq FSAN_GUARDED_BY(lock);   // agents blocked in wait()
  const CancelFunc cancel;                  // no-op without a parent context

  explicit GroupCore(CancelFunc c) : cancel(std::move(c)) {}
};

namespace {

// At run end an agent still parked here is abandoned: take it off the queue
// so nothing that outlives the run points at it.
void cancel_group_wait(Fiber*, void* arg) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  auto* w = static_cast<GroupWaiter*>(arg);
  LockGuard g(w->core->lock);
  if (w->list != nullptr) w->list->unlink(w);
}

// park_on: queues self on q and parks; g->lock is held on entry and released
// once parked.
void park_on(GroupCore* g, WaiterList& q, WaitReason why) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  Fiber* self = current_agent();
  GroupWaiter w;
  w.agent = self;
  w.core = g;
  q.push(&w);
  self->cancel_wait = &cancel_group_wait;
  self->cancel_arg = &w;
  park_current(why, g, &g->lock);
  self->cancel_wait = nullptr;
  self->cancel_arg = nullptr;
}

void ready_all(GroupWaiter* w) {
  while (w != nullptr) {
    GroupWaiter* next = w->next;  // read before ready(): the waiter dies with its wait
    ready(w->agent);
    w = next;
  }
}

}  // namespace

GroupCore* group_new(CancelFunc cancel) { return new GroupCore(std::move(cancel)); }

void group_retain(GroupCore* g) { g->refs.fetch_add(1, std::memory_order_relaxed); }

void group_release(GroupCore* g) {
  if (g->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete g;
}

void group_cancel(GroupCore* g) { g->cancel(); }

void group_enter(GroupCore* g) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  g->lock.lock();
  if (g->limit < 0) {
    ++g->active;
    g->lock.unlock();
    return;
  }
  if (g->active < g->limit) {
    ++g->active;
  } else {
    // Woken by a leaving task that handed us its slot (already counted).
    park_on(g, g->limitq, WaitReason::errgroup_limit);
    g->lock.lock();
  }
  // A slot's previous holder ended before this go() returns (Go: the
  // semaphore channel's k-th receive happens before the (k+limit)-th send).
  FSAN_HOOK(on_acquire(current_agent(), &g->limitq, SyncOp::waitgroup));
  g->lock.unlock();
}

bool group_try_enter(GroupCore* g) {
  LockGuard l(g->lock);
  if (g->limit >= 0 && g->active >= g->limit) return false;
  ++g->active;
  if (g->limit >= 0) FSAN_HOOK(on_acquire(current_agent(), &g->limitq, SyncOp::waitgroup));
  return true;
}

void group_leave(GroupCore* g, std::exception_ptr failure) {
  if (failure != nullptr) {
    bool first = false;
    {
      LockGuard l(g->lock);
      if (g->first_failure == nullptr) {
        g->first_failure = std::move(failure);
        first = true;
      }
    }
    if (first) g->cancel();
  }
  GroupWaiter* handoff = nullptr;
  GroupWaiter* waiters = nullptr;
  {
    LockGuard l(g->lock);
    // This task's end happens before wait() returns and before the go() that
    // takes its slot returns.
    FSAN_HOOK(on_release(current_agent(), g, SyncOp::waitgroup));
    FSAN_HOOK(on_release(current_agent(), &g->limitq, SyncOp::waitgroup));
    handoff = g->limitq.pop();  // it inherits our slot: active is unchanged
    if (handoff == nullptr && --g->active == 0) {
      waiters = g->waitq.head;
      for (GroupWaiter* w = waiters; w != nullptr; w = w->next) w->list = nullptr;
      g->waitq.head = g->waitq.tail = nullptr;
    }
  }
  if (handoff != nullptr) ready(handoff->agent);
  ready_all(waiters);
  group_release(g);
}

std::exception_ptr group_wait(GroupCore* g) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  g->lock.lock();
  if (g->active > 0) {
    park_on(g, g->waitq, WaitReason::sync_waitgroup_wait);
    g->lock.lock();
  }
  FSAN_HOOK(on_acquire(current_agent(), g, SyncOp::waitgroup));
  std::exception_ptr e = g->first_failure;
  g->lock.unlock();
  g->cancel();
  return e;
}

void group_set_limit(GroupCore* g, int n) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  g->lock.lock();
  if (g->active != 0) {
    std::string msg =
        "errgroup: modify limit while " + std::to_string(g->active) + " goroutines in the group are still active";
    g->lock.unlock();
    report_panic(msg.c_str());
  }
  g->limit = n < 0 ? -1 : n;
  g->lock.unlock();
}

}  // namespace fsan::detail

namespace fsan {

Group::Group() : core_(detail::group_new(CancelFunc())) {}

Group::Group(const Context& parent) : core_(nullptr) {
  auto [ctx, cancel] = with_cancel(parent);
  ctx_ = std::move(ctx);
  core_ = detail::group_new(std::move(cancel));
}

Group::~Group() {
  detail::group_cancel(core_);
  detail::group_release(core_);
}

}  // namespace fsan
