// fsan::run: runs a function as fiber 1 on a fresh M:N scheduler and returns
// when it returns (like Go's main). Returns 0, or Options::exitcode when a
// detector reported anything during the run. May be called many times, one
// after another, in one process; never from inside a fiber.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include <fsan/options.hpp>

namespace fsan {
namespace detail {
// run_main: main_fn(arg) runs as fiber 1; arg outlives the run (it is the
// caller's frame), so the callable is never copied.
int run_main(const Options& o, void (*main_fn)(void*), void* arg);
}  // namespace detail

template <class F>
int run(const Options& o, F&& main_fn) {
  using Fn = std::remove_reference_t<F>;
  return detail::run_main(o, [](void* p) { (*static_cast<Fn*>(p))(); }, const_cast<void*>(static_cast<const volatile void*>(std::addressof(main_fn))));
}

template <class F>
int run(F&& main_fn) {
  return run(Options{}, std::forward<F>(main_fn));
}

}  // namespace fsan
