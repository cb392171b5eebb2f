// WaitTable: the buckets, the per-key queues in them, and parking on them.
// A bucket holds a singly linked list of queue heads (one per key with
// waiters, usually one or two); each head keeps its queue's tail, so push,
// pop and hand-off are O(number of keys in the bucket).
#include "sync/wait_table.hpp"

#include <cstddef>

#include "sched/fiber.hpp"
#include "sched/park.hpp"

namespace fsan::detail {

namespace {

constexpr std::size_t kBuckets = 251;  // prime, as Go's semTabSize
WaitBucket g_buckets[kBuckets];

// cancel: the run ended with the agent still parked: take its waiter off the
// queue so nothing outliving the run points into the dead fiber's stack, and
// let the object forget it was counted (a global Mutex stays usable in the
// next run). Runs before any fiber stack is recycled.
void cancel(Fiber*, void* arg) {
  auto* w = static_cast<SyncWaiter*>(arg);
  WaitBucket& b = wait_bucket(w->key);
  LockGuard g(b.lock);
  if (!w->linked) return;
  b.remove(w);
  if (w->on_cancel != nullptr) w->on_cancel(w);
}

}  // namespace

WaitBucket& wait_bucket(const void* key) {
  auto a = reinterpret_cast<std::uintptr_t>(key);
  return g_buckets[(a >> 3) % kBuckets];
}

SyncWaiter** WaitBucket::find(const void* key) {
  SyncWaiter** link = &queues;
  while (*link != nullptr && (*link)->key != key) link = &(*link)->next_key;
  return link;
}

void WaitBucket::push_back(SyncWaiter* w) {
  SyncWaiter** link = find(w->key);
  w->next = nullptr;
  w->linked = true;
  if (SyncWaiter* h = *link) {
    h->tail->next = w;
    h->tail = w;
    return;
  }
  w->tail = w;
  w->next_key = nullptr;
  *link = w;
}

void WaitBucket::push_front(SyncWaiter* w) {
  SyncWaiter** link = find(w->key);
  w->linked = true;
  if (SyncWaiter* h = *link) {
    w->next = h;
    w->tail = h->tail;
    w->next_key = h->next_key;
  } else {
    w->next = nullptr;
    w->tail = w;
    w->next_key = nullptr;
  }
  *link = w;
}

SyncWaiter* WaitBucket::front(const void* key) { return *find(key); }

void WaitBucket::unlink_after(SyncWaiter** head_link, SyncWaiter* prev, SyncWaiter* w) {
  SyncWaiter* h = *head_link;
  if (prev == nullptr) {
    // w is the head: its successor (if any) takes its place in the bucket list.
    if (SyncWaiter* s = w->next) {
      s->tail = h->tail;
      s->next_key = h->next_key;
      *head_link = s;
    } else {
      *head_link = h->next_key;
    }
  } else {
    prev->next = w->next;
    if (h->tail == w) h->tail = prev;
  }
  w->next = nullptr;
  w->linked = false;
}

SyncWaiter* WaitBucket::pop_front(const void* key) {
  SyncWaiter** link = find(key);
  SyncWaiter* h = *link;
  if (h != nullptr) unlink_after(link, nullptr, h);
  return h;
}

SyncWaiter* WaitBucket::pop_all(const void* key) {
  SyncWaiter** link = find(key);
  SyncWaiter* h = *link;
  if (h == nullptr) return nullptr;
  *link = h->next_key;
  for (SyncWaiter* w = h; w != nullptr; w = w->next) w->linked = false;
  return h;
}

SyncWaiter* WaitBucket::pop_ticket(const void* key, std::uint32_t ticket) {
  SyncWaiter** link = find(key);
  SyncWaiter* prev = nullptr;
  for (SyncWaiter* w = *link; w != nullptr; prev = w, w = w->next) {
    if (w->ticket == ticket) {
      unlink_after(link, prev, w);
      return w;
    }
  }
  return nullptr;
}

void WaitBucket::remove(SyncWaiter* w) {
  if (!w->linked) return;
  SyncWaiter** link = find(w->key);
  SyncWaiter* prev = nullptr;
  for (SyncWaiter* x = *link; x != nullptr; prev = x, x = x->next) {
    if (x == w) {
      unlink_after(link, prev, w);
      return;
    }
  }
}

void park_in(WaitBucket& b, SyncWaiter* w, WaitReason why, const void* obj) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  Fiber* self = w->agent;
  self->cancel_wait = &cancel;
  self->cancel_arg = w;
  park_current(why, obj, &b.lock);
  self->cancel_wait = nullptr;
  self->cancel_arg = nullptr;
}

void wake_chain(SyncWaiter* w) {
  while (w != nullptr) {
    SyncWaiter* next = w->next;
    ready(w->agent);
    w = next;
  }
}

}  // namespace fsan::detail
