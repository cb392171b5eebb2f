// Exceptions escaping a fiber (SEMANTICS.md "panic"): the finding names the
// exception's type and what(), and its stack is where the exception was
// thrown (recorded by the runtime's __cxa_throw), not where the fiber's
// entry caught it. Exceptions user code catches behave as usual.
#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fsan/fsan.hpp>

#include "fsan_test_util.hpp"

namespace {

using fsan::FindingKind;
using fsan::make_chan;
using fsan::Unit;
using fsan_test::describe;
using fsan_test::first_of_kind;

class ThrowSiteTest : public fsan_test::WorkersTest {};
INSTANTIATE_TEST_SUITE_P(Workers, ThrowSiteTest, ::testing::Values(1, 2, 4), ::testing::PrintToStringParamName());

constexpr int kThrowLine = __LINE__ + 2;
__attribute__((noinline)) void throw_from_deep_helper(int depth) {
  if (depth == 0) throw std::runtime_error("deep boom");
  throw_from_deep_helper(depth - 1);
  asm volatile("");  // not a tail call: each level keeps its frame
}

__attribute__((noinline)) int throw_and_catch_one(int i) {
  try {
    if (i >= 0) throw std::logic_error("caught " + std::to_string(i));
  } catch (const std::logic_error& e) {
    return static_cast<int>(std::string(e.what()).size());
  }
  return 0;
}

__attribute__((noinline)) void rethrow_from_catch() {
  try {
    throw std::out_of_range("rethrown");
  } catch (...) {
    throw;  // __cxa_rethrow: the original site stays
  }
}

// The panic finding of an exception escaping a fiber, and its fiber's stack.
const fsan::Finding* escaped(const std::vector<fsan::Finding>& fs) {
  for (const auto& f : fs)
    if (f.kind == FindingKind::panic && f.message.find("exception escaped fiber") != std::string::npos) return &f;
  return nullptr;
}

bool stack_has(const fsan::FiberInfo& fi, const std::string& function) {
  for (const auto& fr : fi.stack)
    if (fr.function.find(function) != std::string::npos) return true;
  return false;
}

TEST_P(ThrowSiteTest, EscapingExceptionShowsItsThrowSiteAndWhat) {
  int rc = run([&] {
    auto never = make_chan<Unit>();
    fsan::go_named("thrower", [] { throw_from_deep_helper(3); });
    never.recv();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  const fsan::Finding* f = escaped(fs);
  ASSERT_NE(f, nullptr) << describe(fs);
  EXPECT_NE(f->message.find("std::runtime_error: deep boom"), std::string::npos) << f->message;
  ASSERT_EQ(f->fibers.size(), 1u);
  const fsan::FiberInfo& fi = f->fibers[0];
  EXPECT_EQ(fi.name, "thrower");
  ASSERT_FALSE(fi.stack.empty());
  EXPECT_NE(fi.stack[0].function.find("throw_from_deep_helper"), std::string::npos) << fi.stack[0].function;
  EXPECT_NE(fi.stack[0].file.find("throw_site_test.cpp"), std::string::npos);
  EXPECT_EQ(fi.stack[0].line, kThrowLine);
  int levels = 0;
  for (const auto& fr : fi.stack) levels += fr.function.find("throw_from_deep_helper") != std::string::npos ? 1 : 0;
  EXPECT_EQ(levels, 4) << "every recursion level is on the throw-site stack";
  EXPECT_NE(f->summary.find("throw_site_test.cpp:" + std::to_string(kThrowLine)), std::string::npos) << f->summary;
}

TEST_P(ThrowSiteTest, CaughtExceptionsWorkAndTheEscapingOneIsTheOneShown) {
  int total = 0;
  int rc = run([&] {
    auto never = make_chan<Unit>();
    auto done = make_chan<int>();
    // Several fibers throwing and catching at once: each keeps its own record.
    for (int k = 0; k < 4; ++k)
      fsan::go([done] {
        int n = 0;
        for (int i = 0; i < 200; ++i) {
          n += throw_and_catch_one(i);
          if (i % 50 == 0) fsan::yield();
        }
        done.send(n);
      });
    for (int k = 0; k < 4; ++k) total += *done.recv();
    fsan::go([] {
      for (int i = 0; i < 10; ++i) throw_and_catch_one(i);
      rethrow_from_catch();
    });
    never.recv();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  EXPECT_GT(total, 4 * 200 * 8);
  const fsan::Finding* f = escaped(fs);
  ASSERT_NE(f, nullptr) << describe(fs);
  EXPECT_NE(f->message.find("std::out_of_range: rethrown"), std::string::npos) << f->message;
  ASSERT_FALSE(f->fibers[0].stack.empty());
  EXPECT_NE(f->fibers[0].stack[0].function.find("rethrow_from_catch"), std::string::npos)
      << f->fibers[0].stack[0].function;
  EXPECT_FALSE(stack_has(f->fibers[0], "throw_and_catch_one"));
}

TEST_P(ThrowSiteTest, LibraryThrowShowsTheLibraryFrameThenTheCaller) {
  int rc = run([&] {
    auto never = make_chan<Unit>();
    fsan::go([] {
      std::vector<int> v;
      (void)v.at(3);
    });
    never.recv();
  });
  const auto fs = fsan::findings();
  EXPECT_EQ(rc, 66) << describe(fs);
  const fsan::Finding* f = escaped(fs);
  ASSERT_NE(f, nullptr) << describe(fs);
  EXPECT_NE(f->message.find("std::out_of_range"), std::string::npos) << f->message;
  bool in_test = false;
  for (const auto& fr : f->fibers[0].stack)
    in_test = in_test || fr.file.find("throw_site_test.cpp") != std::string::npos;
  EXPECT_TRUE(in_test) << describe(fs);
}

TEST(ThrowSite, ExceptionsOutsideFibersAreUntouched) {
  int caught = 0;
  for (int i = 0; i < 100; ++i) caught += throw_and_catch_one(i) > 0 ? 1 : 0;
  std::thread t([&] { caught += throw_and_catch_one(1) > 0 ? 1 : 0; });
  t.join();
  EXPECT_EQ(caught, 101);
  EXPECT_THROW(throw_from_deep_helper(2), std::runtime_error);
}

TEST_P(ThrowSiteTest, ExceptionCaughtInsideTheFiberIsNoFinding) {
  std::string what;
  int rc = run([&] {
    auto done = make_chan<std::string>();
    fsan::go([done] {
      try {
        throw_from_deep_helper(2);
      } catch (const std::exception& e) {
        done.send(e.what());
      }
    });
    what = *done.recv();
  });
  EXPECT_CLEAN_RUN(rc);
  EXPECT_EQ(what, "deep boom");
}

}  // namespace
