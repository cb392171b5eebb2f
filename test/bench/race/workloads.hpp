// Shared definitions of the race-overhead workloads (workloads_fiber.cpp,
// workloads_thread.cpp): sizes, the per-element work, and expected results,
// so both versions do exactly the same work and check the same answer.
#pragma once

#include <cstdint>

namespace racebench {

inline constexpr int kWorkers = 4;        // fibers or threads doing the work
inline constexpr int kKernelSlices = 8;   // (a) one mutex per slice of the arrays
inline constexpr int kStages = 3;         // (b) transform stages between source and sink
inline constexpr int kPipeBuffer = 64;    // (b) channel/queue capacity
inline constexpr int kMapShards = 16;     // (c) one mutex per shard
inline constexpr std::int64_t kSkynetSize = 1'000'000, kSkynetDiv = 10;  // (d) as test/bench/skynet.hpp

struct Sizes {
  std::int64_t kernel_len, kernel_rounds, pipeline_items, map_ops;
};

inline Sizes sizes(bool quick) {
  if (quick) return Sizes{1 << 14, 200, 50'000, 100'000};
  return Sizes{1 << 16, 400, 300'000, 600'000};
}

// (a) One step over slice s of a (written) reading b (shared, read-only).
// Commutative (a sum of increments), so the result does not depend on the
// order the slices are visited in.
inline void kernel_step(std::int64_t* a, const std::int64_t* b, std::int64_t len, int s) {
  std::int64_t per = len / kKernelSlices;
  for (std::int64_t j = s * per; j < (s + 1) * per; ++j) a[j] += (b[j] * 3 + j) % 11;
}

inline std::int64_t checksum(const std::int64_t* v, std::int64_t len) {
  std::int64_t h = 0;
  for (std::int64_t j = 0; j < len; ++j) h += v[j] * ((j % 7) + 1);
  return h;
}

inline std::int64_t kernel_expected(const Sizes& z) {
  // Each worker w visits slice (w + r) % kKernelSlices for r < rounds.
  std::int64_t visits[kKernelSlices] = {};
  for (int w = 0; w < kWorkers; ++w)
    for (std::int64_t r = 0; r < z.kernel_rounds; ++r) ++visits[(w + r) % kKernelSlices];
  std::int64_t per = z.kernel_len / kKernelSlices, sum = 0;
  for (std::int64_t j = 0; j < z.kernel_len; ++j) {
    std::int64_t a = 1;
    if (j < per * kKernelSlices) a += visits[j / per] * ((2 * 3 + j) % 11);
    sum += a * ((j % 7) + 1) + 2 * ((j % 7) + 1);
  }
  return sum;
}

// (b) What stage s does to a value.
inline std::int64_t stage(std::int64_t v, int s) {
  for (int k = 0; k < 8; ++k) v = (v * 31 + s + k) % 1000003;
  return v;
}

inline std::int64_t pipeline_expected(const Sizes& z) {
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < z.pipeline_items; ++i) {
    std::int64_t v = i;
    for (int s = 0; s < kStages; ++s) v = stage(v, s);
    sum += v;
  }
  return sum;
}

// (c) Worker w's i-th key: each worker owns its keys (so the result is
// deterministic) but all share the shards (so the mutexes are contended).
inline std::int64_t map_slot(std::int64_t i) { return (i / 2) % 4096; }
inline std::int64_t map_key(int w, std::int64_t i) { return w * (std::int64_t{1} << 20) + map_slot(i) * 7; }

// (c) The result of the hash map workload: per worker, the values found by
// its lookups (each key is inserted on every 4th op, by its owner only)
// plus the final number of keys.
inline std::int64_t hashmap_expected(const Sizes& z) {
  std::int64_t found = 0, keys = 0;
  for (int w = 0; w < kWorkers; ++w) {
    // Simulate worker w alone: its keys are touched by nobody else.
    std::int64_t value[4096] = {};
    bool present[4096] = {};
    for (std::int64_t i = 0; i < z.map_ops; ++i) {
      std::int64_t k = map_slot(i);
      if (i % 4 == 0) {
        value[k] += i;
        present[k] = true;
      } else if (present[k]) {
        found += value[k];
      }
    }
    for (bool p : present) keys += p;
  }
  return found + keys;
}

}  // namespace racebench
