// skynet_rss: runs skynet (1,000,000 leaves) once under fsan::run in a fresh
// process and prints one JSON line with the wall time and the process's peak
// RSS (getrusage ru_maxrss, KiB). Usage: skynet_rss [--workers=N]
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <functional>  // fsan/fiber.hpp uses std::invoke without including it

#include <fsan/fsan.hpp>

#include "skynet.hpp"

int main(int argc, char** argv) {
  fsan::Options o;
  o.workers = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--workers=", 10) == 0) o.workers = std::atoi(argv[i] + 10);
  }
  std::int64_t sum = 0;
  auto t0 = std::chrono::steady_clock::now();
  int rc = fsan::run(o, [&] { sum = fsanbench::fsan_skynet_root(); });
  auto t1 = std::chrono::steady_clock::now();
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const unsigned hw = std::thread::hardware_concurrency();
  std::printf(
      "{\"name\":\"skynet_1M\",\"mode\":\"rss\",\"ns_per_op\":%lld,\"peak_rss_kb\":%ld,\"workers\":%u,"
      "\"sum_ok\":%s,\"run_rc\":%d}\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()), ru.ru_maxrss,
      o.workers == 0 ? hw : static_cast<unsigned>(o.workers), sum == fsanbench::kSkynetWant ? "true" : "false", rc);
  return (sum == fsanbench::kSkynetWant && rc == 0) ? 0 : 1;
}
