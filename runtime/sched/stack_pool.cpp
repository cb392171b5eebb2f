// StackPool: see stack_pool.hpp for the guard-page policy.
#include "sched/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace fsan::detail {
namespace {

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

constexpr std::size_t kSlabStacks = 16;

std::size_t read_max_map_count() {
  std::size_t n = 65530;
  if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    unsigned long v = 0;
    if (std::fscanf(f, "%lu", &v) == 1 && v > 0) n = v;
    std::fclose(f);
  }
  return n;
}

}  // namespace

StackPool& StackPool::instance() {
  static StackPool* pool = new StackPool();  // never destroyed: fibers may outlive static destructors
  return *pool;
}

StackPool::StackPool() {
  page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  // Probe MADV_GUARD_INSTALL once on a scratch mapping.
  void* p = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED) {
    madv_guard_ = madvise(p, page_, MADV_GUARD_INSTALL) == 0;
    munmap(p, 2 * page_);
  }
  mprotect_budget_ = read_max_map_count() / 4;
}

void StackPool::grow(std::size_t size) {
  const std::size_t stride = size + page_;  // guard page + usable stack
  const std::size_t bytes = stride * kSlabStacks;
  char* base = static_cast<char*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0));
  if (base == MAP_FAILED) {
    std::fprintf(stderr, "fibersan: out of address space for fiber stacks (%zu bytes): %s\n", bytes,
                 std::strerror(errno));
    std::abort();
  }
  slabs_.push_back({base, bytes, stride});
  for (std::size_t i = 0; i < kSlabStacks; ++i) {
    char* guard = base + i * stride;
    bool guarded = false;
    if (madv_guard_) {
      guarded = madvise(guard, page_, MADV_GUARD_INSTALL) == 0;
    } else if (mprotect_budget_ > 0) {
      guarded = mprotect(guard, page_, PROT_NONE) == 0;
      if (guarded) --mprotect_budget_;
    }
    char* lo = guard + page_;
    char* hi = lo + size;
    if (!guarded) *reinterpret_cast<std::uint64_t*>(lo) = kStackCanary;
    // The free-list node lives at the top of the stack it describes.
    auto* b = ::new (hi - sizeof(StackBlock)) StackBlock{lo, hi, guarded, false, free_};
    free_ = b;
    ++free_count_;
  }
}

StackBlock* StackPool::take(std::size_t size) {
  size = (size + page_ - 1) / page_ * page_;
  LockGuard g(lock_);
  if (size != stack_size_) {
    // A new stack size (a new run with other Options): old free stacks are
    // forgotten; their slabs stay reserved but their pages are dropped.
    for (const Slab& s : slabs_) madvise(s.base, s.bytes, MADV_DONTNEED);
    free_ = nullptr;
    free_count_ = 0;
    stack_size_ = size;
  }
  if (free_ == nullptr) grow(size);
  StackBlock* b = free_;
  free_ = b->next_free;
  --free_count_;
  b->trimmed = false;
  return b;
}

void StackPool::give_back(StackBlock* list, std::size_t count) {
  if (list == nullptr) return;
  StackBlock* last = list;
  while (last->next_free != nullptr) last = last->next_free;
  LockGuard g(lock_);
  if (static_cast<std::size_t>(list->hi - list->lo) != stack_size_) return;  // a stale size: drop
  last->next_free = free_;
  free_ = list;
  free_count_ += count;
}

void StackPool::trim() {
  LockGuard g(lock_);
  // Drop the pages of free stacks beyond a warm few, except the StackBlock
  // node at each top. A stack trimmed once stays trimmed until reused, so a
  // big run costs its madvise calls once, not at every later run end.
  constexpr std::size_t kKeepWarm = 256;
  std::size_t seen = 0;
  for (StackBlock* b = free_; b != nullptr; b = b->next_free) {
    if (++seen <= kKeepWarm || b->trimmed) continue;
    char* keep = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(b) & ~(page_ - 1));
    if (keep > b->lo) madvise(b->lo, static_cast<std::size_t>(keep - b->lo), MADV_DONTNEED);
    if (!b->guarded) *reinterpret_cast<std::uint64_t*>(b->lo) = kStackCanary;
    b->trimmed = true;
  }
}

bool StackPool::is_guard_address(std::uintptr_t addr) const {
  // Called from a signal handler: no lock (slabs_ only grows, and a torn
  // read at worst misses a report); reads only.
  const auto& slabs = const_cast<const std::vector<Slab>&>(slabs_);
  for (std::size_t i = 0; i < slabs.size(); ++i) {
    const Slab& s = slabs[i];
    auto base = reinterpret_cast<std::uintptr_t>(s.base);
    if (addr < base || addr >= base + s.bytes) continue;
    return (addr - base) % s.stride < page_;
  }
  return false;
}

}  // namespace fsan::detail
