// TimerSched: the run whose timer heap a new timer (Timer, Ticker, a context
// deadline) joins, held for as long as the object lives so the run cannot
// end in between (a foreign thread may arm a timer while the run ends). Like
// after(), a timer armed outside any run has no heap to join and never fires.
#pragma once

#include <optional>

#include "sched/scheduler.hpp"

namespace fsan::detail {

class TimerSched {
 public:
  TimerSched() {
    if (Fiber* f = current_fiber()) {
      s_ = f->sched;  // a fiber of the run: the run outlives this call
    } else {
      ref_.emplace();
      s_ = ref_->get();
    }
  }
  Scheduler* get() const { return s_; }

 private:
  std::optional<SchedRef> ref_;
  Scheduler* s_ = nullptr;
};

// deadline_after: now + d in steady-clock ns, saturated (a huge duration
// means "never", not an overflow into the past).
inline std::int64_t deadline_after(std::int64_t now, std::int64_t d) {
  if (d > 0 && now > Timers::kNever - d) return Timers::kNever;
  return now + d;
}

}  // namespace fsan::detail
