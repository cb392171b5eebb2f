// The std::thread twin of workloads_fiber.cpp (scripts/bench --race): the
// same four workloads with std::thread, std::mutex and a bounded blocking
// queue, built plain and with clang's -fsanitize=thread.
//   usage: workloads_thread {kernel|pipeline|hashmap|skynet} [--quick]
// skynet: a thread per node would be 1,111,111 threads (ThreadSanitizer
// supports at most 8,128 live threads), so the first two levels are threads
// (1 + 10 + 100 = 111 of them, the rest of each subtree is computed by
// plain recursion in its thread) — the nearest bounded equivalent; the sum
// is the same. Document any change here and in scripts/bench.
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "workloads.hpp"

namespace {

using namespace racebench;

std::int64_t kernel(const Sizes& z) {
  std::vector<std::int64_t> a(z.kernel_len, 1), b(z.kernel_len, 2);
  std::vector<std::mutex> mu(kKernelSlices);
  std::vector<std::thread> ts;
  for (int w = 0; w < kWorkers; ++w) {
    ts.emplace_back([&, w] {
      for (int r = 0; r < z.kernel_rounds; ++r) {
        int s = (w + r) % kKernelSlices;
        std::lock_guard<std::mutex> g(mu[s]);
        kernel_step(a.data(), b.data(), z.kernel_len, s);
      }
    });
  }
  for (auto& t : ts) t.join();
  return checksum(a.data(), z.kernel_len) + checksum(b.data(), z.kernel_len);
}

// A bounded blocking queue: the std::thread stand-in for a buffered channel.
class Queue {
 public:
  void push(std::int64_t v) {
    std::unique_lock<std::mutex> g(mu_);
    not_full_.wait(g, [&] { return q_.size() < static_cast<std::size_t>(kPipeBuffer); });
    q_.push_back(v);
    not_empty_.notify_one();
  }
  void close() {
    std::lock_guard<std::mutex> g(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  std::optional<std::int64_t> pop() {
    std::unique_lock<std::mutex> g(mu_);
    not_empty_.wait(g, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return std::nullopt;
    std::int64_t v = q_.front();
    q_.pop_front();
    not_full_.notify_one();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<std::int64_t> q_;
  bool closed_ = false;
};

std::int64_t pipeline(const Sizes& z) {
  std::vector<Queue> q(kStages + 1);
  std::vector<std::thread> ts;
  ts.emplace_back([&] {
    for (std::int64_t i = 0; i < z.pipeline_items; ++i) q[0].push(i);
    q[0].close();
  });
  for (int s = 0; s < kStages; ++s) {
    ts.emplace_back([&, s] {
      while (auto v = q[s].pop()) q[s + 1].push(stage(*v, s));
      q[s + 1].close();
    });
  }
  std::int64_t sum = 0;
  while (auto v = q[kStages].pop()) sum += *v;
  for (auto& t : ts) t.join();
  return sum;
}

std::int64_t hashmap(const Sizes& z) {
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::int64_t, std::int64_t> map;
  };
  std::vector<Shard> shards(kMapShards);
  std::vector<std::int64_t> found(kWorkers, 0);
  std::vector<std::thread> ts;
  for (int w = 0; w < kWorkers; ++w) {
    ts.emplace_back([&, w] {
      for (std::int64_t i = 0; i < z.map_ops; ++i) {
        std::int64_t key = map_key(w, i);
        Shard& sh = shards[static_cast<std::size_t>(key) % kMapShards];
        std::lock_guard<std::mutex> g(sh.mu);
        if (i % 4 == 0)
          sh.map[key] += i;
        else if (auto it = sh.map.find(key); it != sh.map.end())
          found[w] += it->second;
      }
    });
  }
  for (auto& t : ts) t.join();
  std::int64_t sum = 0;
  for (std::int64_t f : found) sum += f;
  for (Shard& sh : shards) sum += static_cast<std::int64_t>(sh.map.size());
  return sum;
}

std::int64_t skynet_seq(std::int64_t num, std::int64_t size, std::int64_t div) {
  if (size == 1) return num;
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < div; ++i) sum += skynet_seq(num + i * (size / div), size / div, div);
  return sum;
}

std::int64_t skynet_threads(std::int64_t num, std::int64_t size, std::int64_t div, int depth) {
  if (depth == 2 || size == 1) return skynet_seq(num, size, div);
  std::vector<std::int64_t> sums(static_cast<std::size_t>(div), 0);
  std::vector<std::thread> ts;
  for (std::int64_t i = 0; i < div; ++i)
    ts.emplace_back([&, i] { sums[i] = skynet_threads(num + i * (size / div), size / div, div, depth + 1); });
  for (auto& t : ts) t.join();
  std::int64_t sum = 0;
  for (std::int64_t s : sums) sum += s;
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
  if (w == "kernel") {
    got = kernel(z), want = kernel_expected(z);
  } else if (w == "pipeline") {
    got = pipeline(z), want = pipeline_expected(z);
  } else if (w == "hashmap") {
    got = hashmap(z), want = hashmap_expected(z);
  } else if (w == "skynet") {
    got = skynet_threads(0, kSkynetSize, kSkynetDiv, 0), want = kSkynetSize * (kSkynetSize - 1) / 2;
  } else {
    std::fprintf(stderr, "unknown workload '%s' (kernel, pipeline, hashmap, skynet)\n", w.c_str());
    return 2;
  }
  std::printf("%s checksum=%lld\n", w.c_str(), static_cast<long long>(got));
  return got == want ? 0 : 1;
}
