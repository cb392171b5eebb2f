// Fiber: the runtime's record of one fiber (or of a foreign thread blocked in
// the runtime). A fiber's record lives at the top of its own stack, so spawn
// allocates nothing else. Invariants:
//  - `sp` is valid only while state != running (the context is switched out).
//  - A fiber is in at most one run queue, and only while state == runnable.
//  - state goes waiting -> runnable only through Scheduler::ready(), which
//    only a waker that dequeued the fiber from its wait queue may call.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "sched/wait_reason.hpp"

namespace fsan::detail {

class Scheduler;
struct Waiter;

enum class FiberState : std::uint32_t {
  runnable,
  running,
  waiting,  // parked; resumed only by ready()
  probing,  // parked, context borrowed by a stack capture
  dead,
};

inline const char* to_string(FiberState s) {
  switch (s) {
    case FiberState::runnable:
      return "runnable";
    case FiberState::running:
      return "running";
    case FiberState::waiting:
    case FiberState::probing:
      return "waiting";
    case FiberState::dead:
      return "dead";
  }
  return "?";
}

inline constexpr int kMaxCreationFrames = 32;
inline constexpr int kMaxProbeFrames = 64;
inline constexpr int kMaxThrowFrames = 32;

struct Fiber {
  // Hot: touched on every switch.
  void* sp = nullptr;
  std::atomic<FiberState> state{FiberState::runnable};
  Scheduler* sched = nullptr;
  Fiber* next_in_queue = nullptr;  // global run queue link

  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;

  // Why and since when it is parked (valid while waiting).
  WaitReason wait_reason = WaitReason::none;
  const void* wait_object = nullptr;
  std::int64_t wait_since_ns = 0;

  // Select wake-up: the first waker to CAS select_done 0->1 wins; the winning
  // Waiter is recorded so the selecting fiber knows which case ran.
  std::atomic<std::uint32_t> select_done{0};
  Waiter* select_winner = nullptr;
  // Every channel Waiter this fiber has enqueued (for abandoning it at run end).
  Waiter* waiters = nullptr;
  // Parked on anything else (mutex, wait group, ...): how to take it off that
  // object's queue if the run ends with the fiber still parked. Set by the
  // object before parking (under its lock), cleared when woken.
  void (*cancel_wait)(Fiber* f, void* arg) = nullptr;
  void* cancel_arg = nullptr;

  // Entry closure (placed below this record on the stack).
  void (*entry)(void*) = nullptr;
  void* closure = nullptr;

  // Stack: [stack_lo, stack_hi) is usable; the guard page sits below stack_lo.
  char* stack_lo = nullptr;
  char* stack_hi = nullptr;
  void* stack_block = nullptr;  // what StackPool hands back

  // Live-fiber registry (doubly linked, owned by one worker's registry).
  Fiber* reg_prev = nullptr;
  Fiber* reg_next = nullptr;
  int reg_owner = -1;

  // Creation stack (cheap frame-pointer walk at go()).
  std::uintptr_t created_pcs[kMaxCreationFrames];
  std::uint8_t n_created = 0;

  // Stack capture of a parked fiber (see Scheduler::capture_parked_stack).
  bool probe_request = false;
  void* probe_return_sp = nullptr;
  std::uint8_t n_probe = 0;
  std::uintptr_t* probe_pcs = nullptr;

  // Race detector state (race/detector.cpp); nullptr when it is off.
  void* race = nullptr;

  // Where the exception in flight was last thrown on this fiber (recorded by
  // the runtime's __cxa_throw, report/throw_site.cpp): the thrown object and
  // the stack at the throw.
  const void* throw_obj = nullptr;
  std::uint8_t n_throw = 0;
  std::uintptr_t throw_pcs[kMaxThrowFrames];

  // Foreign threads (not fibers of any run) park on this futex word; their
  // record is a ForeignAgent (sched/foreign.hpp).
  bool foreign = false;
  std::atomic<std::uint32_t> thread_wake{0};

  std::string name;
};

}  // namespace fsan::detail
