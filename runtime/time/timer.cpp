// Timer and Ticker: a reference-counted TimerState shared by the handle and
// by the arming (TimerArm) that sits in the run's timer heap. An arming is
// current while state->armed points at it; stop/reset retire it under the
// state lock, so a callback already popped from the heap (firing on another
// worker, with no lock held) finds it stale and only frees it. Each arming
// holds a reference to the state, which therefore outlives a handle
// destroyed while its timer fires.
// Invariants: armed != nullptr iff the timer is running; a current arming is
// in its scheduler's heap or being fired/discarded; spare is never in a heap.
// Lock order: ticker registry lock -> TimerState::lock -> Timers::lock_ ->
// channel locks (the last two are never held together here).
// Tickers are registered (with where they were made) for the leak check at
// run end (leak/ticker_leaks.hpp): one still armed then is a timer_leak.
#include <chrono>

#include <fsan/select.hpp>
#include <fsan/timer.hpp>

#include "base/lock.hpp"
#include "chan/chan_core.hpp"
#include "leak/ticker_leaks.hpp"
#include "report/report.hpp"
#include "sched/scheduler.hpp"
#include "time/timer_sched.hpp"

namespace fsan::detail {

struct TimerState;

struct TimerArm {
  TimerEntry entry;          // first: the heap callbacks cast the entry back
  TimerState* st = nullptr;  // a counted reference
  Scheduler* sched = nullptr;
};

struct TimerState {
  std::atomic<std::uint32_t> refs{1};
  Lock lock;
  Chan<TimePoint> ch;                               // capacity 1; set once at creation
  std::int64_t period FSAN_GUARDED_BY(lock) = 0;    // Ticker: > 0
  TimerArm* armed FSAN_GUARDED_BY(lock) = nullptr;  // the current arming
  TimerArm* spare FSAN_GUARDED_BY(lock) = nullptr;  // a retired arming kept for reuse

  // Tickers only: where it was made, and its links in the ticker registry
  // (guarded by the registry's lock; `tracked` is set once, before sharing).
  // handle_gone: its Ticker was destroyed (or moved over).
  bool tracked = false;
  std::atomic<bool> handle_gone{false};
  CreationSite site;
  TimerState* tk_prev = nullptr;
  TimerState* tk_next = nullptr;

  ~TimerState() FSAN_NO_THREAD_SAFETY_ANALYSIS { delete spare; }
};

namespace {

// Every live Ticker's state, for the leak check at run end.
struct TickerRegistry {
  Lock lock;
  TimerState* head FSAN_GUARDED_BY(lock) = nullptr;
};

TickerRegistry& tickers() {
  static auto* r = new TickerRegistry();  // never destroyed: tickers may outlive static destruction
  return *r;
}

void track_ticker(TimerState* st, std::uintptr_t fp) {
  capture_creation_site(st->site, fp);
  st->tracked = true;
  TickerRegistry& r = tickers();
  LockGuard g(r.lock);
  st->tk_next = r.head;
  if (r.head != nullptr) r.head->tk_prev = st;
  r.head = st;
}

void untrack_ticker(TimerState* st) {
  TickerRegistry& r = tickers();
  LockGuard g(r.lock);
  if (st->tk_prev != nullptr)
    st->tk_prev->tk_next = st->tk_next;
  else
    r.head = st->tk_next;
  if (st->tk_next != nullptr) st->tk_next->tk_prev = st->tk_prev;
}

void state_release(TimerState* st) {
  if (st == nullptr || st->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (st->tracked) untrack_ticker(st);
  delete st;
}

TimePoint time_at(std::int64_t ns) {
  return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(ns)));
}

void arm_fire(TimerEntry* e, std::int64_t now) {
  auto* a = reinterpret_cast<TimerArm*>(e);
  TimerState* st = a->st;
  bool rearmed = false;
  {
    LockGuard g(st->lock);
    if (st->armed == a) {
      TimePoint tp = time_at(now);
      // A full channel drops the value: a Ticker's reader is slow.
      chan_try_send(core_of(st->ch), &tp);
      if (st->period > 0) {
        // Next tick on the original grid, skipping the ones already missed.
        std::int64_t next = deadline_after(a->entry.when, st->period);
        if (next <= now && next != Timers::kNever)
          next = deadline_after(next, ((now - next) / st->period + 1) * st->period);
        a->entry.when = next;
        if (a->sched->timers().add(&a->entry)) a->sched->timer_added();
        rearmed = true;
      } else {
        st->armed = nullptr;
      }
    }
  }
  if (!rearmed) {
    delete a;
    state_release(st);
  }
}

void arm_discard(TimerEntry* e) {
  auto* a = reinterpret_cast<TimerArm*>(e);
  TimerState* st = a->st;
  {
    LockGuard g(st->lock);
    if (st->armed == a) {
      st->armed = nullptr;
      // timer_leak (SEMANTICS.md): a Ticker (period > 0) never stopped, still
      // ticking when the run ends. The leak tracker reports it from here.
    }
  }
  delete a;
  state_release(st);
}

// arm_locked: arms st to fire d ns from now, then every `period` ns (0: once).
void arm_locked(TimerState* st, std::int64_t d, std::int64_t period) FSAN_REQUIRES(st->lock) {
  st->period = period;
  TimerSched ts;
  Scheduler* s = ts.get();
  if (s == nullptr) return;  // outside a run nothing fires
  TimerArm* a = st->spare != nullptr ? std::exchange(st->spare, nullptr) : new TimerArm();
  a->entry = TimerEntry{};
  a->entry.when = deadline_after(now_ns(), d < 0 ? 0 : d);
  a->entry.fire = &arm_fire;
  a->entry.discard = &arm_discard;
  a->st = st;
  a->sched = s;
  st->refs.fetch_add(1, std::memory_order_relaxed);
  st->armed = a;
  if (s->timers().add(&a->entry)) s->timer_added();
}

// stop_locked: disarms st; with drain, also takes a value already buffered.
// Returns true if the timer was armed or a value was drained (Go 1.23's
// Stop result: the value had not been received).
bool stop_locked(TimerState* st, bool drain) FSAN_REQUIRES(st->lock) {
  bool active = false;
  if (TimerArm* a = std::exchange(st->armed, nullptr)) {
    active = true;
    // remove() fails while the arming is being fired or discarded: that
    // callback sees it is stale, delivers nothing and frees it.
    if (a->sched->timers().remove(&a->entry)) {
      st->refs.fetch_sub(1, std::memory_order_relaxed);  // the handle holds another
      delete st->spare;
      st->spare = a;
    }
  }
  if (drain && fsan::select(recv_case(st->ch), default_case()) == 0) active = true;
  return active;
}

TimerState* state_new(const Chan<TimePoint>& ch, std::int64_t d, std::int64_t period) {
  auto* st = new TimerState();
  st->ch = ch;
  LockGuard g(st->lock);
  arm_locked(st, d, period);
  return st;
}

// state_drop: the handle goes away. Stop the timer if nobody else can ever
// receive its value (the handle's and the state's channel copies are the
// only ones), else leave it running, as Go does while a channel is reachable.
void state_drop(TimerState* st, const Chan<TimePoint>& ch) {
  if (st == nullptr) return;
  st->handle_gone.store(true, std::memory_order_release);
  const auto* refs = reinterpret_cast<const ChanRefs*>(core_of(ch));
  if (refs->refs.load(std::memory_order_acquire) <= 2) {
    LockGuard g(st->lock);
    stop_locked(st, /*drain=*/false);
  }
  state_release(st);
}

std::int64_t to_ns(Duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

void check_tick_period(Duration d, const char* what) {
  if (d <= Duration::zero()) report_panic(what);
}

}  // namespace

std::vector<TickingTicker> ticking_tickers(const Scheduler* s) {
  std::vector<TickingTicker> out;
  TickerRegistry& r = tickers();
  LockGuard g(r.lock);
  for (TimerState* st = r.head; st != nullptr; st = st->tk_next) {
    LockGuard sg(st->lock);
    if (st->armed == nullptr || st->period <= 0 || st->armed->sched != s) continue;
    // Its Ticker is gone and so is every other copy of its channel (the
    // state's own is the last): nobody can stop it, but nobody can receive
    // from it either — garbage, as an unreachable ticker is in Go 1.23, not
    // a leak the program could still act on.
    if (st->handle_gone.load(std::memory_order_acquire) &&
        reinterpret_cast<const ChanRefs*>(core_of(st->ch))->refs.load(std::memory_order_acquire) <= 1)
      continue;
    out.push_back(TickingTicker{st->period, st->site});
  }
  return out;
}

}  // namespace fsan::detail

namespace fsan {

Timer::Timer(Duration d) : c_(make_chan<TimePoint>(1)), st_(detail::state_new(c_, detail::to_ns(d), 0)) {}

Timer::~Timer() { detail::state_drop(st_, c_); }

Timer::Timer(Timer&& o) noexcept : c_(std::move(o.c_)), st_(std::exchange(o.st_, nullptr)) {}

Timer& Timer::operator=(Timer&& o) noexcept {
  if (this != &o) {
    detail::state_drop(st_, c_);
    c_ = std::move(o.c_);
    st_ = std::exchange(o.st_, nullptr);
  }
  return *this;
}

bool Timer::stop() {
  if (st_ == nullptr) return false;
  detail::LockGuard g(st_->lock);
  return detail::stop_locked(st_, /*drain=*/true);
}

bool Timer::reset(Duration d) {
  if (st_ == nullptr) return false;
  detail::LockGuard g(st_->lock);
  bool active = detail::stop_locked(st_, /*drain=*/true);
  detail::arm_locked(st_, detail::to_ns(d), 0);
  return active;
}

Ticker::Ticker(Duration d) : c_(make_chan<TimePoint>(1)) {
  detail::check_tick_period(d, "non-positive interval for NewTicker");
  st_ = detail::state_new(c_, detail::to_ns(d), detail::to_ns(d));
  detail::track_ticker(st_, reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
}

Ticker::~Ticker() { detail::state_drop(st_, c_); }

Ticker::Ticker(Ticker&& o) noexcept : c_(std::move(o.c_)), st_(std::exchange(o.st_, nullptr)) {}

Ticker& Ticker::operator=(Ticker&& o) noexcept {
  if (this != &o) {
    detail::state_drop(st_, c_);
    c_ = std::move(o.c_);
    st_ = std::exchange(o.st_, nullptr);
  }
  return *this;
}

void Ticker::stop() {
  if (st_ == nullptr) return;
  detail::LockGuard g(st_->lock);
  detail::stop_locked(st_, /*drain=*/true);
}

void Ticker::reset(Duration d) {
  detail::check_tick_period(d, "non-positive interval for Ticker.Reset");
  if (st_ == nullptr) return;
  detail::LockGuard g(st_->lock);
  detail::stop_locked(st_, /*drain=*/true);
  detail::arm_locked(st_, detail::to_ns(d), detail::to_ns(d));
}

}  // namespace fsan
