// Shadow memory: see shadow.hpp.
#include "race/shadow.hpp"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace fsan::detail::race {
namespace {

constexpr std::size_t kTopEntries = std::size_t{1} << (47 - kChunkShift);
constexpr std::size_t kGranulesPerChunk = std::size_t{1} << (kChunkShift - 3);
constexpr std::size_t kChunkShadowBytes = kGranulesPerChunk * sizeof(GranuleShadow);

std::atomic<GranuleShadow*>* top() {
  static std::atomic<GranuleShadow*>* t = [] {
    void* p = mmap(nullptr, kTopEntries * sizeof(void*), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      std::fputs("fibersan: cannot reserve the race detector's shadow table\n", stderr);
      std::abort();
    }
    return static_cast<std::atomic<GranuleShadow*>*>(p);
  }();
  return t;
}

std::mutex g_chunks_mu;
std::vector<GranuleShadow*> g_chunks;

FSAN_NOINLINE GranuleShadow* make_chunk(std::size_t idx) {
  std::lock_guard<std::mutex> g(g_chunks_mu);
  GranuleShadow* c = top()[idx].load(std::memory_order_acquire);
  if (c != nullptr) return c;
  void* p = mmap(nullptr, kChunkShadowBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    std::fputs("fibersan: out of memory for race detector shadow\n", stderr);
    std::abort();
  }
  c = static_cast<GranuleShadow*>(p);
  g_chunks.push_back(c);
  top()[idx].store(c, std::memory_order_release);
  return c;
}

}  // namespace

GranuleShadow* granule_shadow(std::uintptr_t addr) {
  if (FSAN_UNLIKELY(addr >= kAppLimit)) return nullptr;
  std::size_t idx = addr >> kChunkShift;
  GranuleShadow* c = top()[idx].load(std::memory_order_acquire);
  if (FSAN_UNLIKELY(c == nullptr)) c = make_chunk(idx);
  return c + ((addr >> 3) & (kGranulesPerChunk - 1));
}

void reset_range(std::uintptr_t addr, std::size_t size) {
  std::uintptr_t end = addr + size;
  addr &= ~std::uintptr_t{7};
  while (addr < end && addr < kAppLimit) {
    std::size_t idx = addr >> kChunkShift;
    std::uintptr_t chunk_end = (static_cast<std::uintptr_t>(idx) + 1) << kChunkShift;
    std::uintptr_t stop = end < chunk_end ? end : chunk_end;
    GranuleShadow* c = top()[idx].load(std::memory_order_acquire);
    if (c != nullptr) {
      GranuleShadow* from = c + ((addr >> 3) & (kGranulesPerChunk - 1));
      std::size_t n = (stop - addr + 7) >> 3;
      std::memset(static_cast<void*>(from), 0, n * sizeof(GranuleShadow));
    }
    addr = stop;
  }
}

void release_range(std::uintptr_t addr, std::size_t size) {
  constexpr std::uintptr_t kPage = 4096;
  std::uintptr_t end = (addr + size) & ~std::uintptr_t{7};
  addr = (addr + 7) & ~std::uintptr_t{7};
  while (addr < end && addr < kAppLimit) {
    std::size_t idx = addr >> kChunkShift;
    std::uintptr_t chunk_end = (static_cast<std::uintptr_t>(idx) + 1) << kChunkShift;
    std::uintptr_t stop = end < chunk_end ? end : chunk_end;
    GranuleShadow* c = top()[idx].load(std::memory_order_acquire);
    if (c != nullptr) {
      auto from = reinterpret_cast<std::uintptr_t>(c + ((addr >> 3) & (kGranulesPerChunk - 1)));
      std::uintptr_t to = from + ((stop - addr) >> 3) * sizeof(GranuleShadow);
      std::uintptr_t page_lo = (from + kPage - 1) & ~(kPage - 1), page_hi = to & ~(kPage - 1);
      if (page_lo < page_hi) {
        // Whole shadow pages go back to the kernel (read back as zeros);
        // only the partial edges are written.
        std::memset(reinterpret_cast<void*>(from), 0, page_lo - from);
        madvise(reinterpret_cast<void*>(page_lo), page_hi - page_lo, MADV_DONTNEED);
        std::memset(reinterpret_cast<void*>(page_hi), 0, to - page_hi);
      } else {
        std::memset(reinterpret_cast<void*>(from), 0, to - from);
      }
    }
    addr = stop;
  }
}

void reset_all() {
  std::lock_guard<std::mutex> g(g_chunks_mu);
  for (GranuleShadow* c : g_chunks) madvise(c, kChunkShadowBytes, MADV_DONTNEED);
}

std::size_t shadow_chunks() {
  std::lock_guard<std::mutex> g(g_chunks_mu);
  return g_chunks.size();
}

}  // namespace fsan::detail::race
