// fsan::dump_fibers: a goroutine-style dump of every fiber of the run in
// progress, from a fiber or from any other thread (the SIGQUIT dumper).
// Parked fibers are probed for their stacks (scheduler.hpp); runnable and
// running ones show only where they were created; the caller shows its own
// stack. Foreign threads attached to the run follow the fibers.
#include <algorithm>

#include <fsan/fiber.hpp>

#include "report/report.hpp"
#include "sched/foreign.hpp"
#include "sched/scheduler.hpp"
#include "sched/timers.hpp"

namespace fsan::detail {

bool snapshot_run(std::vector<FiberSnapshot>& out) {
  LockGuard g(g_dump_mu);
  Scheduler* s = g_sched.load(std::memory_order_acquire);
  if (s == nullptr || !s->fibers_valid()) return false;
  Fiber* self = current_fiber();
  s->snapshot_fibers(self != nullptr && self->sched == s ? self : nullptr, out);
  foreign_snapshot(s->epoch(), out);
  return true;
}

void sort_snapshots(std::vector<FiberSnapshot>& snaps) {
  std::stable_sort(snaps.begin(), snaps.end(), [](const FiberSnapshot& a, const FiberSnapshot& b) {
    if ((a.id == 0) != (b.id == 0)) return a.id != 0;
    return a.id < b.id;
  });
}

}  // namespace fsan::detail

namespace fsan {

std::string dump_fibers() {
  std::vector<detail::FiberSnapshot> snaps;
  if (!detail::snapshot_run(snaps)) return "";
  const std::int64_t now = detail::now_ns();
  detail::sort_snapshots(snaps);
  return detail::format_fiber_dump(detail::describe_snapshots(snaps, now));
}

}  // namespace fsan
