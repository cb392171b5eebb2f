// The wait-for graph detector: lock_order_inversion (lockdep-style order
// graph over blocking acquisitions) and partial_deadlock for cycles of mutex
// holders, both reported while the program runs (SEMANTICS.md "Findings").
// Off until an instrumented module calls __fsan_init(); enabled next to the
// race detector.
#pragma once

namespace fsan::detail::waitgraph {

// enable: installs the detector's SyncHooks (idempotent; between runs).
void enable();

}  // namespace fsan::detail::waitgraph
