// Foreign threads: OS threads the runtime does not own (a std::thread, a
// pool) that send, receive, select or lock on fibersan objects. They park
// their own OS thread (park.hpp). Global-deadlock accounting must know
// whether one of them could still act:
//  - A foreign thread *attaches* to the run in progress when it first
//    touches the runtime and counts as running until it parks inside the
//    runtime, exits, or the run ends. Invariant: a run's count of running
//    foreign threads = the agents attached to that run (agent epoch == run
//    epoch) that are not parked. Transitions: attach +1 (the agent), park -1
//    (the agent, before it releases the caller's locks), ready +1 (the
//    waker, before the wake), exit -1. Each applies only while the agent's
//    epoch is the run's, so an agent outliving its run never touches the
//    next run's count.
//  - Threads that are not attached are found by a census of the process's
//    threads (foreign_unknown_threads): one born during the run that has not
//    touched the runtime yet (a std::thread that works, then sends its
//    result), or one that used fibersan before (it has an agent) and is not
//    parked in it now, might still act. Only threads that existed when the
//    run began and never touched fibersan are none of its business.
// Lock order: the agent list lock is a leaf (taken after registry locks).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "sched/fiber.hpp"
#include "sched/wait_reason.hpp"

namespace fsan::detail {

struct FiberSnapshot;

// ForeignAgent: the record a foreign thread parks with (created on first
// use, freed when the thread exits).
struct ForeignAgent : Fiber {
  std::atomic<std::uint64_t> epoch{0};  // the run it is attached to; 0 = none
  int tid = 0;
  // The stack where it parked (captured only while attached to a run), under
  // a sequence count so a report never uses a half-written one.
  std::atomic<std::uint32_t> park_seq{0};
  std::uint8_t n_park = 0;
  std::uintptr_t park_pcs[kMaxProbeFrames];
  bool internal = false;  // a runtime thread (mark_internal_thread); guarded by the agent list lock
  ForeignAgent* list_prev = nullptr;
  ForeignAgent* list_next = nullptr;
};

// foreign_begin_run / foreign_end_run: the run with this epoch starts / ends
// (its count starts at 0; agents attached to it become stale at the end).
// foreign_begin_run also notes the threads alive now (the census baseline).
void foreign_begin_run(std::uint64_t epoch);
void foreign_end_run();

// foreign_running: attached foreign threads of run `epoch` not parked in the runtime.
int foreign_running(std::uint64_t epoch);

// foreign_unknown_threads: true if a thread that might still wake a fiber
// is alive: not one of `workers` (tids) nor a runtime thread, not parked in
// the runtime, and either born after the run began or known to use
// fibersan. Reads /proc/self/task: slow path only.
bool foreign_unknown_threads(std::uint64_t epoch, const std::vector<int>& workers);

// foreign_self: this thread's agent, attached to the run in progress.
ForeignAgent* foreign_self();

// foreign_self_if_exists: this thread's agent if it has one, without creating
// or attaching it (takes no lock: safe from the race detector's interceptors).
ForeignAgent* foreign_self_if_exists();

// foreign_park: park_current for a foreign thread (see park.hpp).
void foreign_park(ForeignAgent* a, WaitReason why, const void* obj, void (*after)(void*), void* arg);
// foreign_ready: wakes a parked foreign thread.
void foreign_ready(ForeignAgent* a);

// foreign_snapshot: appends every agent attached to run `epoch`.
void foreign_snapshot(std::uint64_t epoch, std::vector<FiberSnapshot>& out);

// current_tid: the calling thread's kernel id.
int current_tid();

// mark_internal_thread: the calling thread is the runtime's own (a worker,
// the SIGQUIT dumper): it never attaches to a run, and stops counting if a
// hook attached it before it got here (a thread-start interceptor may ask
// for the current agent before the worker loop starts).
void mark_internal_thread();
// unmark_internal_thread: the thread that called fsan::run (worker 0) is
// the program's again once the run is over.
void unmark_internal_thread();

}  // namespace fsan::detail
