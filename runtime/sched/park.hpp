// Parking for any agent: a fiber parks by switching away; a foreign thread
// (one the runtime does not own, e.g. a std::thread) parks its OS thread on a
// futex. Channels and sync objects use only these two calls, so they work
// the same from fibers and from foreign threads.
#pragma once

#include "sched/fiber.hpp"
#include "sched/scheduler.hpp"

namespace fsan::detail {

// current_agent: the running fiber, or this foreign thread's own record.
Fiber* current_agent();

// park_current: parks the current agent until ready(); runs after(arg)
// (releasing the caller's locks) once the agent can be safely woken.
void park_current(WaitReason why, const void* obj, void (*after)(void*), void* arg) FSAN_NO_THREAD_SAFETY_ANALYSIS;

inline void unlock_lock(void* l) FSAN_NO_THREAD_SAFETY_ANALYSIS { static_cast<Lock*>(l)->unlock(); }

// park_current: the common case of one lock to release.
inline void park_current(WaitReason why, const void* obj, Lock* unlock) FSAN_NO_THREAD_SAFETY_ANALYSIS {
  park_current(why, obj, unlock != nullptr ? &unlock_lock : nullptr, unlock);
}

// ready: wakes a parked agent.
void ready(Fiber* f);

}  // namespace fsan::detail
