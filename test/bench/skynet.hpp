// skynet for fibersan, shared by runtime_bench and skynet_rss.
// skynet(c, num, size, div): a leaf (size 1) sends num; an inner node spawns
// div children on a fresh unbuffered channel and sends the sum of theirs.
#pragma once

#include <cstdint>

#include <functional>  // fsan/fiber.hpp uses std::invoke without including it

#include <fsan/fsan.hpp>

namespace fsanbench {

inline constexpr std::int64_t kSkynetSize = 1'000'000;
inline constexpr std::int64_t kSkynetDiv = 10;
inline constexpr std::int64_t kSkynetWant = kSkynetSize * (kSkynetSize - 1) / 2;

inline void fsan_skynet(fsan::Chan<std::int64_t> c, std::int64_t num, std::int64_t size, std::int64_t div) {
  if (size == 1) {
    c.send(num);
    return;
  }
  auto rc = fsan::make_chan<std::int64_t>();
  for (std::int64_t i = 0; i < div; ++i) fsan::go(&fsan_skynet, rc, num + i * (size / div), size / div, div);
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < div; ++i) sum += *rc.recv();
  c.send(sum);
}

// fsan_skynet_root: runs one whole skynet from the calling fiber; returns the sum.
inline std::int64_t fsan_skynet_root() {
  auto c = fsan::make_chan<std::int64_t>();
  fsan::go(&fsan_skynet, c, std::int64_t{0}, kSkynetSize, kSkynetDiv);
  return *c.recv();
}

}  // namespace fsanbench
