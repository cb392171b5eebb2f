// fsan::Chan<T>: Go's channel as a cheap, shared, identity-compared handle.
// Every operation is const (a handle, like a Go channel value). A
// default-constructed Chan is nil: send/recv block forever, close panics.
#pragma once

#include <cstddef>
#include <iterator>
#include <new>
#include <optional>
#include <utility>

#include <fsan/detail/chan_core.hpp>

namespace fsan {

// Unit: the element of signal channels, Chan<Unit> (Go's chan struct{}).
struct Unit {
  friend bool operator==(Unit, Unit) { return true; }
};

template <class T>
class Chan;
template <class T>
Chan<T> make_chan(std::size_t capacity = 0);

namespace detail {
template <class T>
ChanCore* core_of(const Chan<T>& c);
}  // namespace detail

// Chan<T>: send blocks until a receiver takes the value (unbuffered) or there
// is room (buffered); recv blocks until a value or close; values and waiters
// are FIFO. Example:
//   auto ch = fsan::make_chan<int>();
//   fsan::go([ch] { ch.send(42); });
//   std::optional<int> v = ch.recv();
template <class T>
class Chan {
 public:
  using value_type = T;

  Chan() noexcept = default;
  Chan(const Chan& o) noexcept : core_(o.core_) {
    detail::chan_retain(core_);
    detail::chan_track(core_, this);
  }
  Chan(Chan&& o) noexcept : core_(std::exchange(o.core_, nullptr)) { detail::chan_track_move(core_, &o, this); }
  Chan& operator=(const Chan& o) noexcept {
    detail::chan_retain(o.core_);
    detail::chan_untrack(core_, this);
    detail::chan_release(core_);
    core_ = o.core_;
    detail::chan_track(core_, this);
    return *this;
  }
  Chan& operator=(Chan&& o) noexcept {
    if (this != &o) {
      detail::chan_untrack(core_, this);
      detail::chan_release(core_);
      core_ = std::exchange(o.core_, nullptr);
      detail::chan_track_move(core_, &o, this);
    }
    return *this;
  }
  ~Chan() {
    detail::chan_untrack(core_, this);
    detail::chan_release(core_);
  }

  // send: blocks until delivered; panics if closed; blocks forever if nil.
  void send(T v) const { detail::chan_send(core_, &v); }

  // recv: the next value, or std::nullopt once closed and drained.
  std::optional<T> recv() const {
    alignas(T) unsigned char raw[sizeof(T)];
    if (!detail::chan_recv(core_, raw)) return std::nullopt;
    T* p = std::launder(reinterpret_cast<T*>(raw));
    std::optional<T> out(std::move(*p));
    p->~T();
    return out;
  }

  // close: wakes every receiver; later sends panic. Panics if nil or closed.
  void close() const { detail::chan_close(core_); }

  std::size_t len() const { return detail::chan_len(core_); }
  std::size_t cap() const { return detail::chan_cap(core_); }
  bool is_nil() const { return core_ == nullptr; }

  friend bool operator==(const Chan& a, const Chan& b) { return a.core_ == b.core_; }
  friend bool operator!=(const Chan& a, const Chan& b) { return a.core_ != b.core_; }

  // Range-for receives until the channel is closed: for (T x : ch) {...}
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = T*;
    using reference = T&;
    iterator() = default;
    explicit iterator(const Chan* ch) : ch_(ch) { ++*this; }
    T& operator*() { return *cur_; }
    iterator& operator++() {
      cur_ = ch_->recv();
      if (!cur_) ch_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.ch_ == b.ch_; }
    friend bool operator!=(const iterator& a, const iterator& b) { return a.ch_ != b.ch_; }

   private:
    const Chan* ch_ = nullptr;
    std::optional<T> cur_;
  };
  iterator begin() const { return iterator(this); }
  iterator end() const { return iterator(); }

 private:
  explicit Chan(detail::ChanCore* c) noexcept : core_(c) { detail::chan_track(core_, this); }
  friend Chan make_chan<T>(std::size_t);
  friend detail::ChanCore* detail::core_of<T>(const Chan&);

  detail::ChanCore* core_ = nullptr;
};

// make_chan: a new channel with `capacity` buffered slots (0 = unbuffered).
template <class T>
Chan<T> make_chan(std::size_t capacity) {
  return Chan<T>(detail::chan_make(capacity, &detail::kElemOps<T>));
}

namespace detail {
template <class T>
ChanCore* core_of(const Chan<T>& c) {
  return c.core_;
}
}  // namespace detail

}  // namespace fsan
