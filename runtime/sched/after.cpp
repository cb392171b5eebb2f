// fsan::after: a small public entry point built on the scheduler's timers
// (fsan::dump_fibers is in dump.cpp).
#include <fsan/chan.hpp>
#include <fsan/fiber.hpp>
#include <fsan/time.hpp>

#include "chan/chan_core.hpp"
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
  detail::SchedRef ref;  // a foreign thread may call this while the run ends
  detail::Scheduler* s = ref.get();
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

}  // namespace fsan
