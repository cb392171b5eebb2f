// fsan::Context: Go's context.Context for cancellation and deadlines (no
// values). A Context is a cheap, shared, identity-compared handle to a node in
// a tree; cancelling a node cancels its whole subtree, never its ancestors or
// siblings. with_cancel/with_timeout/with_deadline return the child and the
// CancelFunc that cancels it. Cancel happens before a receive on done() that
// observes it, and before err() returns anything but none (SEMANTICS.md).
//
// Outside fsan::run there is no timer heap, so a deadline cannot fire by
// itself: such a context checks its deadline lazily, in err() and done(), and
// arms a real timer the first time done() is called from a fiber of a run.
// Example:
//   auto [ctx, cancel] = fsan::with_timeout(fsan::background(), 50ms);
//   fsan::select(fsan::recv_case(results), fsan::recv_case(ctx.done()));
//   cancel();
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include <fsan/chan.hpp>
#include <fsan/time.hpp>

namespace fsan {

// CtxError: why a context ended (Go's context.Canceled / DeadlineExceeded).
enum class CtxError : std::uint8_t { none, canceled, deadline_exceeded };

// to_string: Go's error text ("context canceled", "context deadline
// exceeded"); "" for none.
const char* to_string(CtxError e);

namespace detail {
struct CtxNode;       // runtime/context/context_node.hpp
struct CancelHandle;  // shared by the copies of one CancelFunc
void ctx_retain(CtxNode* n);
void ctx_release(CtxNode* n);
void cancel_handle_retain(CancelHandle* h);
void cancel_handle_release(CancelHandle* h);
}  // namespace detail

class Context;
namespace detail {
// node_of: the node behind a handle (nullptr for background()); for the
// runtime's own code and internal tests.
CtxNode* node_of(const Context& c);
}  // namespace detail

class CancelFunc;
std::pair<Context, CancelFunc> with_cancel(const Context& parent);
std::pair<Context, CancelFunc> with_deadline(const Context& parent, TimePoint t);
std::pair<Context, CancelFunc> with_timeout(const Context& parent, Duration d);

// Context: a handle; copies share the node. A default-constructed Context is
// background(). Every member is const and safe from any fiber or thread.
class Context {
 public:
  Context() noexcept = default;
  Context(const Context& o) noexcept : node_(o.node_) { detail::ctx_retain(node_); }
  Context(Context&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  Context& operator=(const Context& o) noexcept {
    detail::ctx_retain(o.node_);
    detail::ctx_release(node_);
    node_ = o.node_;
    return *this;
  }
  Context& operator=(Context&& o) noexcept {
    if (this != &o) {
      detail::ctx_release(node_);
      node_ = std::exchange(o.node_, nullptr);
    }
    return *this;
  }
  ~Context() { detail::ctx_release(node_); }

  // done: closed when the context ends; the same channel on every call; nil
  // (blocks forever) for background().
  Chan<Unit> done() const;
  // err: none while live, then why it ended; never changes once set.
  CtxError err() const;
  // deadline: when it ends by itself (the earliest of its ancestors' and its
  // own), or nullopt.
  std::optional<TimePoint> deadline() const;

  friend bool operator==(const Context& a, const Context& b) { return a.node_ == b.node_; }
  friend bool operator!=(const Context& a, const Context& b) { return a.node_ != b.node_; }

 private:
  explicit Context(detail::CtxNode* n) noexcept : node_(n) {}
  friend std::pair<Context, CancelFunc> with_cancel(const Context&);
  friend std::pair<Context, CancelFunc> with_deadline(const Context&, TimePoint);
  friend std::pair<Context, CancelFunc> with_timeout(const Context&, Duration);
  friend detail::CtxNode* detail::node_of(const Context&);

  detail::CtxNode* node_ = nullptr;  // nullptr: background
};

namespace detail {
inline CtxNode* node_of(const Context& c) { return c.node_; }
}  // namespace detail

// background: the root; never done, no deadline (Go's context.Background).
inline Context background() { return Context(); }

// CancelFunc: cancels its context (err() == canceled) and its subtree, stops
// its deadline timer, and unlinks it from its parent. Copyable (the copies
// share one cancel handle), idempotent, callable through a const&. A
// default-constructed CancelFunc does nothing.
class CancelFunc {
 public:
  CancelFunc() noexcept = default;
  CancelFunc(const CancelFunc& o) noexcept : h_(o.h_) { detail::cancel_handle_retain(h_); }
  CancelFunc(CancelFunc&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  CancelFunc& operator=(const CancelFunc& o) noexcept {
    detail::cancel_handle_retain(o.h_);
    detail::cancel_handle_release(h_);
    h_ = o.h_;
    return *this;
  }
  CancelFunc& operator=(CancelFunc&& o) noexcept {
    if (this != &o) {
      detail::cancel_handle_release(h_);
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ~CancelFunc() { detail::cancel_handle_release(h_); }

  void operator()() const;

 private:
  explicit CancelFunc(detail::CancelHandle* h) noexcept : h_(h) {}
  friend std::pair<Context, CancelFunc> with_cancel(const Context&);
  friend std::pair<Context, CancelFunc> with_deadline(const Context&, TimePoint);
  friend std::pair<Context, CancelFunc> with_timeout(const Context&, Duration);

  detail::CancelHandle* h_ = nullptr;
};

// with_cancel: a child that ends when cancel() is called or the parent ends.
// If the parent already ended, so has the child (with the parent's err()).
std::pair<Context, CancelFunc> with_cancel(const Context& parent);

// with_deadline: also ends with deadline_exceeded at t. The child's deadline
// is min(parent's, t); a deadline already past gives a child that has ended.
std::pair<Context, CancelFunc> with_deadline(const Context& parent, TimePoint t);

// with_timeout: with_deadline(parent, now + d).
std::pair<Context, CancelFunc> with_timeout(const Context& parent, Duration d);

}  // namespace fsan
