// fsan::RWMutex: Go's sync.RWMutex on fsan::Mutex and two semaphores.
// One change for C++ lifetimes: unlock() releases the writer mutex before
// letting the queued readers go (Go does the reverse). Those readers are
// already admitted (counted in reader_count_), so a next writer still waits
// for them — but a reader that runs, unlocks and destroys the RWMutex can no
// longer race with the writer's own w_.unlock().
// Lock order: w_ (MutexImpl), then one semaphore bucket at a time.
#include <cstddef>

#include <fsan/rwmutex.hpp>

#include "hooks/sync_hooks.hpp"
#include "report/report.hpp"
#include "sched/park.hpp"
#include "sync/mutex_impl.hpp"
#include "sync/sema.hpp"

namespace fsan {

namespace {

constexpr const char* kUnlockOfUnlocked = "sync: Unlock of unlocked RWMutex";
constexpr const char* kRUnlockOfUnlocked = "sync: RUnlock of unlocked RWMutex";

}  // namespace

void RWMutex::lock() {
  // Writers queue on w_ with the RWMutex's own address, so dumps and the
  // wait-for graph see one object.
  static_assert(offsetof(RWMutex, w_) == 0);
  // pass 1 - exclude other writers.
  detail::MutexImpl::lock(w_, detail::WaitReason::sync_rwmutex_lock);
  // pass 2 - announce the writer (new readers now block), then wait for the
  // r readers already inside.
  std::int32_t r = reader_count_.fetch_sub(kMaxReaders, std::memory_order_acq_rel);
  if (r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0)
    detail::sem_acquire(&writer_sem_, detail::WaitReason::sync_rwmutex_lock, this);
  FSAN_HOOK(on_acquire(detail::current_agent(), this, detail::SyncOp::mutex));
}

bool RWMutex::try_lock() {
  if (!detail::MutexImpl::try_lock(w_)) return false;
  std::int32_t none = 0;
  if (!reader_count_.compare_exchange_strong(none, -kMaxReaders, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
    detail::MutexImpl::unlock(w_, kUnlockOfUnlocked);
    return false;
  }
  FSAN_HOOK(on_acquire(detail::current_agent(), this, detail::SyncOp::mutex_try));
  return true;
}

void RWMutex::unlock() {
  // Not write-locked at all: certain misuse, reported before any event.
  if (reader_count_.load(std::memory_order_relaxed) >= 0) detail::report_panic(kUnlockOfUnlocked);
  FSAN_HOOK(on_release(detail::current_agent(), this, detail::SyncOp::mutex));
  // Re-admit readers; r of them queued while the writer held the lock.
  std::int32_t r = reader_count_.fetch_add(kMaxReaders, std::memory_order_release) + kMaxReaders;
  if (r >= kMaxReaders) detail::report_panic(kUnlockOfUnlocked);  // two unlocks raced
  detail::MutexImpl::unlock(w_, kUnlockOfUnlocked);
  // The r admitted readers are still inside lock_shared() waiting for these
  // tokens, which keeps *this alive until the last one is handed over.
  detail::sem_release(&reader_sem_, static_cast<std::uint32_t>(r));
}

void RWMutex::wait_for_writer() { detail::sem_acquire(&reader_sem_, detail::WaitReason::sync_rwmutex_rlock, this); }

void RWMutex::unlock_shared_slow(std::int32_t r) {
  if (r + 1 == 0 || r + 1 == -kMaxReaders) detail::report_panic(kRUnlockOfUnlocked);
  // A writer is pending: the last reader it waits for lets it in. The writer
  // is inside lock() until then, so *this is alive.
  if (reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0) detail::sem_release(&writer_sem_, 1);
}

void RWMutex::acquired_shared(bool by_try) {
  FSAN_HOOK(on_acquire(detail::current_agent(), this,
                       by_try ? detail::SyncOp::rwmutex_read_try : detail::SyncOp::rwmutex_read));
}

void RWMutex::releasing_shared() {
  // No reader inside (with or without a pending writer): certain misuse,
  // reported before the release event.
  std::int32_t c = reader_count_.load(std::memory_order_relaxed);
  if (c == 0 || c == -kMaxReaders) detail::report_panic(kRUnlockOfUnlocked);
  FSAN_HOOK(on_release(detail::current_agent(), this, detail::SyncOp::rwmutex_read));
}

}  // namespace fsan
