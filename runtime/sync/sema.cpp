// Sema: take a banked token without locking when there is one; otherwise
// queue under the bucket lock, where releases hand tokens to waiters.
#include "sync/sema.hpp"

#include "sched/park.hpp"
#include "sync/wait_table.hpp"

namespace fsan::detail {

namespace {

bool try_take(std::atomic<std::uint32_t>* word) {
  std::uint32_t v = word->load(std::memory_order_relaxed);
  while (v > 0) {
    if (word->compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
  }
  return false;
}

}  // namespace

void sem_acquire(std::atomic<std::uint32_t>* word, WaitReason why, const void* obj) {
  if (try_take(word)) return;
  WaitBucket& b = wait_bucket(word);
  b.lock.lock();
  // Re-check under the lock: releases bank tokens only while holding it.
  if (try_take(word)) {
    b.lock.unlock();
    return;
  }
  SyncWaiter w;
  w.agent = current_agent();
  w.key = word;
  b.push_back(&w);
  park_in(b, &w, why, obj);
  // The releaser handed the token over directly.
}

void sem_release(std::atomic<std::uint32_t>* word, std::uint32_t n) {
  if (n == 0) return;
  WaitBucket& b = wait_bucket(word);
  SyncWaiter* chain = nullptr;
  SyncWaiter** tail = &chain;
  {
    LockGuard g(b.lock);
    while (n > 0) {
      SyncWaiter* w = b.pop_front(word);
      if (w == nullptr) break;
      *tail = w;
      tail = &w->next;
      --n;
    }
    // Tokens nobody is queued for yet are banked for acquirers still on
    // their way (they are inside sem_acquire, so the object is alive).
    if (n > 0) word->fetch_add(n, std::memory_order_release);
  }
  wake_chain(chain);
}

}  // namespace fsan::detail
