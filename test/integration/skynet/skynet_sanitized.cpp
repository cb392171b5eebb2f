// skynet_sanitized: the 1,000,000-leaf skynet (test/bench/skynet.hpp) built
// with -fsanitize=fiber: every fiber gets a race-detector slot and clock, and
// the run must finish with the right sum and no finding (issue #4: unbounded
// live fibers, bounded clock memory). Prints the peak RSS for the record.
// FSAN-EXPECT: none
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>

#include "../../bench/skynet.hpp"

int main() {
  std::int64_t sum = 0;
  int rc = fsan::run([&] { sum = fsanbench::fsan_skynet_root(); });
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("skynet sum %lld (want %lld), peak RSS %ld MiB\n", static_cast<long long>(sum),
              static_cast<long long>(fsanbench::kSkynetWant), ru.ru_maxrss / 1024);
  if (sum != fsanbench::kSkynetWant) return 1;
  return rc;
}
