// The leak check at run end: when main_fn returns normally (like Go's main),
// the main fiber waits for the other fibers to exit — parked, and woken as
// soon as they all have (Scheduler::wait_live_at_most), not polling — until
// a whole leak_grace_ms passes with no fewer fibers alive (at most 10
// periods); then it reports the fibers still alive (fiber_leak) and the
// Tickers still ticking (timer_leak). The run then ends and abandons them.
// Fibers already reported as deadlocked are not waited for, nor reported
// again. Skipped when the run is already ending (a panic, halt_on_error) or
// detect_leaks=0.
#pragma once

namespace fsan::detail {

class Scheduler;

// check_leaks_at_main_return: runs on the main fiber of s, after main_fn.
void check_leaks_at_main_return(Scheduler* s);

}  // namespace fsan::detail
