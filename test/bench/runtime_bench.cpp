// runtime_bench: fibersan's channel/fiber workloads under Google Benchmark.
// The same workloads as go/main.go and boost_fiber_bench.cpp (see README in
// scripts/bench). Each benchmark function creates ONE scheduler (fsan::run)
// and runs the Google Benchmark state loop inside the main fiber, so the
// scheduler start/stop is outside the timed region and never per iteration.
// Times are wall clock (UseRealTime); CPU time is the whole process's.
//
// Extra flag (consumed before Google Benchmark sees argv):
//   --fsan_workers=LIST   comma-separated worker counts to register each
//                         workload with (default "0" = one per hardware thread)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <functional>  // fsan/fiber.hpp uses std::invoke without including it

#include <fsan/fsan.hpp>

#include "skynet.hpp"

namespace {

// run_in_fsan: one fsan::run per call of the benchmark function; body runs as
// the main fiber and contains the state loop.
template <class Body>
void run_in_fsan(benchmark::State& state, Body&& body) {
  fsan::Options o;
  o.workers = static_cast<int>(state.range(0));
  int rc = fsan::run(o, [&] { body(); });
  if (rc != 0) state.SkipWithError(("fsan::run returned " + std::to_string(rc) + " (findings reported)").c_str());
}

// 1. spawn a fiber that signals completion, wait for it. Per op.
void BM_SpawnJoin(benchmark::State& state) {
  run_in_fsan(state, [&] {
    auto done = fsan::make_chan<fsan::Unit>(1);
    for (auto _ : state) {
      fsan::go([done] { done.send(fsan::Unit{}); });
      done.recv();
    }
  });
}

// 2. unbuffered ping-pong between two fibers over two channels. Per round trip.
void BM_PingPong(benchmark::State& state) {
  run_in_fsan(state, [&] {
    auto ping = fsan::make_chan<int>();
    auto pong = fsan::make_chan<int>();
    fsan::go([ping, pong] {
      for (int v : ping) pong.send(v);
    });
    int i = 0;
    for (auto _ : state) {
      ping.send(i++);
      benchmark::DoNotOptimize(pong.recv());
    }
    ping.close();
  });
}

// 3. buffered channel (cap 128): one producer fiber, the main fiber consumes.
// Per element.
void BM_ChanBuffered128(benchmark::State& state) {
  run_in_fsan(state, [&] {
    auto ch = fsan::make_chan<int>(128);
    const auto n = static_cast<std::int64_t>(state.max_iterations);
    fsan::go([ch, n] {
      for (std::int64_t i = 0; i < n; ++i) ch.send(static_cast<int>(i));
    });
    for (auto _ : state) benchmark::DoNotOptimize(ch.recv());
  });
}

// 4. select over two ready buffered channels; the value received is put back
// into its channel so both stay ready. Per select (+ the refill send).
void BM_SelectTwoReady(benchmark::State& state) {
  run_in_fsan(state, [&] {
    auto a = fsan::make_chan<int>(1);
    auto b = fsan::make_chan<int>(1);
    a.send(1);
    b.send(2);
    for (auto _ : state) {
      fsan::select(fsan::recv_case(a, [&](std::optional<int> v) { a.send(*v); }),
                   fsan::recv_case(b, [&](std::optional<int> v) { b.send(*v); }));
    }
  });
}

// 5. skynet, 1,000,000 leaves. Per whole run.
void BM_Skynet(benchmark::State& state) {
  bool ok = true;
  run_in_fsan(state, [&] {
    for (auto _ : state) {
      if (fsanbench::fsan_skynet_root() != fsanbench::kSkynetWant) ok = false;
    }
  });
  if (!ok) state.SkipWithError("skynet: wrong sum");
}

std::vector<long> parse_workers(int& argc, char** argv) {
  std::vector<long> out;
  int w = 1;
  for (int r = 1; r < argc; ++r) {
    const char* a = argv[r];
    const char* key = "--fsan_workers=";
    if (std::strncmp(a, key, std::strlen(key)) == 0) {
      std::string list = a + std::strlen(key);
      std::size_t pos = 0;
      while (pos <= list.size()) {
        std::size_t comma = list.find(',', pos);
        std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!item.empty()) out.push_back(std::strtol(item.c_str(), nullptr, 10));
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      continue;
    }
    argv[w++] = argv[r];
  }
  argc = w;
  argv[argc] = nullptr;
  if (out.empty()) out.push_back(0);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<long> workers = parse_workers(argc, argv);
  struct Entry {
    const char* name;
    void (*fn)(benchmark::State&);
    benchmark::TimeUnit unit;
  };
  const Entry entries[] = {
      {"BM_SpawnJoin", BM_SpawnJoin, benchmark::kNanosecond},
      {"BM_PingPong", BM_PingPong, benchmark::kNanosecond},
      {"BM_ChanBuffered128", BM_ChanBuffered128, benchmark::kNanosecond},
      {"BM_SelectTwoReady", BM_SelectTwoReady, benchmark::kNanosecond},
      {"BM_Skynet", BM_Skynet, benchmark::kMillisecond},
  };
  for (const Entry& e : entries) {
    auto* b = benchmark::RegisterBenchmark(e.name, e.fn);
    b->ArgName("workers")->UseRealTime()->MeasureProcessCPUTime()->Unit(e.unit);
    for (long w : workers) b->Arg(w);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("fsan_hardware_threads", std::to_string(std::thread::hardware_concurrency()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
