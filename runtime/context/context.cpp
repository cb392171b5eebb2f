// Context tree: creation, cancellation, deadline timers, and the lazy
// deadline check used where no timer can run. Cancellation walks the subtree
// with an explicit work list (not recursion), so a chain of thousands of
// nested contexts cannot overflow a fiber stack; freeing a chain is iterative
// for the same reason. Invariants and lock order: context_node.hpp.
#include <chrono>
#include <limits>
#include <new>
#include <utility>

#include <fsan/context.hpp>

#include "base/checks.hpp"
#include "context/context_node.hpp"
#include "hooks/sync_hooks.hpp"
#include "leak/lost_cancel.hpp"
#include "sched/park.hpp"
#include "sched/scheduler.hpp"
#include "time/timer_sched.hpp"

namespace fsan {

const char* to_string(CtxError e) {
  switch (e) {
    case CtxError::none:
      return "";
    case CtxError::canceled:
      return "context canceled";
    case CtxError::deadline_exceeded:
      return "context deadline exceeded";
  }
  return "?";
}

namespace detail {
namespace {

// try_retain: takes a reference unless the node is already being freed.
bool try_retain(CtxNode* n) {
  std::uint32_t r = n->refs.load(std::memory_order_relaxed);
  while (r != 0)
    if (n->refs.compare_exchange_weak(r, r + 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
  return false;
}

void unlink_child_locked(CtxNode* p, CtxNode* c) FSAN_REQUIRES(p->lock) {
  if (!c->linked) return;
  if (c->prev_sibling != nullptr)
    c->prev_sibling->next_sibling = c->next_sibling;
  else
    p->first_child = c->next_sibling;
  if (c->next_sibling != nullptr) c->next_sibling->prev_sibling = c->prev_sibling;
  c->prev_sibling = c->next_sibling = nullptr;
  c->linked = false;
}

// The deadline timer: the heap owns one reference to the node while armed.
void deadline_fire(TimerEntry* e, std::int64_t) {
  auto* n = reinterpret_cast<CtxNode*>(e);
  {
    LockGuard g(n->lock);
    n->timer_sched = nullptr;
  }
  ctx_cancel(n, CtxError::deadline_exceeded);
  ctx_release(n);
}

void deadline_discard(TimerEntry* e) {
  auto* n = reinterpret_cast<CtxNode*>(e);
  {
    LockGuard g(n->lock);
    // Still armed means still live (cancel disarms): from now on the deadline
    // is checked lazily, and a fiber of a later run may arm it again.
    if (n->timer_sched != nullptr) {
      n->timer_sched = nullptr;
      n->lazy.store(true, std::memory_order_relaxed);
    }
  }
  ctx_release(n);
}

void arm_locked(CtxNode* n, Scheduler* s) FSAN_REQUIRES(n->lock) {
  n->refs.fetch_add(1, std::memory_order_relaxed);  // the heap's reference
  n->timer = TimerEntry{};
  n->timer.when = n->deadline_ns;
  n->timer.fire = &deadline_fire;
  n->timer.discard = &deadline_discard;
  n->timer_sched = s;
  n->lazy.store(false, std::memory_order_relaxed);
  if (s->timers().add(&n->timer)) s->timer_added();
}

// end_one: ends n with e unless it already ended (returns false then). Its
// children are unlinked; those still alive are retained and pushed on *work
// for the caller to end next.
bool end_one(CtxNode* n, CtxError e, CtxNode** work) {
  Chan<Unit> done;
  bool disarmed = false;
  CtxNode* parent = nullptr;
  {
    LockGuard g(n->lock);
    if (n->err.load(std::memory_order_relaxed) != CtxError::none) return false;
    // Cancel happens before whoever observes it through err() (SEMANTICS.md);
    // the close below orders it before a receive on done().
    FSAN_HOOK(on_release(current_agent(), n, SyncOp::context));
    n->err.store(e, std::memory_order_release);
    n->lazy.store(false, std::memory_order_relaxed);
    for (CtxNode* c = n->first_child; c != nullptr;) {
      CtxNode* next = c->next_sibling;
      c->prev_sibling = c->next_sibling = nullptr;
      c->linked = false;
      if (try_retain(c)) {
        c->cancel_next = *work;
        *work = c;
      }
      c = next;
    }
    n->first_child = nullptr;
    if (n->timer_sched != nullptr) {
      // remove() fails when the timer is firing right now or the run is
      // discarding it: that callback then drops the heap's reference.
      disarmed = n->timer_sched->timers().remove(&n->timer);
      n->timer_sched = nullptr;
    }
    parent = std::exchange(n->parent, nullptr);
    if (n->done_made.load(std::memory_order_relaxed)) done = n->done;
  }
  if (!done.is_nil()) done.close();
  if (disarmed) n->refs.fetch_sub(1, std::memory_order_relaxed);  // the caller still holds one
  if (parent != nullptr) {
    {
      LockGuard g(parent->lock);
      unlink_child_locked(parent, n);
    }
    ctx_release(parent);
  }
  return true;
}

// check_lazy: for a node no timer watches, ends it once its deadline passed;
// else, called from a fiber, arms a timer on that fiber's run so waiters on
// done() are woken in time.
void check_lazy(CtxNode* n, bool arm) {
  if (now_ns() >= n->deadline_ns) {
    ctx_cancel(n, CtxError::deadline_exceeded);
    return;
  }
  Fiber* f = current_fiber();
  if (!arm || f == nullptr) return;
  LockGuard g(n->lock);
  if (n->lazy.load(std::memory_order_relaxed) && n->err.load(std::memory_order_relaxed) == CtxError::none &&
      n->timer_sched == nullptr)
    arm_locked(n, f->sched);
}

// new_child: a node under p (nullptr: background) with its own deadline if
// has_own. Returns it with two references (the Context and the CancelFunc).
CtxNode* new_child(CtxNode* p, bool has_own, std::int64_t own_ns) {
  auto* n = new CtxNode();
  n->refs.store(2, std::memory_order_relaxed);
  bool own_wins = false;
  if (p != nullptr && p->has_deadline) {
    n->has_deadline = true;
    n->deadline_ns = p->deadline_ns;
  }
  if (has_own && (!n->has_deadline || own_ns < n->deadline_ns)) {
    n->has_deadline = true;
    n->deadline_ns = own_ns;
    own_wins = true;
  }
  // A parent no timer watches cannot wake this child at its deadline either.
  const bool parent_lazy = p != nullptr && p->lazy.load(std::memory_order_acquire);

  if (p != nullptr) {
    // Set before n becomes reachable from p's child list.
    ctx_retain(p);
    {
      LockGuard g(n->lock);
      n->parent = p;
    }
    CtxError pe = CtxError::none;
    {
      LockGuard g(p->lock);
      pe = p->err.load(std::memory_order_relaxed);
      if (pe == CtxError::none) {
        n->next_sibling = p->first_child;
        if (p->first_child != nullptr) p->first_child->prev_sibling = n;
        p->first_child = n;
        n->linked = true;
      }
    }
    if (pe != CtxError::none) {
      {
        LockGuard g(n->lock);
        n->parent = nullptr;
      }
      FSAN_HOOK(on_acquire(current_agent(), p, SyncOp::context));
      ctx_release(p);  // the caller's handle still holds p
      ctx_cancel(n, pe);
      return n;
    }
  }
  if (n->has_deadline && n->deadline_ns != Timers::kNever) {
    if (n->deadline_ns <= now_ns()) {
      ctx_cancel(n, CtxError::deadline_exceeded);
      return n;
    }
    if (own_wins || parent_lazy) {
      LockGuard g(n->lock);
      if (n->err.load(std::memory_order_relaxed) == CtxError::none) {
        TimerSched ts;
        if (Scheduler* s = ts.get())
          arm_locked(n, s);
        else
          n->lazy.store(true, std::memory_order_release);
      }
    }
  }
  return n;
}

}  // namespace

void ctx_retain(CtxNode* n) {
  if (n != nullptr) n->refs.fetch_add(1, std::memory_order_relaxed);
}

void ctx_release(CtxNode* n) {
  // A loop, not recursion: the last reference to a long chain frees it all.
  while (n != nullptr && n->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    CtxNode* parent = nullptr;
    {
      LockGuard g(n->lock);
      parent = std::exchange(n->parent, nullptr);
    }
    if (parent != nullptr) {
      LockGuard g(parent->lock);
      unlink_child_locked(parent, n);
    }
    delete n;
    n = parent;  // drop the reference n held on it
  }
}

void ctx_cancel(CtxNode* n, CtxError e) {
  CtxNode* work = nullptr;
  if (!end_one(n, e, &work)) return;
  while (work != nullptr) {
    CtxNode* c = work;
    work = c->cancel_next;
    end_one(c, e, &work);
    ctx_release(c);
  }
}

void cancel_handle_retain(CancelHandle* h) {
  if (h != nullptr) h->refs.fetch_add(1, std::memory_order_relaxed);
}

void cancel_handle_release(CancelHandle* h) {
  if (h == nullptr || h->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // lost_cancel (SEMANTICS.md): the last copy of this CancelFunc dies
  // uncalled while its context is still live — go vet's lostcancel, found at
  // run time. Ended by its parent or its deadline (fired, or due and only
  // checked lazily) is not live.
  const CtxNode* n = h->node;
  if (kAlwaysOnChecks && FSAN_UNLIKELY(!h->called.load(std::memory_order_relaxed)) &&
      n->err.load(std::memory_order_acquire) == CtxError::none && !(n->has_deadline && now_ns() >= n->deadline_ns))
    report_lost_cancel(*h);
  ctx_release(h->node);  // may free the node, and with it *h: nothing after this
}

CancelHandle* new_cancel_handle(CtxNode* n, const char* made_by, std::uintptr_t fp) {
  CancelHandle* h = &n->cancel;
  h->node = n;
  h->made_by = made_by;
  capture_creation_site(h->site, fp);
  return h;
}

}  // namespace detail

Chan<Unit> Context::done() const {
  detail::CtxNode* n = node_;
  if (n == nullptr) return {};
  if (FSAN_UNLIKELY(n->lazy.load(std::memory_order_acquire))) detail::check_lazy(n, /*arm=*/true);
  if (FSAN_LIKELY(n->done_made.load(std::memory_order_acquire))) return n->done;
  detail::LockGuard g(n->lock);
  if (!n->done_made.load(std::memory_order_relaxed)) {
    n->done = make_chan<Unit>();
    if (n->err.load(std::memory_order_relaxed) != CtxError::none) {
      // Made after the cancel: the close below is this fiber's, so it must
      // carry the canceller's release for receivers on done() to observe it.
      FSAN_HOOK(on_acquire(detail::current_agent(), n, detail::SyncOp::context));
      n->done.close();
    }
    n->done_made.store(true, std::memory_order_release);
  }
  return n->done;
}

CtxError Context::err() const {
  detail::CtxNode* n = node_;
  if (n == nullptr) return CtxError::none;
  CtxError e = n->err.load(std::memory_order_acquire);
  if (FSAN_LIKELY(e == CtxError::none)) {
    if (FSAN_LIKELY(!n->lazy.load(std::memory_order_acquire))) return e;
    detail::check_lazy(n, /*arm=*/false);
    e = n->err.load(std::memory_order_acquire);
    if (e == CtxError::none) return e;
  }
  FSAN_HOOK(on_acquire(detail::current_agent(), n, detail::SyncOp::context));
  return e;
}

std::optional<TimePoint> Context::deadline() const {
  if (node_ == nullptr || !node_->has_deadline) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(node_->deadline_ns)));
}

void CancelFunc::operator()() const {
  if (h_ == nullptr) return;
  h_->called.store(true, std::memory_order_relaxed);
  detail::ctx_cancel(h_->node, CtxError::canceled);
}

// Each with_* records its caller (the frame above its own) as where the
// context and its CancelFunc were made.
std::pair<Context, CancelFunc> with_cancel(const Context& parent) {
  auto* h = detail::new_cancel_handle(detail::new_child(parent.node_, false, 0), "with_cancel",
                                      reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
  return {Context(h->node), CancelFunc(h)};
}

std::pair<Context, CancelFunc> with_deadline(const Context& parent, TimePoint t) {
  auto* h = detail::new_cancel_handle(
      detail::new_child(parent.node_, true,
                        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count()),
      "with_deadline", reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
  return {Context(h->node), CancelFunc(h)};
}

std::pair<Context, CancelFunc> with_timeout(const Context& parent, Duration d) {
  const std::int64_t now = detail::now_ns();
  const std::int64_t when =
      detail::deadline_after(now, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  auto* h = detail::new_cancel_handle(detail::new_child(parent.node_, true, when), "with_timeout",
                                      reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
  return {Context(h->node), CancelFunc(h)};
}

}  // namespace fsan
