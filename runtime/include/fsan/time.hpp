// Time for fibers: the clock, and after(). Timers and tickers live in
// timer.hpp. Sleeping never synchronizes (SEMANTICS.md: a race hidden by a
// sleep is still a race).
#pragma once

#include <chrono>

namespace fsan {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;
using TimePoint = Clock::time_point;

template <class T>
class Chan;

// after: a channel that receives the time once `d` has elapsed (Go's
// time.After). Capacity 1, so the timer never blocks.
// Example: fsan::select(fsan::recv_case(work), fsan::recv_case(fsan::after(1s)));
Chan<TimePoint> after(Duration d);

}  // namespace fsan
