// suppressions=FILE (report/suppressions.hpp): the format, the glob, which
// kinds each type covers, what of a finding is matched, and a bad file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <fsan/fsan.hpp>

#include "report/suppressions.hpp"

namespace {

using fsan::detail::glob_match;
using fsan::detail::is_suppressed;
using fsan::detail::parse_suppressions;
using fsan::detail::Suppression;

fsan::Frame frame(std::string fn, std::string file, std::string module = "/usr/bin/app") {
  fsan::Frame f;
  f.function = std::move(fn);
  f.file = std::move(file);
  f.module = std::move(module);
  f.line = 10;
  return f;
}

fsan::Finding race_in(std::string fn, std::string file) {
  fsan::Finding f;
  f.kind = fsan::FindingKind::data_race;
  fsan::Access a, b;
  a.stack = {frame("main", "main.cpp")};
  b.stack = {frame(std::move(fn), std::move(file)), frame("main", "main.cpp")};
  f.accesses = {a, b};
  return f;
}

std::vector<Suppression> parse_ok(const std::string& text) {
  std::vector<Suppression> rules;
  EXPECT_EQ(parse_suppressions(text, "s.supp", &rules), "");
  return rules;
}

TEST(Glob, UnanchoredPatternMatchesAnywhere) {
  EXPECT_TRUE(glob_match("stats", "legacy_stats_bump()"));
  EXPECT_TRUE(glob_match("legacy_*_bump", "ns::legacy_stats_bump()"));
  EXPECT_FALSE(glob_match("legacy_*_bump", "legacy_stats_inc()"));
}

TEST(Glob, CaretAndDollarAnchor) {
  EXPECT_TRUE(glob_match("^legacy", "legacy_stats_bump()"));
  EXPECT_FALSE(glob_match("^stats", "legacy_stats_bump()"));
  EXPECT_TRUE(glob_match("*.cpp$", "/src/a/b.cpp"));
  EXPECT_FALSE(glob_match("b.cp$", "/src/a/b.cpp"));
  EXPECT_TRUE(glob_match("^*$", "anything"));
}

TEST(Glob, StarBacktracksAcrossRepeats) {
  EXPECT_TRUE(glob_match("^a*b*c$", "aXbYbZc"));
  EXPECT_FALSE(glob_match("^a*b*c$", "aXbYbZ"));
}

TEST(Suppressions, CommentsAndBlankLinesAreIgnored) {
  auto rules = parse_ok("# header\n\n  race:foo  \n\t# indented comment\ndeadlock:bar\nleak:baz\npanic:qux\n");
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[0].pattern, "foo");
}

TEST(Suppressions, BadLineNamesFileAndLine) {
  std::vector<Suppression> rules;
  std::string err = parse_suppressions("race:ok\n\nthread:bad\n", "my.supp", &rules);
  EXPECT_NE(err.find("my.supp:3"), std::string::npos) << err;
  EXPECT_NE(err.find("thread"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << "one line";
  err = parse_suppressions("race foo\n", "my.supp", &rules);
  EXPECT_NE(err.find("my.supp:1"), std::string::npos) << err;
  err = parse_suppressions("race:\n", "my.supp", &rules);
  EXPECT_NE(err.find("my.supp:1"), std::string::npos) << err;
}

TEST(Suppressions, RaceMatchesFunctionFileOrModuleOfAnyFrame) {
  EXPECT_TRUE(is_suppressed(race_in("legacy_stats_bump()", "legacy.cpp"), parse_ok("race:legacy_stats_*")));
  EXPECT_TRUE(is_suppressed(race_in("f()", "/src/third_party/zlib/x.c"), parse_ok("race:third_party/*")));
  fsan::Finding in_lib = race_in("f()", "x.c");
  in_lib.accesses[1].stack[0].module = "/usr/lib/libfoo.so";
  EXPECT_TRUE(is_suppressed(in_lib, parse_ok("race:libfoo.so")));
  EXPECT_FALSE(is_suppressed(race_in("f()", "x.c"), parse_ok("race:legacy_stats_*")));
}

TEST(Suppressions, RaceMatchesGlobalNameAndCreationStacks) {
  fsan::Finding f = race_in("f()", "x.c");
  f.location = fsan::Location{};
  f.location->kind = "global";
  f.location->name = "g_request_count";
  EXPECT_TRUE(is_suppressed(f, parse_ok("race:^g_request_count$")));
  fsan::FiberInfo fi;
  fi.created_at = {frame("start_pollers()", "poll.cpp")};
  f.fibers.push_back(fi);
  EXPECT_TRUE(is_suppressed(f, parse_ok("race:start_pollers")));
}

TEST(Suppressions, EachTypeCoversOnlyItsKinds) {
  auto with_kind = [](fsan::FindingKind k) {
    fsan::Finding f;
    f.kind = k;
    fsan::FiberInfo fi;
    fi.stack = {frame("worker()", "w.cpp")};
    f.fibers.push_back(fi);
    return f;
  };
  using K = fsan::FindingKind;
  auto deadlock = parse_ok("deadlock:worker");
  EXPECT_TRUE(is_suppressed(with_kind(K::global_deadlock), deadlock));
  EXPECT_TRUE(is_suppressed(with_kind(K::partial_deadlock), deadlock));
  EXPECT_TRUE(is_suppressed(with_kind(K::lock_order_inversion), deadlock));
  EXPECT_FALSE(is_suppressed(with_kind(K::fiber_leak), deadlock));
  auto leak = parse_ok("leak:worker");
  EXPECT_TRUE(is_suppressed(with_kind(K::fiber_leak), leak));
  EXPECT_TRUE(is_suppressed(with_kind(K::timer_leak), leak));
  EXPECT_TRUE(is_suppressed(with_kind(K::lost_cancel), leak));
  EXPECT_FALSE(is_suppressed(with_kind(K::panic), leak));
  EXPECT_TRUE(is_suppressed(with_kind(K::panic), parse_ok("panic:worker")));
  EXPECT_FALSE(is_suppressed(with_kind(K::data_race), parse_ok("panic:worker")));
}

// A run refuses to start with a bad suppressions file (exit 2, one line on
// stderr), as ThreadSanitizer does.
TEST(Suppressions, MissingFileRefusesTheRun) {
  fsan::Options o;
  o.workers = 1;
  o.suppressions = "/nonexistent/dir/fsan.supp";
  bool ran = false;
  testing::internal::CaptureStderr();
  int rc = fsan::run(o, [&] { ran = true; });
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 2);
  EXPECT_FALSE(ran);
  EXPECT_NE(err.find("/nonexistent/dir/fsan.supp"), std::string::npos) << err;
}

TEST(Suppressions, BadLineRefusesTheRun) {
  std::string path = ::testing::TempDir() + "bad." + std::to_string(getpid()) + ".supp";
  {
    std::ofstream out(path);
    out << "race:ok\nrace_typo:x\n";
  }
  fsan::Options o;
  o.workers = 1;
  o.suppressions = path;
  bool ran = false;
  testing::internal::CaptureStderr();
  int rc = fsan::run(o, [&] { ran = true; });
  std::string err = testing::internal::GetCapturedStderr();
  std::remove(path.c_str());
  EXPECT_EQ(rc, 2);
  EXPECT_FALSE(ran);
  EXPECT_NE(err.find(path + ":2"), std::string::npos) << err;
}

}  // namespace
