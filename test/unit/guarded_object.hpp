// GuardedObjects: objects on pages of their own that become inaccessible
// (PROT_NONE) the moment they are destroyed, so any late touch of a
// destroyed sync object — the bug the "may destroy right after" rules
// forbid — is a deterministic SIGSEGV instead of silent corruption. Pages are
// unmapped only when the GuardedObjects dies (after the run), so addresses
// are not reused within a test.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace fsan_test {

class GuardedObjects {
 public:
  GuardedObjects() = default;
  GuardedObjects(const GuardedObjects&) = delete;
  GuardedObjects& operator=(const GuardedObjects&) = delete;
  ~GuardedObjects() {
    for (void* p : pages_) munmap(p, page());
  }

  // make: a T on a fresh page.
  template <class T, class... Args>
  T* make(Args&&... args) {
    static_assert(sizeof(T) <= 4096);
    void* p = mmap(nullptr, page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    {
      std::lock_guard<std::mutex> g(mu_);
      pages_.push_back(p);
    }
    return ::new (p) T(std::forward<Args>(args)...);
  }

  // destroy: runs ~T and revokes all access to its page.
  template <class T>
  static void destroy(T* obj) {
    obj->~T();
    if (mprotect(static_cast<void*>(obj), page(), PROT_NONE) != 0) std::abort();
  }

 private:
  static std::size_t page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }
  std::mutex mu_;
  std::vector<void*> pages_;
};

}  // namespace fsan_test
