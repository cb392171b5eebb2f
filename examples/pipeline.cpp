// pipeline: a three-stage channel pipeline, Go style.
//   generate ──nums──► square × kWorkers ──squares──► sum (the main fiber)
// Each channel is closed by its only sender side once that side is done: the
// generator closes `nums`; the last of the workers to finish is noticed by a
// closer fiber, which closes `squares`. Every fiber ends, so a run is clean:
// no findings, exit status 0.
#include <cstdint>
#include <cstdio>
#include <string>

#include <fsan/fsan.hpp>

namespace {

constexpr std::int64_t kCount = 1000;
constexpr int kWorkers = 4;

}  // namespace

int main() {
  std::int64_t sum = 0;
  int status = fsan::run([&sum] {
    auto nums = fsan::make_chan<std::int64_t>(16);
    auto squares = fsan::make_chan<std::int64_t>(16);
    auto worker_done = fsan::make_chan<fsan::Unit>();

    // Stage 1: the numbers 1..kCount, then close.
    fsan::go_named("generate", [nums] {
      for (std::int64_t n = 1; n <= kCount; ++n) nums.send(n);
      nums.close();
    });

    // Stage 2: a pool of workers sharing `nums`; each stops when it is closed.
    for (int w = 1; w <= kWorkers; ++w) {
      fsan::go_named("square " + std::to_string(w), [nums, squares, worker_done] {
        for (std::int64_t n : nums) squares.send(n * n);
        worker_done.send(fsan::Unit{});
      });
    }

    // `squares` has kWorkers senders, so none of them may close it: a closer
    // waits for all of them, then closes it once.
    fsan::go_named("close squares", [squares, worker_done] {
      for (int w = 0; w < kWorkers; ++w) worker_done.recv();
      squares.close();
    });

    // Stage 3: sum until `squares` is closed.
    for (std::int64_t sq : squares) sum += sq;
  });

  constexpr std::int64_t kExpected = kCount * (kCount + 1) * (2 * kCount + 1) / 6;
  std::printf("pipeline: sum of squares 1..%lld with %d workers = %lld (expected %lld)\n",
              static_cast<long long>(kCount), kWorkers, static_cast<long long>(sum), static_cast<long long>(kExpected));
  if (status != 0) return status;
  return sum == kExpected ? 0 : 1;
}
