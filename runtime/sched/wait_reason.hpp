// WaitReason: why a fiber is parked, with Go's own strings (runtime/runtime2.go
// waitReasonStrings) so dumps and reports read like Go's.
#pragma once

#include <cstdint>

namespace fsan::detail {

#define FSAN_WAIT_REASONS(X)                        \
  X(none, "")                                       \
  X(chan_send, "chan send")                         \
  X(chan_receive, "chan receive")                   \
  X(chan_send_nil, "chan send (nil chan)")          \
  X(chan_receive_nil, "chan receive (nil chan)")    \
  X(select, "select")                               \
  X(select_no_cases, "select (no cases)")           \
  X(sleep, "sleep")                                 \
  X(sync_mutex_lock, "sync.Mutex.Lock")             \
  X(sync_rwmutex_rlock, "sync.RWMutex.RLock")       \
  X(sync_rwmutex_lock, "sync.RWMutex.Lock")         \
  X(sync_waitgroup_wait, "sync.WaitGroup.Wait")     \
  X(sync_cond_wait, "sync.Cond.Wait")               \
  X(sync_once, "sync.Once.Do")                      \
  X(errgroup_limit, "errgroup.Group.Go (limit)")    \
  X(panic, "panic")

enum class WaitReason : std::uint8_t {
#define FSAN_X(name, str) name,
  FSAN_WAIT_REASONS(FSAN_X)
#undef FSAN_X
};

inline const char* to_string(WaitReason r) {
  switch (r) {
#define FSAN_X(name, str) \
  case WaitReason::name:  \
    return str;
    FSAN_WAIT_REASONS(FSAN_X)
#undef FSAN_X
  }
  return "?";
}

}  // namespace fsan::detail
