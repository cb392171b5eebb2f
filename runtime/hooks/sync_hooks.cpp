// Fan-out of SyncHooks to every installed detector. Installation happens
// between runs (no fiber is running), so the list needs no lock on the
// event path. FSAN_HOOK runs detectors inside an InternalScope: the locks
// they take are not the user's synchronization.
#include "hooks/sync_hooks.hpp"

#include <algorithm>
#include <vector>

namespace fsan::detail {

SyncHooks* g_sync_hooks = nullptr;
void (*g_run_end_hook)() = nullptr;

namespace {

class HookMux final : public SyncHooks {
 public:
  std::vector<SyncHooks*> hooks;
  void on_spawn(Fiber* p, Fiber* c) override {
    for (auto* h : hooks) h->on_spawn(p, c);
  }
  void on_exit(Fiber* f) override {
    for (auto* h : hooks) h->on_exit(f);
  }
  void on_block(Fiber* f, WaitReason w, const void* o) override {
    for (auto* h : hooks) h->on_block(f, w, o);
  }
  void on_unblock(Fiber* f, Fiber* by) override {
    for (auto* h : hooks) h->on_unblock(f, by);
  }
  void on_acquire(Fiber* f, const void* o, SyncOp op) override {
    for (auto* h : hooks) h->on_acquire(f, o, op);
  }
  void on_release(Fiber* f, const void* o, SyncOp op) override {
    for (auto* h : hooks) h->on_release(f, o, op);
  }
};

HookMux& mux() {
  static HookMux* m = new HookMux();
  return *m;
}

void republish() {
  auto& m = mux();
  g_sync_hooks = m.hooks.empty() ? nullptr : (m.hooks.size() == 1 ? m.hooks[0] : &m);
}

}  // namespace

void install_sync_hooks(SyncHooks* h) {
  mux().hooks.push_back(h);
  republish();
}

void uninstall_sync_hooks(SyncHooks* h) {
  auto& v = mux().hooks;
  v.erase(std::remove(v.begin(), v.end(), h), v.end());
  republish();
}

}  // namespace fsan::detail
