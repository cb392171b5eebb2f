// HandleRegistry: where every Chan handle lives while the wait-for graph is
// on (address of the handle -> its channel). The owner of a handle is decided
// at analysis time from its address: inside a fiber's stack (which holds its
// go() closure too) -> that fiber; anywhere else (heap, globals, a thread's
// stack) -> everyone.
// Invariant: for every channel, tracked handles <= its refcount (a handle is
// tracked after its retain and untracked before its release; a move re-keys
// under one lock hold). A channel with more refs than tracked handles has a
// holder we cannot see (a copy made before tracking began, a runtime-internal
// reference): it counts as reachable by everyone.
// Lock order: the registry lock is a leaf; snapshot() is called with the
// wait-graph state lock held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fsan::detail {
struct ChanCore;
extern bool g_chan_handle_tracking;
}

namespace fsan::detail::waitgraph {

struct HandleView {
  const ChanCore* chan;
  std::uintptr_t at;
};

struct HandleSnapshot {
  std::vector<HandleView> handles;  // sorted by chan
  // Channels with a handle the registry has not seen (refs > tracked).
  std::vector<const ChanCore*> untracked;  // sorted
};

// start_handle_tracking: from now on every Chan copy, move and destruction
// is recorded (idempotent).
void start_handle_tracking();

// snapshot_handles: every tracked handle, grouped by channel.
void snapshot_handles(HandleSnapshot* out);

// note_published: a value of `size` bytes at `elem` is being sent on a
// channel. Any word in it that points into a fiber's stack marks that stack
// as escaped: a fiber outside the owner's family may now hold a reference to
// what lives there (a WaitGroup, a Cond, a Chan handle), so those objects
// count as reachable by everyone (wait_graph.cpp).
void note_published(const void* elem, std::size_t size);
inline void note_published_if_tracking(const void* elem, std::size_t size) {
  if (__builtin_expect(g_chan_handle_tracking, 0) && size >= sizeof(void*)) note_published(elem, size);
}

// handles_changed: true (once) if a handle was dropped since the last call —
// a fiber may have lost its last way to reach a channel someone waits on.
bool handles_changed();

}  // namespace fsan::detail::waitgraph
