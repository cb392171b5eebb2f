// The wait-for graph detector. Findings, made while the program runs
// (SEMANTICS.md "Findings"):
//  - lock_order_inversion: lockdep-style order graph over blocking
//    acquisitions (wait_graph.cpp, reported at the acquisition).
//  - partial_deadlock: groups of blocked fibers no live agent can wake
//    (liveness.hpp), found by the monitor (monitor.cpp) from a snapshot of
//    the state the hooks keep here.
//  - global_deadlock gets the same graph (global_deadlock_graph).
// Off until an instrumented module calls __fsan_init(); enabled next to the
// race detector.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "waitgraph/liveness.hpp"

namespace fsan::detail::waitgraph {

// enable: installs the detector's SyncHooks, starts handle tracking and the
// monitor (idempotent; between runs).
void enable();

// take_snapshot: one consistent copy of every fiber's wait, every lock's
// holders and every channel handle (taken under the state lock).
void take_snapshot(WaitSnapshot* out);

// still_blocked: every (fiber id, block_seq) is still in that same wait.
bool still_blocked(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& waits);

// note_change: something happened that may have made a fiber stuck (a block,
// an exit); the monitor looks again at its next tick.
void note_change();

// start_monitor: the background thread that runs the analysis (monitor.cpp).
void start_monitor();

}  // namespace fsan::detail::waitgraph
