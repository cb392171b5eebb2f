// The race detector's happens-before rules (SEMANTICS.md), one racy/synced
// pair per rule, driven through the instrumentation ABI by hand (the LLVM
// pass emits exactly these calls; the integration fixtures test the pass).
// Each test runs in its own process (ctest), so turning the detector on
// here affects nothing else.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <fsan/fsan.hpp>

#include "race/race_abi.h"
#include "race/vector_clock.hpp"
#include "report/report.hpp"

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

// Locks held: each access lists the mutexes its fiber held then, with where
// they were taken; the previous access's set comes from its shadow cell.
TEST_P(RaceTest, ReportListsLocksHeldAtBothAccesses) {
  static int x = 0;
  static fsan::Mutex a, b;
  static fsan::RWMutex rw;
  auto fs = run([] {
    auto first_done = fsan::make_chan<int>();
    auto done = fsan::make_chan<int>();
    fsan::go([=] {
      a.lock();
      rw.lock_shared();
      write_int(&x);  // holds a (write) and rw (read)
      rw.unlock_shared();
      a.unlock();
      first_done.close();
    });
    fsan::go([=] {
      b.lock();
      write_int(&x);  // holds only b: unordered with the first write
      b.unlock();
      done.send(1);
    });
    done.recv();
    first_done.recv();
  });
  ASSERT_EQ(races(fs), 1u);
  const fsan::Finding& f = fs[0];
  ASSERT_EQ(f.accesses.size(), 2u);
  auto holds = [](const fsan::Access& acc, const void* m, bool write) {
    for (const auto& h : acc.held)
      if (h.addr == reinterpret_cast<std::uintptr_t>(m) && h.write == write) return !h.acquired_at.empty();
    return false;
  };
  // Either fiber may have written first; one access holds {a, rw(read)}, the other {b}.
  const fsan::Access& with_a = holds(f.accesses[0], &a, true) ? f.accesses[0] : f.accesses[1];
  const fsan::Access& with_b = &with_a == &f.accesses[0] ? f.accesses[1] : f.accesses[0];
  ASSERT_EQ(with_a.held.size(), 2u);
  EXPECT_TRUE(holds(with_a, &a, true));
  EXPECT_TRUE(holds(with_a, &rw, false));
  ASSERT_EQ(with_b.held.size(), 1u);
  EXPECT_TRUE(holds(with_b, &b, true));
  // Where a lock was taken is the user's code (this test), not the runtime.
  EXPECT_NE(with_b.held[0].acquired_at[0].file.find("race_test.cpp"), std::string::npos)
      << with_b.held[0].acquired_at[0].function;
  std::string text = fsan::detail::format_text(f);
  EXPECT_NE(text.find("(write) held, acquired at:"), std::string::npos) << text;
  EXPECT_NE(text.find("(read) held, acquired at:"), std::string::npos) << text;
}

TEST_P(RaceTest, LocksReleasedBeforeTheAccessAreNotListed) {
  static int x = 0;
  static fsan::Mutex m;
  auto fs = run([] {
    auto done = fsan::make_chan<int>(2);
    for (int i = 0; i < 2; ++i)
      fsan::go([done] {
        m.lock();
        m.unlock();
        write_int(&x);
        done.send(1);
      });
    done.recv();
    done.recv();
  });
  ASSERT_EQ(races(fs), 1u);
  for (const auto& acc : fs[0].accesses) EXPECT_TRUE(acc.held.empty());
}

// RWMutex: unlock_shared orders only the next writer, never another reader.
TEST_P(RaceTest, WritesUnderReadLocksRace) {
  static int x = 0;
  static fsan::RWMutex rw;
  auto fs = run([] {
    auto done = fsan::make_chan<int>(2);
    for (int i = 0; i < 2; ++i)
      fsan::go([done] {
        rw.lock_shared();
        write_int(&x);
        rw.unlock_shared();
        done.send(1);
      });
    done.recv();
    done.recv();
  });
  EXPECT_EQ(races(fs), 1u);
}

TEST_P(RaceTest, UnlockSharedHappensBeforeTheNextLock) {
  static int x = 0;
  static fsan::RWMutex rw;
  auto fs = run([] {
    auto read_done = fsan::make_chan<int>(2);
    auto done = fsan::make_chan<int>();
    for (int i = 0; i < 2; ++i)
      fsan::go([read_done] {
        rw.lock_shared();
        read_int(&x);
        rw.unlock_shared();
        read_done.send(1);
      });
    fsan::go([=] {
      // Both readers are out (their unlock_shared happened); nothing else
      // orders them with this writer but the RWMutex.
      while (read_done.len() < 2) fsan::yield();
      rw.lock();
      write_int(&x);
      rw.unlock();
      done.send(1);
    });
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, WriterUnlockHappensBeforeLaterReaders) {
  static int x = 0;
  static fsan::RWMutex rw;
  auto fs = run([] {
    auto written = fsan::make_chan<int>(1);
    auto done = fsan::make_chan<int>(2);
    fsan::go([=] {
      rw.lock();
      write_int(&x);
      rw.unlock();
      written.send(1);
    });
    for (int i = 0; i < 2; ++i)
      fsan::go([=] {
        while (written.len() == 0) fsan::yield();
        rw.lock_shared();
        read_int(&x);
        rw.unlock_shared();
        done.send(1);
      });
    done.recv();
    done.recv();
  });
  EXPECT_EQ(races(fs), 0u);
}

TEST_P(RaceTest, SuppressedRaceIsNotReported) {
  static int x = 0;
  std::string path = ::testing::TempDir() + "race." + std::to_string(getpid()) + ".supp";
  {
    std::ofstream out(path);
    out << "# the accessor's name is enough\nrace:write_in*\n";
  }
  fsan::Options o;
  o.workers = GetParam();
  o.print_findings = false;
  o.suppressions = path;
  int rc = fsan::run(o, [] {
    auto done = fsan::make_chan<int>(2);
    for (int i = 0; i < 2; ++i) fsan::go([done] { write_int(&x); done.send(1); });
    done.recv();
    done.recv();
  });
  std::remove(path.c_str());
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fsan::findings().empty());
}

// VClock::join is max per sid whether or not the other clock's sids are all
// present already (the in-place fast path) or some are new (the merge).
TEST(VClock, JoinTakesTheMaxPerSid) {
  using fsan::detail::race::VClock;
  VClock a, b, c;
  a.set(1, 5);
  a.set(4, 2);
  a.set(9, 7);
  b.set(4, 6);
  b.set(9, 1);
  a.join(b);  // subset: in place
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.get(1), 5u);
  EXPECT_EQ(a.get(4), 6u);
  EXPECT_EQ(a.get(9), 7u);
  c.set(4, 8);
  c.set(5, 3);
  c.set(12, 1);
  a.join(c);  // new sids 5 and 12: merged
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a.get(4), 8u);
  EXPECT_EQ(a.get(5), 3u);
  EXPECT_EQ(a.get(9), 7u);
  EXPECT_EQ(a.get(12), 1u);
  EXPECT_EQ(a.get(2), 0u);
  a.clear();
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.get(4), 0u);
}

INSTANTIATE_TEST_SUITE_P(Workers, RaceTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

}  // namespace
