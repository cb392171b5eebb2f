// The race-overhead workloads on fibersan (scripts/bench --race): built
// plain and with -fsanitize=fiber; workloads_thread.cpp is the std::thread
// twin built plain and with -fsanitize=thread. Same work, same checksum.
//   usage: workloads_fiber {kernel|pipeline|hashmap|skynet} [--quick]
// Prints one line: "<workload> checksum=<n>"; exit 1 on a wrong checksum.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <fsan/fsan.hpp>

#include "../skynet.hpp"
#include "workloads.hpp"

namespace {

using namespace racebench;

// (a) compute kernel: kWorkers fibers repeatedly update slices of two shared
// arrays, each slice under its own mutex.
std::int64_t kernel(const Sizes& z) {
  std::vector<std::int64_t> a(z.kernel_len, 1), b(z.kernel_len, 2);
  std::vector<fsan::Mutex> mu(kKernelSlices);
  fsan::WaitGroup wg;
  for (int w = 0; w < kWorkers; ++w) {
    wg.add(1);
    fsan::go([&, w] {
      for (int r = 0; r < z.kernel_rounds; ++r) {
        int s = (w + r) % kKernelSlices;
        std::lock_guard<fsan::Mutex> g(mu[s]);
        kernel_step(a.data(), b.data(), z.kernel_len, s);
      }
      wg.done();
    });
  }
  wg.wait();
  return checksum(a.data(), z.kernel_len) + checksum(b.data(), z.kernel_len);
}

// (b) channel pipeline: source -> kStages transform stages -> sink over
// buffered channels.
std::int64_t pipeline(const Sizes& z) {
  std::vector<fsan::Chan<std::int64_t>> ch;
  for (int i = 0; i <= kStages; ++i) ch.push_back(fsan::make_chan<std::int64_t>(kPipeBuffer));
  fsan::go([c = ch[0], n = z.pipeline_items] {
    for (std::int64_t i = 0; i < n; ++i) c.send(i);
    c.close();
  });
  for (int s = 0; s < kStages; ++s) {
    fsan::go([in = ch[s], out = ch[s + 1], s] {
      for (std::int64_t v : in) out.send(stage(v, s));
      out.close();
    });
  }
  std::int64_t sum = 0;
  for (std::int64_t v : ch[kStages]) sum += v;
  return sum;
}

// (c) hash map with sharded mutexes: kWorkers fibers insert and look up.
std::int64_t hashmap(const Sizes& z) {
  struct Shard {
    fsan::Mutex mu;
    std::unordered_map<std::int64_t, std::int64_t> map;
  };
  std::vector<Shard> shards(kMapShards);
  std::vector<std::int64_t> found(kWorkers, 0);
  fsan::WaitGroup wg;
  for (int w = 0; w < kWorkers; ++w) {
    wg.add(1);
    fsan::go([&, w] {
      for (std::int64_t i = 0; i < z.map_ops; ++i) {
        std::int64_t key = map_key(w, i);
        Shard& sh = shards[static_cast<std::size_t>(key) % kMapShards];
        std::lock_guard<fsan::Mutex> g(sh.mu);
        if (i % 4 == 0)
          sh.map[key] += i;
        else if (auto it = sh.map.find(key); it != sh.map.end())
          found[w] += it->second;
      }
      wg.done();
    });
  }
  wg.wait();
  std::int64_t sum = 0;
  for (std::int64_t f : found) sum += f;
  for (Shard& sh : shards) sum += static_cast<std::int64_t>(sh.map.size());
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s {kernel|pipeline|hashmap|skynet} [--quick]\n", argv[0]);
    return 2;
  }
  Sizes z = sizes(argc > 2 && std::strcmp(argv[2], "--quick") == 0);
  std::string w = argv[1];
  std::int64_t got = 0, want = 0;
  int rc = fsan::run([&] {
    if (w == "kernel") {
      got = kernel(z);
      want = kernel_expected(z);
    } else if (w == "pipeline") {
      got = pipeline(z);
      want = pipeline_expected(z);
    } else if (w == "hashmap") {
      got = hashmap(z);
      want = hashmap_expected(z);
    } else if (w == "skynet") {
      got = fsanbench::fsan_skynet_root();
      want = fsanbench::kSkynetWant;
    } else {
      std::fprintf(stderr, "unknown workload '%s' (kernel, pipeline, hashmap, skynet)\n", w.c_str());
      want = -1;
    }
  });
  std::printf("%s checksum=%lld\n", w.c_str(), static_cast<long long>(got));
  if (want == -1) return 2;
  return (rc == 0 && got == want) ? 0 : 1;
}
