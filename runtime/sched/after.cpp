// fsan::after and fsan::dump_fibers: small public entry points built on the
// scheduler's timers and fiber registry.
#include <fsan/chan.hpp>
#include <fsan/fiber.hpp>
#include <fsan/time.hpp>

#include <algorithm>
#include <sstream>

#include "base/stack_trace.hpp"
#include "chan/chan_core.hpp"
#include "report/report.hpp"
#include "sched/park.hpp"
#include "sched/scheduler.hpp"

namespace fsan {
namespace {

// The timer owns a handle to the channel; the channel has room for the one
// value, so firing never blocks.
struct AfterTimer {
  detail::TimerEntry entry;
  Chan<TimePoint> ch;
};

}  // namespace

Chan<TimePoint> after(Duration d) {
  auto ch = make_chan<TimePoint>(1);
  detail::Scheduler* s = detail::g_sched.load(std::memory_order_acquire);
  if (s == nullptr) return ch;  // no run: nothing will ever fire (like a stopped clock)
  auto* t = new AfterTimer{{}, ch};
  t->entry.when = detail::now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  t->entry.fire = [](detail::TimerEntry* e, std::int64_t now) {
    auto* at = reinterpret_cast<AfterTimer*>(e);
    TimePoint tp{std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(now))};
    detail::chan_try_send(detail::core_of(at->ch), &tp);
    delete at;
  };
  t->entry.discard = [](detail::TimerEntry* e) { delete reinterpret_cast<AfterTimer*>(e); };
  if (s->timers().add(&t->entry)) s->timer_added();
  return ch;
}

std::string dump_fibers() {
  detail::Scheduler* s = detail::g_sched.load(std::memory_order_acquire);
  if (s == nullptr) return "";
  std::vector<detail::Fiber*> all;
  std::ostringstream out;
  detail::Fiber* self = detail::current_fiber();
  // Only the caller's own stack can be unwound while others may run; the
  // others show their header and creation site.
  std::vector<FiberInfo> infos;
  s->for_each_fiber([&](detail::Fiber* f) {
    std::uintptr_t pcs[detail::kMaxProbeFrames];
    int n = f == self ? detail::capture_stack(pcs, detail::kMaxProbeFrames, 0) : 0;
    infos.push_back(detail::describe_fiber(f, pcs, n));
    if (f == self) infos.back().state = "running";
  });
  std::sort(infos.begin(), infos.end(), [](const FiberInfo& a, const FiberInfo& b) { return a.id < b.id; });
  for (const FiberInfo& fi : infos) {
    out << "fiber " << fi.id;
    if (!fi.name.empty()) out << " \"" << fi.name << "\"";
    out << " [" << (fi.wait_reason.empty() ? fi.state : fi.wait_reason) << "]:\n";
    for (const Frame& fr : fi.stack) out << "  " << detail::format_frame(fr) << "\n";
    if (fi.parent_id != 0 || !fi.created_at.empty()) {
      out << "created by fiber " << fi.parent_id << " at:\n";
      for (const Frame& fr : fi.created_at) out << "  " << detail::format_frame(fr) << "\n";
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace fsan
