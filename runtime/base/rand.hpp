// FastRand: wyrand, a tiny 64-bit PRNG for select's random case order and
// for picking steal victims. One per worker (no sharing, no locking).
#pragma once

#include <cstdint>

namespace fsan::detail {

struct FastRand {
  std::uint64_t state;
  std::uint64_t next() {
    state += 0xa0761d6478bd642full;
    __uint128_t m = static_cast<__uint128_t>(state) * (state ^ 0xe7037ed1a0b428dbull);
    return static_cast<std::uint64_t>(m >> 64) ^ static_cast<std::uint64_t>(m);
  }
  // below: uniform in [0, n) (Lemire's multiply-shift; n < 2^32).
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(static_cast<std::uint32_t>(next())) * n) >> 32);
  }
};

}  // namespace fsan::detail
