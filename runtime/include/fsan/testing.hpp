// GoogleTest integration (links fsan::testing):
//  - FSAN_TEST(Suite, Name) { body } is a gtest TEST whose body runs as the
//    main fiber of fsan::run (Options from FSAN_OPTIONS, default workers).
//    Every finding of that run (race, deadlock, leak, panic; leaks found
//    when the body returns included) carries Finding::test = "Suite.Name"
//    and fails the test with one failure per finding: "fibersan: [kind]
//    summary (in test Suite.Name)", then the full text report. gtest assertions work in the body and in fibers it starts (a
//    fatal ASSERT_* returns from the function it is in, as usual).
//  - fsan::testing::expect_no_leaks(), like goleak.VerifyNone: fibers other
//    than the caller still alive after a grace period (flag leak_grace_ms)
//    are reported as fiber_leak findings attributed to the current test, and
//    fail it.
// Example:
//   FSAN_TEST(Pipeline, DrainsEveryItem) {
//     auto ch = fsan::make_chan<int>(4);
//     fsan::go([ch] { for (int i = 0; i < 10; ++i) ch.send(i); ch.close(); });
//     int n = 0;
//     for (int x : ch) n += x;
//     EXPECT_EQ(n, 45);
//     fsan::testing::expect_no_leaks();
//   }
#pragma once

#include <gtest/gtest.h>

#include <fsan/fsan.hpp>

namespace fsan::testing {

// expect_no_leaks: waits for every fiber but the caller to exit (polling,
// with short sleeps) until leak_grace_ms passes with no fewer of them alive
// (fibers already reported as deadlocked are not waited for); the ones
// still alive are reported as fiber_leak findings (Go-style header, stack,
// creation stack; identical ones grouped) and fail the current test. A
// fiber reported here is not reported again when the run ends. Call it from a fiber of a run (an FSAN_TEST body), or from
// a thread while a run is in progress. Returns true if there was no leak.
bool expect_no_leaks();

namespace detail {

// run_test_body: runs body() as the main fiber of a run with the options
// from FSAN_OPTIONS and adds a gtest failure for each finding of that run
// (leaks already failed by expect_no_leaks are not failed twice). Returns
// the run's exit status. FSAN_TEST's TEST body is one call of this.
int run_test_body(void (*body)());
int run_test_body(const fsan::Options& o, void (*body)());

}  // namespace detail
}  // namespace fsan::testing

#define FSAN_TEST_BODY_NAME_(suite, name) fsan_test_body_##suite##_##name##_

// FSAN_TEST: a gtest TEST whose body runs as fiber 1 of fsan::run; any
// finding of the run fails the test.
#define FSAN_TEST(suite, name)                                                                      \
  static void FSAN_TEST_BODY_NAME_(suite, name)();                                                  \
  TEST(suite, name) { ::fsan::testing::detail::run_test_body(&FSAN_TEST_BODY_NAME_(suite, name)); } \
  static void FSAN_TEST_BODY_NAME_(suite, name)()
