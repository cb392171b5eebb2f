// fsan::Timer and fsan::Ticker: Go's time.Timer and time.Ticker, delivering
// on a channel of capacity 1.
//
// Semantics are Go 1.23's: after stop() or reset() returns, no value from
// before the call is ever received (a value already buffered is drained, one
// being delivered right now is dropped). So Timer::stop() returns true
// exactly when the timer was armed and its value had not been received: it
// either had not fired, or fired but nobody took the value. (Unlike Go 1.23,
// c().cap() is 1, not 0.) A Ticker drops ticks a slow reader has no room
// for, and its next tick stays on the original period grid.
//
// Lifetime: destroying a Timer or Ticker stops it when nothing else can
// receive from its channel; if a copy of c() is still alive it keeps running,
// as in Go, where a timer lives as long as its channel is reachable (a Ticker
// left ticking that way until the run ends, its channel still held, is the
// timer_leak finding; once the last copy is gone too, it is garbage). A
// timer or ticker made outside fsan::run never fires (like after()); pending
// ones are dropped when the run ends.
// Example:
//   fsan::Ticker t(10ms);
//   for (int i = 0; i < 3; ++i) t.c().recv();
//   t.stop();
#pragma once

#include <fsan/chan.hpp>
#include <fsan/time.hpp>

namespace fsan {
namespace detail {
struct TimerState;  // runtime/time/timer.cpp
}  // namespace detail

// Timer: sends the time once, d from now (d <= 0: at once).
class Timer {
 public:
  explicit Timer(Duration d);
  ~Timer();
  Timer(Timer&& o) noexcept;
  Timer& operator=(Timer&& o) noexcept;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // c: the channel the time arrives on (the same channel on every call).
  Chan<TimePoint> c() const { return c_; }
  // stop: disarms; true if the timer was armed and its value not received.
  bool stop();
  // reset: stop(), then arm to fire d from now; returns what stop() did.
  bool reset(Duration d);

 private:
  Chan<TimePoint> c_;
  detail::TimerState* st_ = nullptr;
};

// Ticker: sends the time every d. d <= 0 is a panic, as in Go.
class Ticker {
 public:
  explicit Ticker(Duration d);
  ~Ticker();
  Ticker(Ticker&& o) noexcept;
  Ticker& operator=(Ticker&& o) noexcept;
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  Chan<TimePoint> c() const { return c_; }
  // stop: no more ticks (none from before the call is received either).
  void stop();
  // reset: stop(), then tick every d starting d from now. d <= 0 panics.
  void reset(Duration d);

 private:
  Chan<TimePoint> c_;
  detail::TimerState* st_ = nullptr;
};

}  // namespace fsan
