// InternalScope: marks runtime code the race detector must not see as user
// code. While t_depth > 0 on a thread, its pthread mutex/once interceptors
// and allocation hooks record nothing: a detector's or the report store's
// own std::mutex is not synchronization between the user's fibers (treating
// it as such hid races and made every fiber's clock grow with every other
// fiber's, through one shared lock).
// Thread-local; nesting counts.
#pragma once

namespace fsan::detail {

inline thread_local int t_depth = 0;

struct InternalScope {
  InternalScope() { ++t_depth; }
  ~InternalScope() { --t_depth; }
  InternalScope(const InternalScope&) = delete;
  InternalScope& operator=(const InternalScope&) = delete;
};

}  // namespace fsan::detail
