// The detector switch as the inline fast paths of the public sync types see
// it: null while no detector is installed (runtime/hooks/sync_hooks.hpp owns
// the pointer). A fast path that finds it set takes its out-of-line path,
// which emits the synchronization events.
#pragma once

#include <fsan/detail/config.hpp>

namespace fsan::detail {

class SyncHooks;
extern SyncHooks* g_sync_hooks;

// hooks_off: true while no detector listens (the common case).
FSAN_ALWAYS_INLINE bool hooks_off() { return FSAN_LIKELY(g_sync_hooks == nullptr); }

}  // namespace fsan::detail
