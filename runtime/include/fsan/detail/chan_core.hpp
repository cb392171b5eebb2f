// The type-erased channel core every Chan<T> shares. Only this thin layer is
// instantiated per element type: an ElemOps table (size, move, destroy) and
// the inline handle refcounting; all queueing, parking and select logic is
// compiled once in runtime/chan/.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include <fsan/detail/config.hpp>

namespace fsan::detail {

// ElemOps: how the core moves and destroys one element. For trivially
// copyable types both pointers are null and the core uses memcpy.
struct ElemOps {
  std::size_t size;
  std::size_t align;
  void (*move_construct)(void* dst, void* src);  // ::new(dst) T(std::move(*src))
  void (*destroy)(void* p);                      // p->~T()
};

template <class T>
inline constexpr ElemOps kElemOps = {
    sizeof(T), alignof(T),
    std::is_trivially_copyable_v<T> ? nullptr
                                    : +[](void* dst, void* src) { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    std::is_trivially_copyable_v<T> ? nullptr : +[](void* p) { static_cast<T*>(p)->~T(); }};

struct ChanCore;  // runtime/chan/chan_core.hpp

// Refcount lives at offset 0 of every ChanCore so handles can count inline.
struct ChanRefs {
  std::atomic<std::uint32_t> refs{1};
};

ChanCore* chan_make(std::size_t capacity, const ElemOps* ops);
FSAN_COLD void chan_free(ChanCore* c);

FSAN_ALWAYS_INLINE void chan_retain(ChanCore* c) {
  if (c != nullptr) reinterpret_cast<ChanRefs*>(c)->refs.fetch_add(1, std::memory_order_relaxed);
}
FSAN_ALWAYS_INLINE void chan_release(ChanCore* c) {
  if (c != nullptr && reinterpret_cast<ChanRefs*>(c)->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) chan_free(c);
}

// Handle ownership for the wait-for graph (runtime/waitgraph/handle_registry):
// where each Chan handle lives decides which fibers can still operate its
// channel. Off (one predictable branch per copy/move/destroy) unless the
// wait-graph detector is on. Order keeps "tracked handles <= refs": a handle
// is tracked after its retain and untracked before its release.
extern bool g_chan_handle_tracking;
FSAN_COLD void chan_handle_track(ChanCore* c, const void* at);
FSAN_COLD void chan_handle_untrack(ChanCore* c, const void* at);
FSAN_COLD void chan_handle_moved(ChanCore* c, const void* from, const void* to);
FSAN_ALWAYS_INLINE void chan_track(ChanCore* c, const void* at) {
  if (FSAN_UNLIKELY(g_chan_handle_tracking) && c != nullptr) chan_handle_track(c, at);
}
FSAN_ALWAYS_INLINE void chan_untrack(ChanCore* c, const void* at) {
  if (FSAN_UNLIKELY(g_chan_handle_tracking) && c != nullptr) chan_handle_untrack(c, at);
}
FSAN_ALWAYS_INLINE void chan_track_move(ChanCore* c, const void* from, const void* to) {
  if (FSAN_UNLIKELY(g_chan_handle_tracking) && c != nullptr) chan_handle_moved(c, from, to);
}

// chan_send: moves *src into the channel (src stays a moved-from T the caller
// destroys). Blocks; nil channel blocks forever; closed channel panics.
void chan_send(ChanCore* c, void* src);
// chan_recv: moves an element into raw storage dst and returns true, or
// returns false (dst untouched) once the channel is closed and drained.
bool chan_recv(ChanCore* c, void* dst);
void chan_close(ChanCore* c);
std::size_t chan_len(const ChanCore* c);
std::size_t chan_cap(const ChanCore* c);

// Select. One SelectCase per channel case, in argument order.
struct SelectCase {
  ChanCore* chan;  // nullptr: a nil channel, never ready
  void* elem;      // send: the value to move from; recv: raw storage to move into
  bool is_send;
};
struct SelectResult {
  std::size_t index;  // == n when the default case ran
  bool recv_ok;       // recv cases: false when woken by close
};
SelectResult select_impl(SelectCase* cases, std::size_t n, bool has_default);

}  // namespace fsan::detail
