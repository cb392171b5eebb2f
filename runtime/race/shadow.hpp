// Shadow memory: for every 8-byte granule of application memory, kCells
// cells recording recent accesses, plus each cell's origin (the stack-trie
// node of the access, so the previous access's stack is always available)
// and the locks its fiber held then (an interned held-set id, as TSan keeps
// mutex sets in its trace; race/held_set.hpp).
// Direct-mapped through a two-level table: the top level (one pointer per
// 4 MiB of the 47-bit address space, 256 MiB reserved, committed lazily)
// points at chunk shadows that are mmap'ed on first touch (NORESERVE, so
// only touched pages cost memory). Shadow is 4x application memory.
//
// Cell layout (64 bits; 0 = empty):
//   sid:20 | epoch:32 | mask:8 (bytes of the granule) | write:1 | atomic:1
// Cells are read and written with relaxed atomics: racing updates of one
// granule may lose a cell (a missed report, never a false one).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <fsan/detail/config.hpp>

namespace fsan::detail::race {

inline constexpr int kCells = 2;
inline constexpr int kChunkShift = 22;  // 4 MiB of application memory per chunk
inline constexpr std::uintptr_t kAppLimit = std::uintptr_t{1} << 47;

struct Cell {
  std::uint64_t raw;
  static constexpr std::uint64_t kSidBits = 20, kEpochBits = 32;
  static Cell make(std::uint32_t sid, std::uint32_t epoch, std::uint8_t mask, bool write, bool atomic) {
    return Cell{(std::uint64_t{sid}) | (std::uint64_t{epoch} << 20) | (std::uint64_t{mask} << 52) |
                (std::uint64_t{write} << 60) | (std::uint64_t{atomic} << 61)};
  }
  std::uint32_t sid() const { return static_cast<std::uint32_t>(raw & 0xFFFFF); }
  std::uint32_t epoch() const { return static_cast<std::uint32_t>((raw >> 20) & 0xFFFFFFFFu); }
  std::uint8_t mask() const { return static_cast<std::uint8_t>((raw >> 52) & 0xFF); }
  bool write() const { return ((raw >> 60) & 1) != 0; }
  bool atomic() const { return ((raw >> 61) & 1) != 0; }
};
static_assert(sizeof(Cell) == 8);

// One granule's shadow: the cells, then their origins and held sets.
struct GranuleShadow {
  std::atomic<std::uint64_t> cells[kCells];
  std::atomic<std::uint32_t> origins[kCells];
  std::atomic<std::uint32_t> held[kCells];
};
static_assert(sizeof(GranuleShadow) == 32);

// granule_shadow: the shadow of the granule holding addr (nullptr outside
// the application range).
GranuleShadow* granule_shadow(std::uintptr_t addr);
// reset_range: forgets every access to [addr, addr+size) (new allocations).
void reset_range(std::uintptr_t addr, std::size_t size);
// release_range: reset_range for large ranges (a dead fiber's stack): whole
// shadow pages are returned to the kernel instead of being written.
void release_range(std::uintptr_t addr, std::size_t size);
// reset_all: forgets everything (between runs).
void reset_all();
// shadow_bytes: committed-or-reserved shadow (for stats).
std::size_t shadow_chunks();

}  // namespace fsan::detail::race
