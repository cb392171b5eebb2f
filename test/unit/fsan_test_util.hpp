// Shared helpers of the runtime unit tests: a fixture parameterised over the
// worker count (every rule is checked under 1, 2 and 4 workers), run_with(),
// and readers for the findings a run left behind. Tests wait on events only;
// a wait that never ends is turned into a failure by ctest's TIMEOUT.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fsan/fsan.hpp>

namespace fsan_test {

// options_for: default Options except for the worker count.
inline fsan::Options options_for(int workers) {
  fsan::Options o;
  o.workers = workers;
  return o;
}

// run_with: runs body as the main fiber of a fresh run with `workers` workers.
template <class F>
int run_with(int workers, F&& body) {
  fsan::Options o;
  o.workers = workers;
  return fsan::run(o, std::forward<F>(body));
}

// WorkersTest: GetParam() is the worker count. Each suite derives its own
// class and instantiates it with
//   INSTANTIATE_TEST_SUITE_P(Workers, X, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());
class WorkersTest : public ::testing::TestWithParam<int> {
 protected:
  int workers() const { return GetParam(); }
  fsan::Options options() const { return options_for(GetParam()); }
  template <class F>
  int run(F&& body) const {
    return run_with(GetParam(), std::forward<F>(body));
  }
  template <class F>
  int run(const fsan::Options& o, F&& body) const {
    return fsan::run(o, std::forward<F>(body));
  }
};

inline std::size_t count_kind(const std::vector<fsan::Finding>& fs, fsan::FindingKind k) {
  std::size_t n = 0;
  for (const auto& f : fs) n += f.kind == k ? 1 : 0;
  return n;
}

inline const fsan::Finding* first_of_kind(const std::vector<fsan::Finding>& fs, fsan::FindingKind k) {
  for (const auto& f : fs)
    if (f.kind == k) return &f;
  return nullptr;
}

inline const fsan::FiberInfo* fiber_in(const fsan::Finding& f, std::uint64_t id) {
  for (const auto& fi : f.fibers)
    if (fi.id == id) return &fi;
  return nullptr;
}

inline std::size_t count_wait_reason(const fsan::Finding& f, std::string_view reason) {
  std::size_t n = 0;
  for (const auto& fi : f.fibers) n += fi.wait_reason == reason ? 1 : 0;
  return n;
}

// describe: the findings as text, for assertion messages.
inline std::string describe(const std::vector<fsan::Finding>& fs) {
  std::ostringstream os;
  os << fs.size() << " finding(s)";
  for (const auto& f : fs) {
    os << "\n  [" << fsan::to_string(f.kind) << "] message='" << f.message << "' summary='" << f.summary << "'";
    for (const auto& fi : f.fibers)
      os << "\n    fiber " << fi.id << " '" << fi.name << "' state=" << fi.state << " wait_reason='" << fi.wait_reason
         << "'";
  }
  return os.str();
}

inline std::size_t count_occurrences(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t pos = hay.find(needle); pos != std::string_view::npos; pos = hay.find(needle, pos + needle.size()))
    ++n;
  return n;
}

// yield_n: gives other fibers n chances to run. Never a synchronisation by
// itself; it only makes a wrong outcome likely to show.
inline void yield_n(int n) {
  for (int i = 0; i < n; ++i) fsan::yield();
}

// wait_until_blocked: from inside a run, yields until the fiber dump shows at
// least n fibers with wait reason `reason` ("chan send", "chan receive", ...).
// Used where a test needs a fiber parked (FIFO of waiters), not merely started.
inline void wait_until_blocked(std::string_view reason, std::size_t n) {
  while (count_occurrences(fsan::dump_fibers(), reason) < n) fsan::yield();
}

// wait_for_findings: from inside a run, yields until n findings were reported
// (for failures that happen in another fiber; the run may also end by itself).
inline void wait_for_findings(std::size_t n) {
  while (fsan::findings().size() < n) fsan::yield();
}

}  // namespace fsan_test

// EXPECT_CLEAN_RUN: run returned 0 and nothing was reported.
#define EXPECT_CLEAN_RUN(rc)                                                    \
  do {                                                                          \
    const auto fsan_test_fs_ = ::fsan::findings();                              \
    EXPECT_EQ((rc), 0) << ::fsan_test::describe(fsan_test_fs_);                 \
    EXPECT_TRUE(fsan_test_fs_.empty()) << ::fsan_test::describe(fsan_test_fs_); \
  } while (0)
