// Channels: send, receive, close. Select lives in select.cpp and shares the
// same locking and hand-off rules. Every operation that blocks parks with a
// Waiter on its own stack and releases the channel lock only once parked.
#include "chan/chan_core.hpp"

#include <cstdlib>
#include <new>

#include "hooks/sync_hooks.hpp"
#include "report/report.hpp"
#include "sched/park.hpp"
#include "waitgraph/handle_registry.hpp"

namespace fsan::detail {

ChanCore* chan_make(std::size_t capacity, const ElemOps* ops) {
  std::size_t stride = (ops->size + ops->align - 1) / ops->align * ops->align;
  std::size_t header = (sizeof(ChanCore) + 63) / 64 * 64;
  std::size_t align = ops->align > 64 ? ops->align : 64;
  std::size_t bytes = header + stride * capacity;
  void* mem = ::operator new(bytes, std::align_val_t{align});
  auto* c = ::new (mem) ChanCore();
  c->ops = ops;
  c->cap = capacity;
  c->stride = stride;
  c->buf = static_cast<unsigned char*>(mem) + header;
  return c;
}

void chan_free(ChanCore* c) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  // Elements still buffered belong to the channel: destroy them.
  std::size_t n = c->count.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) elem_destroy(c->ops, c->slot(i));
  std::size_t align = c->ops->align > 64 ? c->ops->align : 64;
  c->~ChanCore();
  ::operator delete(static_cast<void*>(c), std::align_val_t{align});
}

Waiter* dequeue(WaitQueue& q) {
  while (Waiter* w = q.head) {
    q.unlink(w);
    if (!w->is_select) return w;
    std::uint32_t expected = 0;
    if (w->agent->select_done.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      w->agent->select_winner = w;
      return w;
    }
    // Another case of that select already won; drop this stale waiter.
  }
  return nullptr;
}

namespace {

void link_to_agent(Fiber* agent, Waiter* w) {
  w->next_of_agent = agent->waiters;
  agent->waiters = w;
}

[[noreturn]] void block_forever(WaitReason why) {
  for (;;) park_current(why, nullptr, nullptr, nullptr);
}

}  // namespace

void chan_send(ChanCore* c, void* src) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  if (FSAN_UNLIKELY(c == nullptr)) block_forever(WaitReason::chan_send_nil);
  waitgraph::note_published_if_tracking(src, c->ops->size);
  Fiber* self = current_agent();
  c->lock.lock();
  if (FSAN_UNLIKELY(c->closed)) {
    c->lock.unlock();
    report_panic("send on closed channel");
  }
  // pass 1 - a receiver is already waiting: hand the value straight to it.
  if (Waiter* r = dequeue(c->recvq)) {
    FSAN_HB_RENDEZVOUS(self, c);
    elem_move(c->ops, r->elem, src);
    r->success = true;
    Fiber* agent = r->agent;
    c->lock.unlock();
    ready(agent);
    return;
  }
  // pass 2 - room in the buffer.
  std::size_t n = c->count.load(std::memory_order_relaxed);
  if (n < c->cap) {
    unsigned char* s = c->slot(n);
    FSAN_HOOK(on_acquire(self, s, SyncOp::chan_slot));
    FSAN_HOOK(on_release(self, s, SyncOp::chan_slot));
    elem_move(c->ops, s, src);
    c->count.store(n + 1, std::memory_order_relaxed);
    c->lock.unlock();
    return;
  }
  // pass 3 - park until a receiver takes the value (or close wakes us).
  Waiter w;
  w.agent = self;
  w.chan = c;
  w.elem = src;
  FSAN_HOOK(on_release(self, c, SyncOp::chan_send));
  c->sendq.push(&w);
  link_to_agent(self, &w);
  park_current(WaitReason::chan_send, c, &c->lock);
  self->waiters = nullptr;
  if (!w.success) report_panic("send on closed channel");
  FSAN_HOOK(on_acquire(self, c, SyncOp::chan_recv));
}

bool chan_try_send(ChanCore* c, void* src) {
  if (c == nullptr) return false;
  Fiber* self = current_agent();
  LockGuard g(c->lock);
  if (c->closed) return false;
  if (Waiter* r = dequeue(c->recvq)) {
    FSAN_HB_RENDEZVOUS(self, c);
    elem_move(c->ops, r->elem, src);
    r->success = true;
    ready(r->agent);
    return true;
  }
  std::size_t n = c->count.load(std::memory_order_relaxed);
  if (n >= c->cap) return false;
  unsigned char* s = c->slot(n);
  FSAN_HOOK(on_acquire(self, s, SyncOp::chan_slot));
  FSAN_HOOK(on_release(self, s, SyncOp::chan_slot));
  elem_move(c->ops, s, src);
  c->count.store(n + 1, std::memory_order_relaxed);
  return true;
}

bool chan_recv(ChanCore* c, void* dst) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  if (FSAN_UNLIKELY(c == nullptr)) block_forever(WaitReason::chan_receive_nil);
  Fiber* self = current_agent();
  c->lock.lock();
  // pass 1 - a sender is waiting: unbuffered takes its value; a full buffer
  // gives its head and takes the sender's value at the tail.
  if (Waiter* s = dequeue(c->sendq)) {
    if (c->cap == 0) {
      elem_move(c->ops, dst, s->elem);
    } else {
      unsigned char* h = c->slot(0);
      FSAN_HOOK(on_acquire(self, h, SyncOp::chan_slot));
      FSAN_HOOK(on_release(self, h, SyncOp::chan_slot));
      elem_move(c->ops, dst, h);
      elem_destroy(c->ops, h);
      elem_move(c->ops, h, s->elem);
      c->head = (c->head + 1) % c->cap;
    }
    FSAN_HB_RENDEZVOUS(self, c);
    s->success = true;
    Fiber* agent = s->agent;
    c->lock.unlock();
    ready(agent);
    return true;
  }
  // pass 2 - a buffered value.
  std::size_t n = c->count.load(std::memory_order_relaxed);
  if (n > 0) {
    unsigned char* h = c->slot(0);
    FSAN_HOOK(on_acquire(self, h, SyncOp::chan_slot));
    FSAN_HOOK(on_release(self, h, SyncOp::chan_slot));
    elem_move(c->ops, dst, h);
    elem_destroy(c->ops, h);
    c->head = (c->head + 1) % c->cap;
    c->count.store(n - 1, std::memory_order_relaxed);
    c->lock.unlock();
    return true;
  }
  // pass 3 - closed and drained.
  if (c->closed) {
    FSAN_HOOK(on_acquire(self, c, SyncOp::chan_recv_closed));
    c->lock.unlock();
    return false;
  }
  // pass 4 - park until a sender or close.
  Waiter w;
  w.agent = self;
  w.chan = c;
  w.elem = dst;
  FSAN_HOOK(on_release(self, c, SyncOp::chan_send));
  c->recvq.push(&w);
  link_to_agent(self, &w);
  park_current(WaitReason::chan_receive, c, &c->lock);
  self->waiters = nullptr;
  FSAN_HOOK(on_acquire(self, c, w.success ? SyncOp::chan_recv : SyncOp::chan_recv_closed));
  return w.success;
}

void chan_close(ChanCore* c) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  if (FSAN_UNLIKELY(c == nullptr)) report_panic("close of nil channel");
  Fiber* self = current_agent();
  c->lock.lock();
  if (FSAN_UNLIKELY(c->closed)) {
    c->lock.unlock();
    report_panic("close of closed channel");
  }
  c->closed = true;
  FSAN_HOOK(on_release(self, c, SyncOp::chan_close));
  // Collect everyone to wake (receivers first, each queue in FIFO order),
  // then wake them without the lock held. Dequeued waiters are reused as
  // list nodes: nobody else touches them any more.
  Waiter* head = nullptr;
  Waiter** tail = &head;
  for (WaitQueue* q : {&c->recvq, &c->sendq}) {
    while (Waiter* w = dequeue(*q)) {
      w->success = false;
      w->next = nullptr;
      *tail = w;
      tail = &w->next;
    }
  }
  c->lock.unlock();
  while (head != nullptr) {
    Waiter* next = head->next;  // read before ready(): the waiter dies with its wait
    ready(head->agent);
    head = next;
  }
}

std::size_t chan_len(const ChanCore* c) { return c == nullptr ? 0 : c->count.load(std::memory_order_relaxed); }
std::size_t chan_cap(const ChanCore* c) { return c == nullptr ? 0 : c->cap; }

void cancel_waiters(Fiber* f) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  for (Waiter* w = f->waiters; w != nullptr; w = w->next_of_agent) {
    LockGuard g(w->chan->lock);
    if (!w->linked) continue;
    // A waiter is in exactly one of its channel's queues.
    bool in_send = false;
    for (Waiter* x = w->chan->sendq.head; x != nullptr; x = x->next) in_send = in_send || x == w;
    (in_send ? w->chan->sendq : w->chan->recvq).unlink(w);
  }
  f->waiters = nullptr;
}

}  // namespace fsan::detail
