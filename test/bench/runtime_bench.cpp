// runtime_bench: fibersan's channel/fiber/context/timer/sync workloads under Google Benchmark.
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

#include <chrono>
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

// 6. context cancel tree: 10,000 contexts (a root, then fan-out 10, each
// made with its done() channel and its CancelFunc kept), cancel the root,
// receive from every done(), then call every CancelFunc (Go's defer cancel()).
// Per whole tree.
constexpr int kCtxTree = 10000;
void BM_ContextCancelTree10k(benchmark::State& state) {
  bool ok = true;
  run_in_fsan(state, [&] {
    std::vector<fsan::Context> ctxs;
    std::vector<fsan::CancelFunc> cancels;
    std::vector<fsan::Chan<fsan::Unit>> dones;
    ctxs.reserve(kCtxTree);
    cancels.reserve(kCtxTree);
    dones.reserve(kCtxTree);
    for (auto _ : state) {
      ctxs.clear();
      cancels.clear();
      dones.clear();
      for (int i = 0; i < kCtxTree; ++i) {
        auto [c, cancel] =
            fsan::with_cancel(i == 0 ? fsan::background() : ctxs[static_cast<std::size_t>((i - 1) / 10)]);
        dones.push_back(c.done());
        ctxs.push_back(std::move(c));
        cancels.push_back(std::move(cancel));
      }
      cancels[0]();
      for (const auto& d : dones) d.recv();
      for (const auto& cancel : cancels) cancel();
    }
    ok = ctxs.back().err() == fsan::CtxError::canceled;
  });
  if (!ok) state.SkipWithError("context tree: leaf not cancelled");
}

// 7. 1,000 fibers each sleep 1 ms ten times while a 1 ms Ticker ticks into a
// consumer fiber; the ticker is stopped once every sleeper is done. Per round.
constexpr int kSleepers = 1000;
constexpr int kSleepsEach = 10;
void BM_Ticker1msSleepers1k(benchmark::State& state) {
  std::int64_t ticks = 0;
  run_in_fsan(state, [&] {
    for (auto _ : state) {
      fsan::Ticker ticker(std::chrono::milliseconds(1));
      auto stop = fsan::make_chan<fsan::Unit>();
      auto counted = fsan::make_chan<std::int64_t>(1);
      fsan::go([c = ticker.c(), stop, counted] {
        std::int64_t n = 0;
        while (fsan::select(fsan::recv_case(c, [&n] { ++n; }), fsan::recv_case(stop)) == 0) {
        }
        counted.send(n);
      });
      auto done = fsan::make_chan<fsan::Unit>(kSleepers);
      for (int i = 0; i < kSleepers; ++i)
        fsan::go([done] {
          for (int j = 0; j < kSleepsEach; ++j) fsan::sleep_for(std::chrono::milliseconds(1));
          done.send(fsan::Unit{});
        });
      for (int i = 0; i < kSleepers; ++i) done.recv();
      ticker.stop();
      stop.close();
      ticks += *counted.recv();
    }
  });
  if (state.iterations() > 0)
    state.counters["ticks_per_round"] = static_cast<double>(ticks) / static_cast<double>(state.iterations());
}

// Sync workloads. Each starts its fibers in the first iteration and waits
// for them in the last, so the time per iteration is the time per operation
// (n = the iterations Google Benchmark asked for, spread over the fibers).
//
// 8. contended Mutex: k fibers each do n/k lock-increment-unlock. Per pair.
template <int K>
void BM_MutexContended(benchmark::State& state) {
  long counter = 0;
  run_in_fsan(state, [&] {
    const auto n = static_cast<std::int64_t>(state.max_iterations);
    fsan::Mutex mu;
    fsan::WaitGroup wg;
    std::int64_t i = 0;
    for (auto _ : state) {
      if (i == 0) {
        wg.add(K);
        for (int f = 0; f < K; ++f)
          fsan::go([&, ops = n / K + (f < n % K ? 1 : 0)] {
            for (std::int64_t j = 0; j < ops; ++j) {
              mu.lock();
              ++counter;
              mu.unlock();
            }
            wg.done();
          });
      }
      if (++i == n) wg.wait();
    }
  });
  if (counter != static_cast<long>(state.iterations())) state.SkipWithError("mutex: lost increments");
}
void BM_MutexContended2(benchmark::State& state) { BM_MutexContended<2>(state); }
void BM_MutexContended4(benchmark::State& state) { BM_MutexContended<4>(state); }

// 9. read-mostly RWMutex: 4 fibers share n operations; every 20th is a write
// (lock, increment), the rest reads (lock_shared, load). Per operation.
void BM_RWMutexReadMostly4(benchmark::State& state) {
  constexpr int kFibers = 4;
  long value = 0;
  run_in_fsan(state, [&] {
    const auto n = static_cast<std::int64_t>(state.max_iterations);
    fsan::RWMutex rw;
    fsan::WaitGroup wg;
    std::int64_t i = 0;
    for (auto _ : state) {
      if (i == 0) {
        wg.add(kFibers);
        for (int f = 0; f < kFibers; ++f)
          fsan::go([&, ops = n / kFibers + (f < n % kFibers ? 1 : 0)] {
            long seen = 0;
            for (std::int64_t j = 0; j < ops; ++j) {
              if (j % 20 == 0) {
                rw.lock();
                ++value;
                rw.unlock();
              } else {
                rw.lock_shared();
                seen += value;
                rw.unlock_shared();
              }
            }
            benchmark::DoNotOptimize(seen);
            wg.done();
          });
      }
      if (++i == n) wg.wait();
    }
  });
}

// 10. WaitGroup fan-out: add(1000), 1,000 fibers each done(), wait(). Per fan-out.
void BM_WaitGroupFanOut1k(benchmark::State& state) {
  constexpr int kFanOut = 1000;
  run_in_fsan(state, [&] {
    for (auto _ : state) {
      fsan::WaitGroup wg;
      wg.add(kFanOut);
      for (int f = 0; f < kFanOut; ++f) fsan::go([&wg] { wg.done(); });
      wg.wait();
    }
  });
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
      {"BM_ContextCancelTree10k", BM_ContextCancelTree10k, benchmark::kMicrosecond},
      {"BM_Ticker1msSleepers1k", BM_Ticker1msSleepers1k, benchmark::kMillisecond},
      {"BM_MutexContended2", BM_MutexContended2, benchmark::kNanosecond},
      {"BM_MutexContended4", BM_MutexContended4, benchmark::kNanosecond},
      {"BM_RWMutexReadMostly4", BM_RWMutexReadMostly4, benchmark::kNanosecond},
      {"BM_WaitGroupFanOut1k", BM_WaitGroupFanOut1k, benchmark::kMicrosecond},
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
