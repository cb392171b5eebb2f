// boost_fiber_bench: the Boost.Fiber peer of runtime_bench and go/main.go.
// Same workloads, one JSON line each:
//   {"name":..., "ns_per_op":..., "peak_rss_kb":..., "scheduler":..., "note":...}
// Scheduler: boost::fibers::algo::work_stealing over --threads=N OS threads
// (the main thread is one of them) when N > 1, else the default round_robin on
// the main thread alone. Every line says which.
// Differences from the Go/fsan workloads, forced by Boost.Fiber's API:
//   - Boost.Fiber has no select: select_two_ready polls the two channels with
//     try_pop in a random order (both are always ready, so it never spins).
//   - buffered_channel's capacity must be a power of two and holds capacity-1
//     elements: chan_buffered_128 uses capacity 128 (127 usable).
//   - No reader/writer mutex: rwmutex_read_mostly_4 takes boost::fibers::mutex
//     for reads too. No WaitGroup: waitgroup_fanout_1k counts down under a
//     fibers::mutex + condition_variable.
// Flags: --threads=N --mintime=SECONDS --reps=R --only=NAME
//        --skynet-rss (run skynet once, print time and peak RSS, nothing else)
//        --skynet-stack=BYTES (stack per skynet fiber; default 16384)
#include <sys/resource.h>

#include <algorithm>
#include <boost/fiber/all.hpp>
#include <boost/fiber/algo/work_stealing.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace bf = boost::fibers;

namespace {

long peak_rss_kb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

std::size_t g_skynet_stack = 16 * 1024;

// 1. spawn a fiber that signals completion, wait for it.
void spawn_join(std::int64_t n) {
  bf::buffered_channel<int> done(2);
  for (std::int64_t i = 0; i < n; ++i) {
    bf::fiber([&done] { done.push(1); }).detach();
    int v;
    done.pop(v);
  }
}

// 2. unbuffered ping-pong round trip.
void ping_pong(std::int64_t n) {
  bf::unbuffered_channel<std::int64_t> ping, pong;
  bf::fiber ponger([&] {
    std::int64_t v = 0;
    while (ping.pop(v) == bf::channel_op_status::success) pong.push(v);
  });
  for (std::int64_t i = 0; i < n; ++i) {
    ping.push(i);
    std::int64_t v = 0;
    pong.pop(v);
  }
  ping.close();
  ponger.join();
}

// 3. buffered channel throughput, one producer fiber, main fiber consumes.
void buffered_128(std::int64_t n) {
  bf::buffered_channel<std::int64_t> ch(128);
  bf::fiber producer([&ch, n] {
    for (std::int64_t i = 0; i < n; ++i) ch.push(i);
  });
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t v = 0;
    ch.pop(v);
  }
  producer.join();
}

// 4. "select" over two ready buffered channels (emulated, see header).
void select_two_ready(std::int64_t n) {
  bf::buffered_channel<int> a(2), b(2);
  a.push(1);
  b.push(2);
  std::minstd_rand rng(12345);
  for (std::int64_t i = 0; i < n; ++i) {
    bf::buffered_channel<int>* order[2] = {&a, &b};
    if (rng() & 1) std::swap(order[0], order[1]);
    for (;;) {
      int v;
      if (order[0]->try_pop(v) == bf::channel_op_status::success) {
        order[0]->push(v);
        break;
      }
      if (order[1]->try_pop(v) == bf::channel_op_status::success) {
        order[1]->push(v);
        break;
      }
      boost::this_fiber::yield();
    }
  }
}

// 5. skynet: 1,000,000 leaves, fan-out 10, fresh unbuffered channel per node.
constexpr std::int64_t kSkynetSize = 1'000'000;
constexpr std::int64_t kSkynetWant = kSkynetSize * (kSkynetSize - 1) / 2;

void skynet(bf::unbuffered_channel<std::int64_t>& c, std::int64_t num, std::int64_t size, std::int64_t div) {
  if (size == 1) {
    c.push(num);
    return;
  }
  bf::unbuffered_channel<std::int64_t> rc;  // outlives the children: it is popped div times below
  for (std::int64_t i = 0; i < div; ++i) {
    bf::fiber(std::allocator_arg, bf::fixedsize_stack(g_skynet_stack), skynet, std::ref(rc), num + i * (size / div),
              size / div, div)
        .detach();
  }
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < div; ++i) {
    std::int64_t v = 0;
    rc.pop(v);
    sum += v;
  }
  c.push(sum);
}

void skynet_runs(std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    bf::unbuffered_channel<std::int64_t> c;
    bf::fiber(std::allocator_arg, bf::fixedsize_stack(g_skynet_stack), skynet, std::ref(c), std::int64_t{0},
              kSkynetSize, std::int64_t{10})
        .detach();
    std::int64_t v = 0;
    c.pop(v);
    if (v != kSkynetWant) {
      std::fprintf(stderr, "skynet: got %lld want %lld\n", static_cast<long long>(v), static_cast<long long>(kSkynetWant));
      std::exit(1);
    }
  }
}

// 8. contended boost::fibers::mutex: k fibers each do n/k
// lock-increment-unlock. Per pair.
template <int K>
void mutex_contended(std::int64_t n) {
  bf::mutex mu;
  std::int64_t counter = 0;
  std::vector<bf::fiber> fibers;
  for (int f = 0; f < K; ++f) {
    std::int64_t ops = n / K + (f < n % K ? 1 : 0);
    fibers.emplace_back([&mu, &counter, ops] {
      for (std::int64_t j = 0; j < ops; ++j) {
        mu.lock();
        ++counter;
        mu.unlock();
      }
    });
  }
  for (auto& f : fibers) f.join();
  if (counter != n) {
    std::fprintf(stderr, "mutex: counter %lld want %lld\n", static_cast<long long>(counter), static_cast<long long>(n));
    std::exit(1);
  }
}

// 9. read-mostly: Boost.Fiber has no reader/writer mutex, so every operation
// takes boost::fibers::mutex (reads serialize). 4 fibers share n operations;
// every 20th is a write. Per operation.
std::int64_t g_rw_sink = 0;
void rwmutex_read_mostly_4(std::int64_t n) {
  constexpr int kFibers = 4;
  bf::mutex mu;
  std::int64_t value = 0;
  std::vector<bf::fiber> fibers;
  for (int f = 0; f < kFibers; ++f) {
    std::int64_t ops = n / kFibers + (f < n % kFibers ? 1 : 0);
    fibers.emplace_back([&mu, &value, ops] {
      std::int64_t seen = 0;
      for (std::int64_t j = 0; j < ops; ++j) {
        std::lock_guard<bf::mutex> g(mu);
        if (j % 20 == 0)
          ++value;
        else
          seen += value;
      }
      std::lock_guard<bf::mutex> g(mu);
      g_rw_sink += seen;
    });
  }
  for (auto& f : fibers) f.join();
}

// 10. wait group fan-out: Boost.Fiber has no WaitGroup; the usual one is a
// counter under boost::fibers::mutex + condition_variable. 1,000 detached
// fibers each count down; the main fiber waits for zero. Per fan-out.
struct FiberWaitGroup {
  bf::mutex mu;
  bf::condition_variable cv;
  std::int64_t count = 0;
  void done() {
    std::unique_lock<bf::mutex> l(mu);
    if (--count == 0) cv.notify_all();
  }
  void wait() {
    std::unique_lock<bf::mutex> l(mu);
    cv.wait(l, [this] { return count == 0; });
  }
};
void waitgroup_fanout_1k(std::int64_t n) {
  constexpr int kFanOut = 1000;
  for (std::int64_t i = 0; i < n; ++i) {
    FiberWaitGroup wg;
    wg.count = kFanOut;
    for (int f = 0; f < kFanOut; ++f) bf::fiber([&wg] { wg.done(); }).detach();
    wg.wait();
  }
}

struct Workload {
  const char* name;
  void (*fn)(std::int64_t);
  const char* note;
};

const Workload kWorkloads[] = {
    {"spawn_join", spawn_join, "fiber(...).detach() + buffered_channel(2) signal; default fixedsize_stack"},
    {"pingpong_unbuffered", ping_pong, "two unbuffered_channel"},
    {"chan_buffered_128", buffered_128, "buffered_channel(128): 127 usable slots"},
    {"select_two_ready", select_two_ready, "no select in Boost.Fiber: random-order try_pop emulation"},
    {"skynet_1M", skynet_runs, "unbuffered_channel per node, launch::post, fixedsize_stack"},
    {"mutex_contended_2", mutex_contended<2>, "boost::fibers::mutex"},
    {"mutex_contended_4", mutex_contended<4>, "boost::fibers::mutex"},
    {"rwmutex_read_mostly_4", rwmutex_read_mostly_4, "no RWMutex in Boost.Fiber: reads take boost::fibers::mutex too"},
    {"waitgroup_fanout_1k", waitgroup_fanout_1k, "no WaitGroup: counter + fibers::mutex + condition_variable"},
};

// measure: grows n until one run takes at least min_s seconds; ns/op of it.
double measure(void (*fn)(std::int64_t), double min_s, std::int64_t& n_out) {
  std::int64_t n = 1;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    fn(n);
    double d = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (d >= min_s || n >= (std::int64_t{1} << 30)) {
      n_out = n;
      return d * 1e9 / static_cast<double>(n);
    }
    std::int64_t next = n * 10;
    if (d > 0) {
      auto est = static_cast<std::int64_t>(static_cast<double>(n) * 1.2 * min_s / d);
      if (est < next * 10) next = est;
    }
    n = std::max(next, n + 1);
  }
}

// Helper threads of the work_stealing pool: they run fibers until told to stop.
struct Pool {
  std::vector<std::thread> threads;
  bf::mutex mtx;
  bf::condition_variable cv;
  bool done = false;

  explicit Pool(unsigned n) {
    if (n <= 1) return;  // round_robin on the main thread
    for (unsigned i = 1; i < n; ++i) {
      threads.emplace_back([this, n] {
        bf::use_scheduling_algorithm<bf::algo::work_stealing>(n);
        std::unique_lock<bf::mutex> lk(mtx);
        cv.wait(lk, [this] { return done; });
      });
    }
    bf::use_scheduling_algorithm<bf::algo::work_stealing>(n);
  }
  ~Pool() {
    {
      std::unique_lock<bf::mutex> lk(mtx);
      done = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
  }
};

}  // namespace

int main(int argc, char** argv) {
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  double min_s = 0.5;
  int reps = 3;
  std::string only;
  bool skynet_rss = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char* key) -> const char* {
      std::size_t k = std::strlen(key);
      return a.compare(0, k, key) == 0 ? argv[i] + k : nullptr;
    };
    if (const char* v = val("--threads=")) threads = std::max(1, std::atoi(v));
    else if (const char* v = val("--mintime=")) min_s = std::atof(v);
    else if (const char* v = val("--reps=")) reps = std::max(1, std::atoi(v));
    else if (const char* v = val("--only=")) only = v;
    else if (const char* v = val("--skynet-stack=")) g_skynet_stack = std::strtoull(v, nullptr, 10);
    else if (a == "--skynet-rss") skynet_rss = true;
    else {
      std::fprintf(stderr, "usage: %s [--threads=N] [--mintime=S] [--reps=R] [--only=NAME] [--skynet-rss] [--skynet-stack=B]\n", argv[0]);
      return 2;
    }
  }
  const std::string sched = threads > 1 ? "work_stealing(" + std::to_string(threads) + " threads)" : "round_robin(1 thread)";
  Pool pool(threads);

  if (skynet_rss) {
    auto t0 = std::chrono::steady_clock::now();
    skynet_runs(1);
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"name\":\"skynet_1M\",\"mode\":\"rss\",\"ns_per_op\":%lld,\"peak_rss_kb\":%ld,\"scheduler\":\"%s\",\"skynet_stack\":%zu}\n",
                static_cast<long long>(ns), peak_rss_kb(), sched.c_str(), g_skynet_stack);
    return 0;
  }

  for (const Workload& w : kWorkloads) {
    if (!only.empty() && only != w.name) continue;
    std::vector<double> samples;
    std::int64_t ops = 0;
    for (int r = 0; r < reps; ++r) samples.push_back(measure(w.fn, min_s, ops));
    std::sort(samples.begin(), samples.end());
    std::printf(
        "{\"name\":\"%s\",\"ns_per_op\":%.3f,\"peak_rss_kb\":%ld,\"scheduler\":\"%s\",\"ops\":%lld,\"reps\":%d,"
        "\"note\":\"%s\"}\n",
        w.name, samples[samples.size() / 2], peak_rss_kb(), sched.c_str(), static_cast<long long>(ops), reps, w.note);
    std::fflush(stdout);
  }
  return 0;
}
