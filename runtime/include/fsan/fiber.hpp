// Fibers: go(), go_named() and what a fiber can ask about itself.
// go() decay-copies f and args into the new fiber (like std::thread) and
// counts it in num_fibers() before returning. The closure is placed at the
// top of the fiber's own stack, so a spawn allocates nothing on the heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fsan/detail/config.hpp>
#include <fsan/time.hpp>

namespace fsan {
namespace detail {

struct Fiber;

// Closures up to this size live on the fiber's stack; larger ones on the heap.
inline constexpr std::size_t kMaxInlineClosure = 1024;

// spawn_begin: takes a stack and returns where the closure goes.
// spawn_commit: makes the fiber runnable; records the creation site.
// spawn_abort: gives the stack back when building the closure threw.
struct SpawnSlot {
  Fiber* fiber;
  void* storage;
};
SpawnSlot spawn_begin(std::size_t closure_size, std::size_t closure_align);
FSAN_NOINLINE void spawn_commit(SpawnSlot slot, void (*entry)(void*), std::string* name);
void spawn_abort(SpawnSlot slot);

template <class Closure>
void run_closure(void* p) {
  Closure* c = static_cast<Closure*>(p);
  struct Destroy {
    Closure* c;
    ~Destroy() { c->~Closure(); }
  } destroy{c};
  (*c)();
}

template <class Fn, class... Args>
struct Invoker {
  std::tuple<Fn, Args...> parts;
  void operator()() { std::apply([](auto& fn, auto&... a) { std::invoke(std::move(fn), std::move(a)...); }, parts); }
};

template <class Fn, class... Args>
FSAN_ALWAYS_INLINE void spawn(std::string* name, Fn&& fn, Args&&... args) {
  using Inline = Invoker<std::decay_t<Fn>, std::decay_t<Args>...>;
  if constexpr (sizeof(Inline) <= kMaxInlineClosure) {
    SpawnSlot slot = spawn_begin(sizeof(Inline), alignof(Inline));
    try {
      ::new (slot.storage) Inline{{std::forward<Fn>(fn), std::forward<Args>(args)...}};
    } catch (...) {
      spawn_abort(slot);
      throw;
    }
    spawn_commit(slot, &run_closure<Inline>, name);
  } else {
    auto boxed = std::make_unique<Inline>(Inline{{std::forward<Fn>(fn), std::forward<Args>(args)...}});
    auto call = [b = std::move(boxed)]() { (*b)(); };
    using Boxed = decltype(call);
    SpawnSlot slot = spawn_begin(sizeof(Boxed), alignof(Boxed));
    ::new (slot.storage) Boxed(std::move(call));
    spawn_commit(slot, &run_closure<Boxed>, name);
  }
}

}  // namespace detail

// go: starts f(args...) in a new fiber, like Go's `go f(args...)`.
// Example: fsan::go([ch] { ch.send(1); });
template <class F, class... Args>
void go(F&& f, Args&&... args) {
  detail::spawn(nullptr, std::forward<F>(f), std::forward<Args>(args)...);
}

// go_named: like go(); the name shows in reports and dumps.
template <class F, class... Args>
void go_named(std::string name, F&& f, Args&&... args) {
  detail::spawn(&name, std::forward<F>(f), std::forward<Args>(args)...);
}

// yield: lets other runnable fibers run first (runtime.Gosched).
void yield();

// sleep_for / sleep_until: park the fiber; no worker thread is blocked.
void sleep_for(Duration d);
void sleep_until(TimePoint t);

// fiber_id: the running fiber's id (main fiber is 1); 0 outside any fiber.
std::uint64_t fiber_id();

// num_fibers: fibers alive in the current run (runtime.NumGoroutine).
std::size_t num_fibers();

// dump_fibers: a goroutine-style dump of every live fiber of the run in
// progress ("" when none), callable from a fiber or any thread; SIGQUIT
// prints the same to stderr during a run. Per fiber, in id order:
//   fiber 9 "worker" [chan send, 3.2s]:
//     #0 produce() worker.cpp:12:5 (app+0x1234)
//   created by fiber 1 at:
//     #0 main::$_0::operator()() main.cpp:20:9 (app+0x5678)
// The wait is shown from 1ms on ("250ms", "3.2s", then Go's "3 minutes").
// Parked fibers show their stack (captured live), the caller its own;
// runnable and running ones only where they were created. Foreign threads
// attached to the run follow, as `foreign thread <tid> [chan receive]:`.
std::string dump_fibers();

}  // namespace fsan
