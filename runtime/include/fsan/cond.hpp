// fsan::Cond: Go's sync.Cond — a condition variable bound to an fsan::Mutex.
// Tickets (Go's notifyList): wait() takes the next wait ticket before
// unlocking; signal() serves the oldest unserved ticket, broadcast() all of
// them. A wait whose ticket was served before it parked does not park, so a
// signal between the unlock and the park is never lost.
// Invariant: notify_ticket_ <= wait_ticket_ (mod 2^32); both only grow.
#pragma once

#include <atomic>
#include <cstdint>

#include <fsan/detail/config.hpp>
#include <fsan/mutex.hpp>

namespace fsan {

// Cond: wait for (or announce) a change of state guarded by a Mutex.
//  - wait() must be called with the mutex held: it unlocks it, parks until
//    signalled, relocks it, returns. Like Go (and unlike std::), a wake-up
//    is never spurious, but the condition may have changed again before the
//    mutex is relocked: wait in a loop.
//  - signal() wakes the longest-waiting waiter (FIFO), broadcast() all;
//    neither needs the mutex held, and both are no-ops with no waiter.
//  - Happens-before: signal()/broadcast() happen before the wait() they
//    wake returns.
//  - A woken waiter may destroy the Cond: signal/broadcast touch nothing of
//    it after waking one.
// Example:
//   fsan::Mutex mu;  fsan::Cond cv(mu);  bool ready = false;
//   fsan::go([&] { std::lock_guard<fsan::Mutex> g(mu); ready = true; cv.signal(); });
//   { std::lock_guard<fsan::Mutex> g(mu); while (!ready) cv.wait(); }
class Cond {
 public:
  explicit Cond(Mutex& m) noexcept : m_(m) {}
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  // wait: atomically (w.r.t. signal) unlocks the mutex and parks; relocks
  // before returning. Panics if the mutex is not locked.
  void wait();
  // signal: wakes one waiter, the one waiting longest.
  void signal();
  // broadcast: wakes every waiter.
  void broadcast();

  // mutex: the Mutex this Cond was made with (Go's L).
  Mutex& mutex() const { return m_; }

 private:
  Mutex& m_;
  std::atomic<std::uint32_t> wait_ticket_{0};    // next ticket a wait() takes
  std::atomic<std::uint32_t> notify_ticket_{0};  // next ticket to serve; written under the bucket lock
};

}  // namespace fsan
