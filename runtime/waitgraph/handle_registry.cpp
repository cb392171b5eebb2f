// HandleRegistry (see handle_registry.hpp). One hash map under one runtime
// Lock: O(1) per copy, move and destruction; taken only while the wait-for
// graph is on. A runtime Lock, not a pthread mutex: the race detector's
// interceptors must not see it (it would order the fibers that copy handles).
#include "waitgraph/handle_registry.hpp"

#include <algorithm>
#include <atomic>
#include <unordered_map>

#include <fsan/detail/chan_core.hpp>

#include "base/lock.hpp"

namespace fsan::detail {

bool g_chan_handle_tracking = false;

namespace waitgraph {
namespace {

struct Registry {
  Lock lock;
  std::unordered_map<const void*, ChanCore*> where FSAN_GUARDED_BY(lock);
  std::atomic<bool> dropped{false};
};

Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

std::uint32_t refs_of(const ChanCore* c) {
  return reinterpret_cast<const ChanRefs*>(c)->refs.load(std::memory_order_acquire);
}

}  // namespace

void start_handle_tracking() {
  registry();
  g_chan_handle_tracking = true;
}

void snapshot_handles(HandleSnapshot* out) {
  Registry& r = registry();
  out->handles.clear();
  out->untracked.clear();
  {
    LockGuard g(r.lock);
    out->handles.reserve(r.where.size());
    for (const auto& [at, c] : r.where) out->handles.push_back(HandleView{c, reinterpret_cast<std::uintptr_t>(at)});
    std::sort(out->handles.begin(), out->handles.end(),
              [](const HandleView& a, const HandleView& b) { return a.chan < b.chan; });
    // Every channel here is alive: it has tracked handles, so refs > 0.
    for (std::size_t i = 0; i < out->handles.size();) {
      std::size_t j = i;
      while (j < out->handles.size() && out->handles[j].chan == out->handles[i].chan) ++j;
      if (refs_of(out->handles[i].chan) > j - i) out->untracked.push_back(out->handles[i].chan);
      i = j;
    }
  }
}

bool handles_changed() { return registry().dropped.exchange(false, std::memory_order_acq_rel); }

}  // namespace waitgraph

void chan_handle_track(ChanCore* c, const void* at) {
  auto& r = waitgraph::registry();
  LockGuard g(r.lock);
  r.where[at] = c;
}

void chan_handle_untrack(ChanCore* c, const void* at) {
  auto& r = waitgraph::registry();
  {
    LockGuard g(r.lock);
    auto it = r.where.find(at);
    if (it != r.where.end() && it->second == c) r.where.erase(it);
  }
  if (!r.dropped.load(std::memory_order_relaxed)) r.dropped.store(true, std::memory_order_release);
}

void chan_handle_moved(ChanCore* c, const void* from, const void* to) {
  auto& r = waitgraph::registry();
  LockGuard g(r.lock);
  auto it = r.where.find(from);
  if (it != r.where.end() && it->second == c) r.where.erase(it);
  r.where[to] = c;
}

}  // namespace fsan::detail
