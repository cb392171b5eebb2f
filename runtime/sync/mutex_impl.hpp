// MutexImpl: fsan::Mutex's slow paths without detector events, shared by
// Mutex itself, RWMutex (its writer lock, which reports its own events) and
// Cond. The algorithm is Go's sync.Mutex (spinning, woken flag, starvation
// hand-off) with one change for C++ lifetimes: unlock decides whom to wake
// under the bucket lock while it still holds the mutex, and its last write
// to the object is the one that lets another agent in.
#pragma once

#include <fsan/mutex.hpp>

#include "sched/wait_reason.hpp"

namespace fsan::detail {

struct SyncWaiter;

struct MutexImpl {
  // lock: acquires m, parking with reason `why` while it is held.
  static void lock(Mutex& m, WaitReason why);
  // try_lock: acquires m if free and not in hand-off; never blocks.
  static bool try_lock(Mutex& m);
  // unlock: releases m (hands it off in starvation mode); report_panic(misuse)
  // if it was not locked.
  static void unlock(Mutex& m, const char* misuse);
  // forget_waiter: SyncWaiter::on_cancel of a queued locker (run end): drops
  // it from the waiter count. Bucket lock held.
  static void forget_waiter(SyncWaiter* w);
};

}  // namespace fsan::detail
