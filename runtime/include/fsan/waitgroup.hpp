// fsan::WaitGroup: Go's sync.WaitGroup — wait for a collection of fibers to
// finish. One 64-bit atomic word: the counter in the high half; in the low
// half the number of parked waiters, with kWaking set while the waiters the
// counter's last drop to zero woke have not all returned from wait().
// Invariants: waiters register only while the counter is > 0; when it drops
// to 0 all registered waiters are woken at once; kWaking implies counter 0.
#pragma once

#include <atomic>
#include <cstdint>

#include <fsan/detail/config.hpp>

namespace fsan {

// WaitGroup: add(n) before starting n fibers, done() in each, wait() for all.
//  - A negative counter panics ("sync: negative WaitGroup counter").
//  - add() with a positive delta while the counter is zero and a wait() is
//    in progress is misuse and panics ("sync: WaitGroup misuse: Add called
//    concurrently with Wait").
//  - Reuse (a positive add()) before every wait() woken by the previous drop
//    to zero has returned panics ("sync: WaitGroup is reused before previous
//    Wait has returned"). Go finds this only if the woken waiter happens to
//    look; fibersan checks at the add, so it never depends on timing.
//  - Happens-before: each done() (add with a negative delta) happens before
//    the wait() it unblocks returns.
//  - The waiter may destroy the WaitGroup as soon as wait() returns: done()
//    never touches the object after it could let a waiter return.
// Example:
//   fsan::WaitGroup wg;
//   for (int i = 0; i < 10; ++i) { wg.add(1); fsan::go([&wg] { work(); wg.done(); }); }
//   wg.wait();
class WaitGroup {
 public:
  constexpr WaitGroup() noexcept = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // add: adds delta (may be negative) to the counter; at zero, wakes every
  // waiter. Panics on a negative counter and on the misuses above.
  void add(std::int64_t delta);
  // done: add(-1).
  void done() { add(-1); }
  // wait: blocks (parks) until the counter is zero.
  void wait();

 private:
  std::atomic<std::uint64_t> state_{0};
};

}  // namespace fsan
