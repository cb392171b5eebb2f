// Interceptors for code the pass does not see: the C allocator (a freed and
// reused block must start with no access history, and heap locations report
// size and allocation stack) and the pthread calls whose synchronization
// user code may rely on besides fibersan's own (thread create/join,
// pthread mutexes, pthread_once, function-local static initialization).
// Linked only into instrumented programs (__fsan_init references this file).
// Reentrancy: the detector itself allocates and locks; a thread-local depth
// counter keeps it from observing itself.
#include <cxxabi.h>
#include <dlfcn.h>
#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "hooks/sync_hooks.hpp"
#include "race/detector.hpp"
#include "race/race_state.hpp"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace fsan::detail::race {
namespace {

// Intercepted: what an interceptor holds while it calls the detector.
struct Intercepted {
  Inside in;
  Intercepted() { set_in_interceptor(true); }
  ~Intercepted() { set_in_interceptor(false); }
};
// Not watching: the detector's own work, or a runtime hook (a detector's
// internal locks are not user synchronization).
inline bool watching() { return Detector::on() && t_depth == 0; }

constexpr int kHeapShards = 64;
struct HeapShard {
  std::mutex mu;
  std::unordered_map<std::uintptr_t, HeapBlock> blocks;
};
HeapShard* heap_shards() {
  static HeapShard* s = [] {
    Inside in;
    return new HeapShard[kHeapShards];
  }();
  return s;
}
HeapShard& shard_of(std::uintptr_t a) { return heap_shards()[(a >> 4) % kHeapShards]; }

void note_alloc(void* p, std::size_t n) {
  if (p == nullptr || !watching()) return;
  Intercepted in;
  Detector::on_alloc(reinterpret_cast<std::uintptr_t>(p), n);
}
void note_free(void* p) {
  if (p == nullptr || !watching()) return;
  Intercepted in;
  Detector::on_free(reinterpret_cast<std::uintptr_t>(p));
}

// real: the next definition of an intercepted function, resolved once.
// (No function-local statics here: their guards are intercepted too.)
template <class F>
F real(std::atomic<void*>& slot, const char* name) {
  void* p = slot.load(std::memory_order_acquire);
  if (p == nullptr) {
    p = dlsym(RTLD_NEXT, name);
    slot.store(p, std::memory_order_release);
  }
  return reinterpret_cast<F>(p);
}

}  // namespace

void record_heap_block(std::uintptr_t start, std::size_t size, std::uint64_t fiber_id, NodeId node) {
  Inside in;
  HeapShard& sh = shard_of(start);
  std::lock_guard<std::mutex> g(sh.mu);
  sh.blocks[start] = HeapBlock{start, size, fiber_id, node};
}

std::size_t forget_heap_block(std::uintptr_t start) {
  Inside in;
  HeapShard& sh = shard_of(start);
  std::lock_guard<std::mutex> g(sh.mu);
  auto it = sh.blocks.find(start);
  if (it == sh.blocks.end()) return 0;
  std::size_t size = it->second.size;
  sh.blocks.erase(it);
  return size;
}

bool find_heap_block(std::uintptr_t addr, HeapBlock* out) {
  Inside in;
  bool found = false;
  for (int i = 0; i < kHeapShards && !found; ++i) {
    HeapShard& sh = heap_shards()[i];
    std::lock_guard<std::mutex> g(sh.mu);
    for (const auto& [start, b] : sh.blocks) {
      if (addr >= start && addr < start + (b.size == 0 ? 1 : b.size)) {
        *out = b;
        found = true;
        break;
      }
    }
  }
  return found;
}

}  // namespace fsan::detail::race

using fsan::detail::race::Detector;
using fsan::detail::race::note_alloc;
using fsan::detail::race::note_free;

namespace {
std::atomic<void*> g_slot___cxa_guard_acquire{nullptr};
std::atomic<void*> g_slot___cxa_guard_release{nullptr};
std::atomic<void*> g_slot_pthread_create{nullptr};
std::atomic<void*> g_slot_pthread_join{nullptr};
std::atomic<void*> g_slot_pthread_mutex_lock{nullptr};
std::atomic<void*> g_slot_pthread_mutex_trylock{nullptr};
std::atomic<void*> g_slot_pthread_mutex_unlock{nullptr};
std::atomic<void*> g_slot_pthread_once{nullptr};
}  // namespace

extern "C" {

int fsan_interceptors_anchor = 0;

void* malloc(size_t n) {
  void* p = __libc_malloc(n);
  note_alloc(p, n);
  return p;
}
void* calloc(size_t a, size_t b) {
  void* p = __libc_calloc(a, b);
  note_alloc(p, a * b);
  return p;
}
void* realloc(void* old, size_t n) {
  note_free(old);
  void* p = __libc_realloc(old, n);
  note_alloc(p, n);
  return p;
}
void free(void* p) {
  note_free(p);
  __libc_free(p);
}
void* memalign(size_t al, size_t n) {
  void* p = __libc_memalign(al, n);
  note_alloc(p, n);
  return p;
}
void* aligned_alloc(size_t al, size_t n) { return memalign(al, n); }
int posix_memalign(void** out, size_t al, size_t n) {
  void* p = __libc_memalign(al, n);
  if (p == nullptr) return 12;  // ENOMEM
  note_alloc(p, n);
  *out = p;
  return 0;
}

// --- threads ---------------------------------------------------------------

namespace {
struct Start {
  void* (*fn)(void*);
  void* arg;
};
void* thread_trampoline(void* p) {
  Start s = *static_cast<Start*>(p);
  // pthread_create happens before the thread starts.
  if (Detector::on()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_after(p);
  }
  delete static_cast<Start*>(p);
  void* r = s.fn(s.arg);
  if (Detector::on()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_before(reinterpret_cast<void*>(pthread_self()));
  }
  return r;
}
}  // namespace

int pthread_create(pthread_t* t, const pthread_attr_t* attr, void* (*fn)(void*), void* arg) {
  auto real_create = fsan::detail::race::real<int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*)>(g_slot_pthread_create, "pthread_create");
  Start* s;
  {
    fsan::detail::race::Intercepted in;
    s = new Start{fn, arg};
    if (Detector::on()) Detector::annotate_happens_before(s);
  }
  return real_create(t, attr, &thread_trampoline, s);
}

int pthread_join(pthread_t t, void** ret) {
  auto real_join = fsan::detail::race::real<int (*)(pthread_t, void**)>(g_slot_pthread_join, "pthread_join");
  int r = real_join(t, ret);
  if (r == 0 && fsan::detail::race::watching()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_after(reinterpret_cast<void*>(t));
  }
  return r;
}

int pthread_mutex_lock(pthread_mutex_t* m) {
  auto real_lock = fsan::detail::race::real<int (*)(pthread_mutex_t*)>(g_slot_pthread_mutex_lock, "pthread_mutex_lock");
  int r = real_lock(m);
  if (r == 0 && fsan::detail::race::watching()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_after(m);
  }
  return r;
}

int pthread_mutex_trylock(pthread_mutex_t* m) {
  auto real_try = fsan::detail::race::real<int (*)(pthread_mutex_t*)>(g_slot_pthread_mutex_trylock, "pthread_mutex_trylock");
  int r = real_try(m);
  if (r == 0 && fsan::detail::race::watching()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_after(m);
  }
  return r;
}

int pthread_mutex_unlock(pthread_mutex_t* m) {
  auto real_unlock = fsan::detail::race::real<int (*)(pthread_mutex_t*)>(g_slot_pthread_mutex_unlock, "pthread_mutex_unlock");
  if (fsan::detail::race::watching()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_before(m);
  }
  return real_unlock(m);
}

namespace {
thread_local void (*t_once_init)() = nullptr;
thread_local pthread_once_t* t_once = nullptr;
void once_trampoline() {
  t_once_init();
  if (Detector::on()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_before(t_once);
  }
}
}  // namespace

int pthread_once(pthread_once_t* once, void (*init)()) {
  auto real_once = fsan::detail::race::real<int (*)(pthread_once_t*, void (*)())>(g_slot_pthread_once, "pthread_once");
  auto* saved_init = t_once_init;
  auto* saved_once = t_once;
  t_once_init = init;
  t_once = once;
  int r = real_once(once, &once_trampoline);
  t_once_init = saved_init;
  t_once = saved_once;
  if (fsan::detail::race::watching()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_after(once);
  }
  return r;
}

// Function-local statics: initialization happens before every use. Defined
// under asm labels: GCC predeclares these two with its own guard type.
int fsan_cxa_guard_acquire(__cxxabiv1::__guard* g) __asm__("__cxa_guard_acquire");
void fsan_cxa_guard_release(__cxxabiv1::__guard* g) noexcept __asm__("__cxa_guard_release");
int fsan_cxa_guard_acquire(__cxxabiv1::__guard* g) {
  auto real_acq = fsan::detail::race::real<int (*)(__cxxabiv1::__guard*)>(g_slot___cxa_guard_acquire, "__cxa_guard_acquire");
  int r = real_acq(g);
  if (r == 0 && fsan::detail::race::watching()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_after(g);
  }
  return r;
}

void fsan_cxa_guard_release(__cxxabiv1::__guard* g) noexcept {
  auto real_rel = fsan::detail::race::real<void (*)(__cxxabiv1::__guard*)>(g_slot___cxa_guard_release, "__cxa_guard_release");
  if (fsan::detail::race::watching()) {
    fsan::detail::race::Intercepted in;
    Detector::annotate_happens_before(g);
  }
  real_rel(g);
}

}  // extern "C"
