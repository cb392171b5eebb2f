// fsan::Group: Go's errgroup.Group. go() runs a task in a new fiber; a task
// fails by throwing; wait() waits for every task and rethrows the first
// failure. With a parent context, context() is cancelled on the first failure
// and when wait() returns. set_limit(n) bounds how many tasks run at once:
// go() then blocks (wait reason "errgroup.Group.Go (limit)") until one ends.
// A task's end happens before the wait() it unblocks returns, and before the
// go() that takes its slot returns.
//
// Tasks share a reference-counted core with the Group, never the Group
// object itself: destroying a Group without wait() is safe (its context is
// cancelled, running tasks are not waited for, their failures are dropped).
// Example:
//   fsan::Group g(ctx);
//   for (const auto& url : urls) g.go([&g, url] { fetch(g.context(), url); });
//   g.wait();  // rethrows the first fetch() failure
#pragma once

#include <exception>
#include <utility>

#include <fsan/context.hpp>
#include <fsan/fiber.hpp>

namespace fsan {
namespace detail {

struct GroupCore;  // runtime/context/group.cpp
GroupCore* group_new(CancelFunc cancel);
void group_release(GroupCore* g);
// group_enter: counts a new task, blocking while the limit is reached.
void group_enter(GroupCore* g);
bool group_try_enter(GroupCore* g);
// group_leave: a task ended (failure: what it threw, or null); drops the
// task's reference. The task's last touch of the group.
void group_leave(GroupCore* g, std::exception_ptr failure);
// group_wait: blocks until no task runs, cancels the context; returns the
// first failure.
std::exception_ptr group_wait(GroupCore* g);
void group_set_limit(GroupCore* g, int n);
void group_cancel(GroupCore* g);
void group_retain(GroupCore* g);

}  // namespace detail

class Group {
 public:
  // Group: no context (context() is background()).
  Group();
  // Group(parent): context() is a child of parent, cancelled on the first
  // failure or when wait() returns.
  explicit Group(const Context& parent);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  const Context& context() const { return ctx_; }

  // set_limit: at most n tasks run at once (n < 0: no limit; 0 blocks every
  // go(), as in Go). Changing it while tasks run is a panic, as in Go.
  void set_limit(int n) { detail::group_set_limit(core_, n); }

  // go: runs f() in a new fiber; blocks first while the limit is reached.
  // f is decay-copied into the fiber; an exception it throws fails the group.
  template <class F>
  void go(F&& f) {
    detail::group_enter(core_);
    start(std::forward<F>(f));
  }

  // try_go: like go(), but returns false instead of blocking at the limit.
  template <class F>
  bool try_go(F&& f) {
    if (!detail::group_try_enter(core_)) return false;
    start(std::forward<F>(f));
    return true;
  }

  // wait: blocks until every task has ended; rethrows the first failure.
  void wait() {
    if (std::exception_ptr e = detail::group_wait(core_)) std::rethrow_exception(e);
  }

 private:
  template <class F>
  void start(F&& f) {
    detail::group_retain(core_);  // the task's reference, dropped by group_leave
    try {
      fsan::go([core = core_, fn = std::forward<F>(f)]() mutable {
        std::exception_ptr failure;
        try {
          fn();
        } catch (...) {
          failure = std::current_exception();
        }
        detail::group_leave(core, std::move(failure));
      });
    } catch (...) {
      detail::group_leave(core_, nullptr);
      throw;
    }
  }

  Context ctx_;
  detail::GroupCore* core_;
};

}  // namespace fsan
