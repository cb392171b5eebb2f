// The race detector's happens-before rules (SEMANTICS.md), one racy/synced
// pair per rule, driven through the instrumentation ABI by hand (the LLVM
// pass emits exactly these calls; the integration fixtures test the pass).
// Each test runs in its own process (ctest), so turning the detector on
// here affects nothing else.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <fsan/fsan.hpp>

#include "race/race_abi.h"

namespace {

// "Instrumented" accessors: what the pass makes of `*p += 1` and `return *p`.
FSAN_NOINLINE void write_int(int* p) {
  __fsan_func_entry(__builtin_return_address(0));
  __fsan_write4(p);
  volatile int* v = p;
  *v = *v + 1;
  __fsan_func_exit();
}
FSAN_NOINLINE int read_int(const int* p) {
  __fsan_func_entry(__builtin_return_address(0));
  __fsan_read4(p);
  int v = *static_cast<const volatile int*>(p);
  __fsan_func_exit();
  return v;
}

class RaceTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { __fsan_init(); }
  template <class F>
  std::vector<fsan::Finding> run(F&& body) {
    fsan::Options o;
    o.workers = GetParam();
    o.print_findings = false;
    rc_ = fsan::run(o, std::forward<F>(body));
    return fsan::findings();
  }
  static std::size_t races(const std::vector<fsan::Finding>& fs) {
    std::size_t n = 0;
    for (const auto& f : fs) n += f.kind == fsan::FindingKind::data_race;
    return n;
  }
  int rc_ = 0;
};

// Top frame of both accesses is one of our accessors.
void expect_accessors(const fsan::Finding& f) {
  ASSERT_EQ(f.accesses.size(), 2u);
  for (const auto& a : f.accesses) {
    ASSERT_FALSE(a.stack.empty());
    EXPECT_TRUE(a.stack[0].function.find("write_int") != std::string::npos ||
                a.stack[0].function.find("read_int") != std::string::npos)
        << a.stack[0].function;
    EXPECT_GT(a.stack[0].line, 0);
  }
}

TEST_P(RaceTest, UnsynchronizedWritesFromTwoFibersRace) {
  static int x = 0;
  auto fs = run([] {
    auto done = fsan::make_chan<int>(2);
    for (int i = 0; i < 2; ++i) fsan::go([done] { write_int(&x); done.send(1); });
    done.recv();
    done.recv();
  });
  ASSERT_EQ(races(fs), 1u);
  expect_accessors(fs[0]);
  EXPECT_EQ(rc_, 66);
  ASSERT_TRUE(fs[0].location.has_value());
  EXPECT_EQ(fs[0].location->kind, "global");
}

TEST_P(RaceTest, WritesOrderedByAChannelDoNotRace) {
  static int x = 0;
  auto fs = run([] {
    auto token = fsan::make_chan<int>();
    auto done = fsan::make_chan<int>();
    fsan::go([=] { write_int(&x); token.send(1); });
    fsan::go([=] { token.recv(); write_int(&x); done.send(1); });
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
  EXPECT_EQ(rc_, 0);
}

TEST_P(RaceTest, GoHappensBeforeTheFiberStarts) {
  static int x = 0;
  auto fs = run([] {
    write_int(&x);
    auto done = fsan::make_chan<int>();
    fsan::go([done] { read_int(&x); done.send(1); });
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, AWriteAfterGoRacesWithTheFiber) {
  static int x = 0;
  auto fs = run([] {
    auto done = fsan::make_chan<int>();
    fsan::go([=] {
      read_int(&x);
      done.send(1);
    });
    write_int(&x);  // after go(): nothing orders it with the fiber's read
    done.recv();
  });
  EXPECT_EQ(races(fs), 1u);
}

TEST_P(RaceTest, AWriteBeforeASendTheFiberReceivesIsOrdered) {
  static int x = 0;
  auto fs = run([] {
    auto done = fsan::make_chan<int>();
    auto started = fsan::make_chan<int>();
    fsan::go([=] {
      started.recv();
      read_int(&x);
      done.send(1);
    });
    write_int(&x);
    started.send(1);  // the send happens before the fiber's receive completes
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, UnbufferedReceiveHappensBeforeTheSendCompletes) {
  static int x = 0;
  auto fs = run([] {
    auto ch = fsan::make_chan<int>();
    auto done = fsan::make_chan<int>(1);
    fsan::go([=] {
      write_int(&x);
      ch.recv();
      done.send(1);
    });
    ch.send(1);
    read_int(&x);  // Go memory model: ordered after the fiber's write
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, BufferedChannelAsSemaphoreOrdersCriticalSections) {
  static int x = 0;
  auto fs = run([] {
    auto sem = fsan::make_chan<int>(1);  // k-th receive happens before the (k+1)-th send completes
    auto done = fsan::make_chan<int>(4);
    for (int i = 0; i < 4; ++i)
      fsan::go([=] {
        sem.send(1);
        write_int(&x);
        sem.recv();
        done.send(1);
      });
    for (int i = 0; i < 4; ++i) done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, CloseHappensBeforeAReceiveThatSeesIt) {
  static int x = 0;
  auto fs = run([] {
    auto ch = fsan::make_chan<int>();
    fsan::go([=] {
      write_int(&x);
      ch.close();
    });
    EXPECT_FALSE(ch.recv().has_value());
    read_int(&x);
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, SleepDoesNotSynchronize) {
  static int x = 0;
  auto fs = run([] {
    auto done = fsan::make_chan<int>(1);
    fsan::go([=] {
      write_int(&x);
      done.send(1);
    });
    fsan::sleep_for(std::chrono::milliseconds(20));
    read_int(&x);  // "after" in time only
    done.recv();
  });
  EXPECT_EQ(races(fs), 1u);
}

TEST_P(RaceTest, ReleaseAcquireAtomicsSynchronize) {
  static int x = 0;
  static std::uint32_t flag = 0;
  auto fs = run([] {
    auto done = fsan::make_chan<int>(1);
    fsan::go([=] {
      write_int(&x);
      __fsan_atomic32_store(&flag, 1, 3 /*release*/);
      done.send(1);
    });
    while (__fsan_atomic32_load(&flag, 2 /*acquire*/) == 0) fsan::yield();
    read_int(&x);
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, RelaxedAtomicsDoNotSynchronize) {
  static int x = 0;
  static std::uint32_t flag = 0;
  auto fs = run([] {
    auto done = fsan::make_chan<int>(1);
    fsan::go([=] {
      write_int(&x);
      __fsan_atomic32_store(&flag, 1, 0 /*relaxed*/);
      done.send(1);
    });
    while (__fsan_atomic32_load(&flag, 0 /*relaxed*/) == 0) fsan::yield();
    read_int(&x);
    done.recv();
  });
  EXPECT_EQ(races(fs), 1u);
}

TEST_P(RaceTest, StandaloneFencesSynchronizeRelaxedAtomics) {
  static int x = 0;
  static std::uint32_t flag = 0;
  auto fs = run([] {
    auto done = fsan::make_chan<int>(1);
    fsan::go([=] {
      write_int(&x);
      __fsan_atomic_thread_fence(3 /*release*/);
      __fsan_atomic32_store(&flag, 1, 0 /*relaxed*/);
      done.send(1);
    });
    while (__fsan_atomic32_load(&flag, 0 /*relaxed*/) == 0) fsan::yield();
    __fsan_atomic_thread_fence(2 /*acquire*/);
    read_int(&x);
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, AnnotationsOrderAccesses) {
  static int x = 0;
  static std::uint32_t flag = 0;
  auto fs = run([] {
    auto done = fsan::make_chan<int>(1);
    fsan::go([=] {
      write_int(&x);
      fsan::annotate_happens_before(&flag);
      __atomic_store_n(&flag, 1, __ATOMIC_RELEASE);  // uninstrumented: invisible to the detector
      done.send(1);
    });
    while (__atomic_load_n(&flag, __ATOMIC_ACQUIRE) == 0) fsan::yield();
    fsan::annotate_happens_after(&flag);
    read_int(&x);
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, BenignRaceAnnotationSilencesReports) {
  static int x = 0;
  fsan::annotate_benign_race(&x, sizeof x, "statistics counter");
  auto fs = run([] {
    auto done = fsan::make_chan<int>(2);
    for (int i = 0; i < 2; ++i) fsan::go([done] { write_int(&x); done.send(1); });
    done.recv();
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, FreedAndReusedHeapMemoryNeverRaces) {
  auto fs = run([] {
    for (int i = 0; i < 50; ++i) {
      auto done = fsan::make_chan<int>();
      int* p = static_cast<int*>(std::malloc(sizeof(int)));
      *p = 0;
      fsan::go([=] {
        write_int(p);
        std::free(p);
        done.send(1);
      });
      done.recv();
      // A fresh block (often the same address) written by another fiber.
      int* q = static_cast<int*>(std::malloc(sizeof(int)));
      fsan::go([=] {
        write_int(q);
        std::free(q);
        done.send(1);
      });
      done.recv();
    }
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, HeapRaceReportsTheBlockAndItsAllocation) {
  auto fs = run([] {
    int* p = static_cast<int*>(std::malloc(sizeof(int) * 4));
    auto done = fsan::make_chan<int>(2);
    for (int i = 0; i < 2; ++i) fsan::go([=] { write_int(p + 1); done.send(1); });
    done.recv();
    done.recv();
    std::free(p);
  });
  ASSERT_EQ(races(fs), 1u);
  ASSERT_TRUE(fs[0].location.has_value());
  EXPECT_EQ(fs[0].location->kind, "heap");
  EXPECT_EQ(fs[0].location->size, sizeof(int) * 4);
}

INSTANTIATE_TEST_SUITE_P(Workers, RaceTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

}  // namespace
