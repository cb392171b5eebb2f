// Waiter: one agent waiting on one channel (Go's sudog). Lives on the
// waiting agent's stack for the duration of the wait. A plain send/recv
// parks with one Waiter; a select enqueues one per channel case.
// Guarded by the lock of `chan` while linked into its queue.
#pragma once

#include <cstdint>

namespace fsan::detail {

struct ChanCore;
struct Fiber;

struct Waiter {
  Fiber* agent = nullptr;
  ChanCore* chan = nullptr;
  void* elem = nullptr;  // send: source value; recv: raw destination storage
  Waiter* next = nullptr;
  Waiter* prev = nullptr;
  Waiter* next_of_agent = nullptr;  // the agent's list of waiters (abandon at run end)
  std::uint32_t case_index = 0;
  bool is_select = false;
  bool linked = false;
  bool success = false;  // recv: got a value (false: woken by close); send: delivered
};

// WaitQueue: FIFO of Waiters. Invariant (Go's): at least one of a channel's
// send and receive queues is empty, except transiently for select waiters
// already claimed by another case.
struct WaitQueue {
  Waiter* head = nullptr;
  Waiter* tail = nullptr;

  void push(Waiter* w) {
    w->next = nullptr;
    w->prev = tail;
    if (tail != nullptr)
      tail->next = w;
    else
      head = w;
    tail = w;
    w->linked = true;
  }
  void unlink(Waiter* w) {
    if (!w->linked) return;
    if (w->prev != nullptr)
      w->prev->next = w->next;
    else
      head = w->next;
    if (w->next != nullptr)
      w->next->prev = w->prev;
    else
      tail = w->prev;
    w->next = w->prev = nullptr;
    w->linked = false;
  }
  bool empty() const { return head == nullptr; }
};

// cancel_waiters: unlinks every Waiter of an abandoned agent (run end).
void cancel_waiters(Fiber* f);

}  // namespace fsan::detail
