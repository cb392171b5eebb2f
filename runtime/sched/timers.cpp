// Timers: a binary min-heap keyed by `when`; each entry knows its index so
// remove() is O(log n).
#include "sched/timers.hpp"

#include <utility>

namespace fsan::detail {

void Timers::publish() { next_when_.store(heap_.empty() ? kNever : heap_[0]->when, std::memory_order_release); }

void Timers::sift_up(std::size_t i) {
  while (i > 0) {
    std::size_t p = (i - 1) / 2;
    if (heap_[p]->when <= heap_[i]->when) break;
    std::swap(heap_[p], heap_[i]);
    heap_[p]->heap_index = static_cast<std::int64_t>(p);
    heap_[i]->heap_index = static_cast<std::int64_t>(i);
    i = p;
  }
}

void Timers::sift_down(std::size_t i) {
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && heap_[l]->when < heap_[m]->when) m = l;
    if (r < n && heap_[r]->when < heap_[m]->when) m = r;
    if (m == i) return;
    std::swap(heap_[m], heap_[i]);
    heap_[m]->heap_index = static_cast<std::int64_t>(m);
    heap_[i]->heap_index = static_cast<std::int64_t>(i);
    i = m;
  }
}

void Timers::erase_at(std::size_t i) {
  heap_[i]->heap_index = -1;
  TimerEntry* last = heap_.back();
  heap_.pop_back();
  if (i < heap_.size()) {
    heap_[i] = last;
    last->heap_index = static_cast<std::int64_t>(i);
    sift_down(i);
    sift_up(i);
  }
}

bool Timers::add_locked(TimerEntry* t) {
  t->heap_index = static_cast<std::int64_t>(heap_.size());
  heap_.push_back(t);
  sift_up(heap_.size() - 1);
  bool earliest = heap_[0] == t;
  publish();
  return earliest;
}

bool Timers::add(TimerEntry* t) {
  LockGuard g(lock_);
  return add_locked(t);
}

bool Timers::remove(TimerEntry* t) {
  LockGuard g(lock_);
  if (t->heap_index < 0) return false;
  erase_at(static_cast<std::size_t>(t->heap_index));
  publish();
  return true;
}

int Timers::run_due(std::int64_t now) {
  int fired = 0;
  for (;;) {
    TimerEntry* t = nullptr;
    {
      LockGuard g(lock_);
      if (heap_.empty() || heap_[0]->when > now) {
        publish();
        return fired;
      }
      t = heap_[0];
      erase_at(0);
      publish();
    }
    // Fired with no lock held: the callback may take channel and scheduler locks.
    t->fire(t, now);
    ++fired;
  }
}

void Timers::discard_all() {
  std::vector<TimerEntry*> pending;
  {
    LockGuard g(lock_);
    pending.swap(heap_);
    for (TimerEntry* t : pending) t->heap_index = -1;
    publish();
  }
  for (TimerEntry* t : pending)
    if (t->discard != nullptr) t->discard(t);
}

}  // namespace fsan::detail
