// Per-agent race detector state and the heap block registry. Private to
// runtime/race/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <fsan/finding.hpp>

#include "base/internal_scope.hpp"
#include "race/held_set.hpp"
#include "race/stack_trie.hpp"
#include "report/report.hpp"
#include "race/vector_clock.hpp"
#include "sched/fiber.hpp"

namespace fsan::detail::race {

// HeldMemo: one remembered held-set transition: from set `key >> 2`, adding
// (key & 1) or removing the mutex (addr, write = key & 2, node) gave `to`.
inline constexpr int kHeldMemo = 4;
inline constexpr HeldSetId kNoHeldSet = ~HeldSetId{0};
struct HeldMemo {
  std::uint64_t key = 0;
  std::uintptr_t addr = 0;
  NodeId node = 0;
  HeldSetId to = kNoHeldSet;
};

// AgentState: one per fiber (created at spawn) or foreign thread (lazily).
// Touched only by its agent, except at spawn (the parent seeds the clock).
struct AgentState {
  Fiber* fiber = nullptr;
  Sid sid = 0;
  Epoch epoch = 0;  // == clock.get(sid)
  VClock clock;
  NodeId node = 0;  // current call path in the stack trie
  NodeCache cache;
  VClock fence_release;  // clock at the last release fence
  bool has_fence_release = false;
  VClock fence_acquire;  // what relaxed loads read since the last acquire fence
  int ignore = 0;
  std::vector<HeldMutex> held;  // mutexes held now, in acquisition order
  HeldSetId held_id = 0;        // == HeldSets::intern(held)
  HeldMemo held_memo[kHeldMemo];  // recent held-set transitions (detector.cpp set_held)
  unsigned held_memo_next = 0;
};

struct HeapBlock {
  std::uintptr_t start = 0;
  std::size_t size = 0;
  std::uint64_t fiber_id = 0;
  NodeId node = 0;
};

void record_heap_block(std::uintptr_t start, std::size_t size, std::uint64_t fiber_id, NodeId node);
// forget_heap_block: returns the forgotten block's size (0 if unknown).
std::size_t forget_heap_block(std::uintptr_t start);
bool find_heap_block(std::uintptr_t addr, HeapBlock* out);

// Depth of detector code on this thread: the interceptors (malloc, pthread
// mutexes) ignore what the detector itself does while it is > 0.
// (t_depth itself lives in base/internal_scope.hpp: other runtime code
// that takes std::mutexes raises it too.)
struct Inside {
  Inside() { ++t_depth; }
  ~Inside() { --t_depth; }
  Inside(const Inside&) = delete;
  Inside& operator=(const Inside&) = delete;
};

// set_in_interceptor: an interceptor is calling the detector (see current_state).
void set_in_interceptor(bool on);

using ::fsan::detail::filter_user_frames;  // report/report.hpp

}  // namespace fsan::detail::race
