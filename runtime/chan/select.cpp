// select: Go's selectgo. Phases:
//   pass 1 - lock every channel (address order, each once), look for a case
//            that can proceed, in a random poll order;
//   pass 2 - none: take default, or enqueue a Waiter on every channel and
//            park (the locks are released once parked);
//   pass 3 - woken by one case's channel: relock and unlink the other waiters.
// A waker claims the select by CAS on the agent's select_done (dequeue()),
// so exactly one case wins even when several channels fire at once.
#include <algorithm>
#include <vector>

#include "base/rand.hpp"
#include "chan/chan_core.hpp"
#include "hooks/sync_hooks.hpp"
#include "report/report.hpp"
#include "sched/park.hpp"
#include "waitgraph/handle_registry.hpp"

namespace fsan::detail {
namespace {

FastRand& select_rng() {
  if (Worker* w = tl_worker) return w->rng;
  static thread_local FastRand r{reinterpret_cast<std::uintptr_t>(&r) * 0x9E3779B97F4A7C15ull};
  return r;
}

struct LockSet {
  ChanCore** chans;  // sorted by address, unique, non-null
  std::size_t n;
};

void lock_all(const LockSet& s) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  for (std::size_t i = 0; i < s.n; ++i) s.chans[i]->lock.lock();
}
void unlock_all(const LockSet& s) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  for (std::size_t i = s.n; i-- > 0;) s.chans[i]->lock.unlock();
}
void unlock_all_cb(void* p) { unlock_all(*static_cast<LockSet*>(p)); }

// try_case: the case's channel is locked; performs it if it can proceed now.
// Returns true (and whom to wake) when it did.
bool try_case(Fiber* self, const SelectCase& k, bool* recv_ok, Fiber** wake) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  ChanCore* c = k.chan;
  if (k.is_send) {
    if (c->closed) return true;  // the caller panics after unlocking
    if (Waiter* r = dequeue(c->recvq)) {
      FSAN_HB_RENDEZVOUS(self, c);
      elem_move(c->ops, r->elem, k.elem);
      r->success = true;
      *wake = r->agent;
      return true;
    }
    std::size_t n = c->count.load(std::memory_order_relaxed);
    if (n < c->cap) {
      unsigned char* s = c->slot(n);
      FSAN_HOOK(on_acquire(self, s, SyncOp::chan_slot));
      FSAN_HOOK(on_release(self, s, SyncOp::chan_slot));
      elem_move(c->ops, s, k.elem);
      c->count.store(n + 1, std::memory_order_relaxed);
      return true;
    }
    return false;
  }
  if (Waiter* s = dequeue(c->sendq)) {
    if (c->cap == 0) {
      elem_move(c->ops, k.elem, s->elem);
    } else {
      unsigned char* h = c->slot(0);
      FSAN_HOOK(on_acquire(self, h, SyncOp::chan_slot));
      FSAN_HOOK(on_release(self, h, SyncOp::chan_slot));
      elem_move(c->ops, k.elem, h);
      elem_destroy(c->ops, h);
      elem_move(c->ops, h, s->elem);
      c->head = (c->head + 1) % c->cap;
    }
    FSAN_HB_RENDEZVOUS(self, c);
    s->success = true;
    *wake = s->agent;
    *recv_ok = true;
    return true;
  }
  std::size_t n = c->count.load(std::memory_order_relaxed);
  if (n > 0) {
    unsigned char* h = c->slot(0);
    FSAN_HOOK(on_acquire(self, h, SyncOp::chan_slot));
    FSAN_HOOK(on_release(self, h, SyncOp::chan_slot));
    elem_move(c->ops, k.elem, h);
    elem_destroy(c->ops, h);
    c->head = (c->head + 1) % c->cap;
    c->count.store(n - 1, std::memory_order_relaxed);
    *recv_ok = true;
    return true;
  }
  if (c->closed) {
    FSAN_HOOK(on_acquire(self, c, SyncOp::chan_recv_closed));
    *recv_ok = false;
    return true;
  }
  return false;
}

}  // namespace

SelectResult select_impl(SelectCase* cases, std::size_t n, bool has_default) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  if (n == 0) {
    if (has_default) return {0, false};
    for (;;) park_current(WaitReason::select_no_cases, nullptr, nullptr, nullptr);
  }
  Fiber* self = current_agent();
  if (FSAN_UNLIKELY(g_chan_handle_tracking))
    for (std::size_t i = 0; i < n; ++i)
      if (cases[i].is_send && cases[i].chan != nullptr)
        waitgraph::note_published_if_tracking(cases[i].elem, cases[i].chan->ops->size);

  // Small selects (the common case) use stack arrays.
  constexpr std::size_t kInline = 16;
  std::uint32_t poll_inline[kInline];
  ChanCore* locks_inline[kInline];
  // Raw storage: Waiters are constructed only if the select parks.
  alignas(Waiter) unsigned char waiters_inline[kInline * sizeof(Waiter)];
  std::vector<std::uint32_t> poll_heap;
  std::vector<ChanCore*> locks_heap;
  std::vector<Waiter> waiters_heap;
  std::uint32_t* poll = poll_inline;
  ChanCore** locks = locks_inline;
  Waiter* waiters = reinterpret_cast<Waiter*>(waiters_inline);
  if (n > kInline) {
    poll_heap.resize(n);
    locks_heap.resize(n);
    waiters_heap.resize(n);
    poll = poll_heap.data();
    locks = locks_heap.data();
    waiters = waiters_heap.data();
  }

  // Random poll order (Fisher-Yates), so ready cases are chosen uniformly.
  FastRand& rng = select_rng();
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t j = rng.below(i + 1);
    poll[i] = poll[j];
    poll[j] = i;
  }
  // Lock order: by address, each channel once, nil channels never.
  std::size_t nl = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (cases[i].chan != nullptr) locks[nl++] = cases[i].chan;
  std::sort(locks, locks + nl);
  nl = static_cast<std::size_t>(std::unique(locks, locks + nl) - locks);
  LockSet set{locks, nl};

  // pass 1 - something ready?
  lock_all(set);
  for (std::size_t p = 0; p < n; ++p) {
    const SelectCase& k = cases[poll[p]];
    if (k.chan == nullptr) continue;
    bool ok = false;
    Fiber* wake = nullptr;
    if (try_case(self, k, &ok, &wake)) {
      bool closed_send = k.is_send && wake == nullptr && k.chan->closed;
      unlock_all(set);
      if (closed_send) report_panic("send on closed channel");
      if (wake != nullptr) ready(wake);
      return {poll[p], ok};
    }
  }
  if (has_default) {
    unlock_all(set);
    return {n, false};
  }

  // pass 2 - enqueue on every channel and park.
  self->select_done.store(0, std::memory_order_relaxed);
  self->select_winner = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    if (cases[i].chan == nullptr) continue;
    Waiter& w = *::new (&waiters[i]) Waiter();
    w.agent = self;
    w.chan = cases[i].chan;
    w.elem = cases[i].elem;
    w.case_index = static_cast<std::uint32_t>(i);
    w.is_select = true;
    w.success = false;
    FSAN_HOOK(on_release(self, w.chan, SyncOp::chan_send));
    if (cases[i].is_send) {
      w.chan->sendq.push(&w);
    } else {
      w.chan->recvq.push(&w);
    }
    w.next_of_agent = self->waiters;
    self->waiters = &w;
  }
  park_current(WaitReason::select, nullptr, &unlock_all_cb, &set);

  // pass 3 - one case won; unlink the rest.
  Waiter* won = self->select_winner;
  lock_all(set);
  for (std::size_t i = 0; i < n; ++i) {
    if (cases[i].chan == nullptr || &waiters[i] == won) continue;
    Waiter& w = waiters[i];
    (cases[i].is_send ? w.chan->sendq : w.chan->recvq).unlink(&w);
  }
  unlock_all(set);
  self->waiters = nullptr;
  std::size_t idx = won->case_index;
  if (cases[idx].is_send) {
    if (!won->success) report_panic("send on closed channel");
    FSAN_HOOK(on_acquire(self, cases[idx].chan, SyncOp::chan_recv));
    return {idx, false};
  }
  FSAN_HOOK(on_acquire(self, cases[idx].chan, won->success ? SyncOp::chan_recv : SyncOp::chan_recv_closed));
  return {idx, won->success};
}

}  // namespace fsan::detail
