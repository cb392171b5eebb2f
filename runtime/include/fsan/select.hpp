// fsan::select: Go's select statement. Every channel operand is evaluated once
// (when the case is built); if several cases can proceed one is chosen
// uniformly at random; else default_case runs if present; else the fiber
// parks until one can proceed. select() with no cases blocks forever.
// Example:
//   fsan::select(fsan::recv_case(jobs, [](std::optional<Job> j) { ... }),
//                fsan::send_case(out, 7, [] { ... }),
//                fsan::recv_case(fsan::after(1s)));
#pragma once

#include <cstddef>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include <fsan/chan.hpp>

namespace fsan {
namespace detail {

struct NoHandler {};

template <class T, class H>
class RecvCase {
 public:
  RecvCase(const Chan<T>& ch, H h) : core_(core_of(ch)), handler_(std::move(h)) {}
  RecvCase(RecvCase&&) = default;
  void prepare(SelectCase& c) { c = SelectCase{core_, raw_, false}; }
  void fire(bool ok) {
    std::optional<T> v;
    if (ok) {
      T* p = std::launder(reinterpret_cast<T*>(raw_));
      v.emplace(std::move(*p));
      p->~T();
    }
    if constexpr (std::is_invocable_v<H&, std::optional<T>>) {
      handler_(std::move(v));
    } else if constexpr (std::is_invocable_v<H&>) {
      handler_();
    }
  }

 private:
  ChanCore* core_;  // the Chan outlives the select's full-expression
  H handler_;
  alignas(T) unsigned char raw_[sizeof(T)];
};

template <class T, class H>
class SendCase {
 public:
  SendCase(const Chan<T>& ch, T v, H h) : core_(core_of(ch)), value_(std::move(v)), handler_(std::move(h)) {}
  SendCase(SendCase&&) = default;
  void prepare(SelectCase& c) { c = SelectCase{core_, &value_, true}; }
  void fire(bool) {
    if constexpr (std::is_invocable_v<H&>) handler_();
  }

 private:
  ChanCore* core_;
  T value_;
  H handler_;
};

template <class H>
class DefaultCase {
 public:
  explicit DefaultCase(H h) : handler_(std::move(h)) {}
  void fire(bool) {
    if constexpr (std::is_invocable_v<H&>) handler_();
  }

 private:
  H handler_;
};

template <class C>
struct IsDefaultCase : std::false_type {};
template <class H>
struct IsDefaultCase<DefaultCase<H>> : std::true_type {};

}  // namespace detail

// recv_case: `case v, ok := <-ch`; the optional handler gets std::optional<T>
// (nullopt when woken by close) or no argument.
template <class T>
detail::RecvCase<T, detail::NoHandler> recv_case(const Chan<T>& ch) {
  return {ch, detail::NoHandler{}};
}
template <class T, class H>
detail::RecvCase<T, std::decay_t<H>> recv_case(const Chan<T>& ch, H&& h) {
  return {ch, std::forward<H>(h)};
}

// send_case: `case ch <- value`; the value is moved only if this case runs.
template <class T, class V>
detail::SendCase<T, detail::NoHandler> send_case(const Chan<T>& ch, V&& value) {
  return {ch, T(std::forward<V>(value)), detail::NoHandler{}};
}
template <class T, class V, class H>
detail::SendCase<T, std::decay_t<H>> send_case(const Chan<T>& ch, V&& value, H&& h) {
  return {ch, T(std::forward<V>(value)), std::forward<H>(h)};
}

// default_case: makes the select non-blocking.
inline detail::DefaultCase<detail::NoHandler> default_case() {
  return detail::DefaultCase<detail::NoHandler>(detail::NoHandler{});
}
template <class H>
detail::DefaultCase<std::decay_t<H>> default_case(H&& h) {
  return detail::DefaultCase<std::decay_t<H>>(std::forward<H>(h));
}

// select: returns the argument index of the case that ran.
template <class... Cases>
std::size_t select(Cases&&... cases) {
  constexpr std::size_t n = sizeof...(Cases);
  constexpr std::size_t ndefault = (std::size_t{detail::IsDefaultCase<std::decay_t<Cases>>::value} + ... + 0);
  static_assert(ndefault <= 1, "a select has at most one default_case");
  constexpr std::size_t nchan = n - ndefault;
  if constexpr (nchan == 0) {
    // select() blocks forever; select(default_case(...)) runs the default.
    detail::select_impl(nullptr, 0, ndefault == 1);
    (cases.fire(false), ...);
    return 0;
  } else {
    detail::SelectCase descs[nchan];
    std::size_t arg_of[nchan];
    std::size_t default_arg = n;
    std::size_t k = 0, i = 0;
    (
        [&](auto& c) {
          if constexpr (detail::IsDefaultCase<std::decay_t<decltype(c)>>::value) {
            default_arg = i;
          } else {
            c.prepare(descs[k]);
            arg_of[k++] = i;
          }
          ++i;
        }(cases),
        ...);
    detail::SelectResult r = detail::select_impl(descs, nchan, ndefault == 1);
    std::size_t chosen = r.index == nchan ? default_arg : arg_of[r.index];
    i = 0;
    (
        [&](auto& c) {
          if (i++ == chosen) c.fire(r.recv_ok);
        }(cases),
        ...);
    return chosen;
  }
}

}  // namespace fsan
