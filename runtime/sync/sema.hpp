// Sema: a counting semaphore on a 32-bit word inside a sync object (Go's
// runtime_Semacquire/Semrelease), queued in the WaitTable under the word's
// address. RWMutex uses two: readers wait for a writer, a writer for readers.
// Invariant: the word is only incremented under its bucket lock, and only
// when no waiter is queued on it (a queued waiter gets the token directly).
#pragma once

#include <atomic>
#include <cstdint>

#include "sched/wait_reason.hpp"

namespace fsan::detail {

// sem_acquire: waits until *word > 0 and takes one token; parks with reason
// `why` on `obj` (the owning object) while there is none.
void sem_acquire(std::atomic<std::uint32_t>* word, WaitReason why, const void* obj);

// sem_release: adds n tokens: hands them to up to n queued waiters (FIFO),
// banks the rest in *word. Wakes only after releasing the bucket lock, and
// touches neither *word nor its object once the first waiter may run — so a
// waiter may destroy the object as soon as it returns.
void sem_release(std::atomic<std::uint32_t>* word, std::uint32_t n);

}  // namespace fsan::detail
