// StackPool: process-wide source of fiber stacks. Stacks are reserved in
// slabs with MAP_NORESERVE (committed lazily, page by page, as the fiber
// touches them) and reused LIFO, so a warm stack costs no syscall.
//
// Guard pages and vm.max_map_count (65530 by default): an mprotect'ed guard
// splits the mapping, two VMAs per stack, so 1,000,000 guarded stacks would
// need 2,000,000 VMAs. Where the kernel has MADV_GUARD_INSTALL (Linux 6.13+)
// guards are page-table markers that split nothing, so every stack is
// guarded. Elsewhere stacks are guarded with mprotect until a quarter of
// max_map_count is used; later stacks carry a canary word at their lowest
// address instead, checked whenever their fiber parks or exits.
//
// Lock order: StackPool::lock_ is a leaf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/lock.hpp"

namespace fsan::detail {

struct StackBlock {
  char* lo = nullptr;  // lowest usable byte (the guard page, if any, is just below)
  char* hi = nullptr;  // one past the highest usable byte
  bool guarded = false;
  bool trimmed = false;  // pages already returned; cleared when handed out
  StackBlock* next_free = nullptr;  // intrusive free list (lives at the top of the stack)
};

inline constexpr std::uint64_t kStackCanary = 0xF1BE25A9'DEADBEEFull;

class StackPool {
 public:
  static StackPool& instance();

  // take: a free stack of `size` usable bytes (rounded to pages).
  StackBlock* take(std::size_t size);
  // give_back: many stacks at once (a worker's cache overflow).
  void give_back(StackBlock* list, std::size_t count);
  // trim: release the memory of every free stack (pages go back to the OS,
  // the reservation stays for reuse). Called when a run ends.
  void trim();

  static bool canary_intact(const StackBlock* b) {
    return b->guarded || *reinterpret_cast<const std::uint64_t*>(b->lo) == kStackCanary;
  }
  // is_guard_address: true if addr is in the guard page of some stack.
  bool is_guard_address(std::uintptr_t addr) const;

 private:
  StackPool();
  void grow(std::size_t size) FSAN_REQUIRES(lock_);

  Lock lock_;
  std::size_t stack_size_ FSAN_GUARDED_BY(lock_) = 0;
  StackBlock* free_ FSAN_GUARDED_BY(lock_) = nullptr;
  std::size_t free_count_ FSAN_GUARDED_BY(lock_) = 0;
  struct Slab {
    char* base;
    std::size_t bytes;
    std::size_t stride;
  };
  std::vector<Slab> slabs_ FSAN_GUARDED_BY(lock_);
  bool madv_guard_ = false;
  std::size_t mprotect_budget_ = 0;
  std::size_t page_ = 4096;
};

}  // namespace fsan::detail
