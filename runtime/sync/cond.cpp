// fsan::Cond: Go's notifyList on the WaitTable. A waiter queues with its
// ticket under the bucket lock unless that ticket was served already;
// signal() advances notify_ticket_ under the same lock and wakes the waiter
// holding the served ticket if it has queued (else it will not park).
// Lifetime: signal/broadcast write the object only under the bucket lock and
// wake after releasing it, touching only the woken waiters.
// Lock order: wait() releases the mutex before taking the bucket lock, and
// relocks it after waking: the two are never held together.
#include <fsan/cond.hpp>

#include "hooks/sync_hooks.hpp"
#include "sched/park.hpp"
#include "sync/wait_table.hpp"

namespace fsan {

namespace {

// served: ticket t has been served when t < notify (mod 2^32).
bool served(std::uint32_t t, std::uint32_t notify) { return static_cast<std::int32_t>(t - notify) < 0; }

}  // namespace

// Not annotated REQUIRES(m_): callers hold the mutex through std adaptors the
// analysis cannot see, so the contract is checked at run time (unlock panics).
void Cond::wait() FSAN_NO_THREAD_SAFETY_ANALYSIS {
  std::uint32_t t = wait_ticket_.fetch_add(1, std::memory_order_acq_rel);
  m_.unlock();
  detail::WaitBucket& b = detail::wait_bucket(this);
  b.lock.lock();
  if (served(t, notify_ticket_.load(std::memory_order_relaxed))) {
    b.lock.unlock();
  } else {
    detail::SyncWaiter w;
    w.agent = detail::current_agent();
    w.key = this;
    w.ticket = t;
    b.push_back(&w);
    detail::park_in(b, &w, detail::WaitReason::sync_cond_wait, this);
  }
  FSAN_HOOK(on_acquire(detail::current_agent(), this, detail::SyncOp::cond));
  m_.lock();
}

void Cond::signal() {
  FSAN_HOOK(on_release(detail::current_agent(), this, detail::SyncOp::cond));
  // Fast path: no wait() has an unserved ticket.
  if (wait_ticket_.load(std::memory_order_acquire) == notify_ticket_.load(std::memory_order_acquire)) return;
  detail::WaitBucket& b = detail::wait_bucket(this);
  b.lock.lock();
  std::uint32_t t = notify_ticket_.load(std::memory_order_relaxed);
  if (t == wait_ticket_.load(std::memory_order_acquire)) {
    b.lock.unlock();
    return;
  }
  notify_ticket_.store(t + 1, std::memory_order_release);
  detail::SyncWaiter* w = b.pop_ticket(this, t);
  b.lock.unlock();
  if (w != nullptr) detail::ready(w->agent);
}

void Cond::broadcast() {
  FSAN_HOOK(on_release(detail::current_agent(), this, detail::SyncOp::cond));
  if (wait_ticket_.load(std::memory_order_acquire) == notify_ticket_.load(std::memory_order_acquire)) return;
  detail::WaitBucket& b = detail::wait_bucket(this);
  b.lock.lock();
  notify_ticket_.store(wait_ticket_.load(std::memory_order_acquire), std::memory_order_release);
  detail::SyncWaiter* chain = b.pop_all(this);
  b.lock.unlock();
  detail::wake_chain(chain);
}

}  // namespace fsan
