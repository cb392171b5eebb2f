// The text report of `fsan report` (reports/text_report.cpp, the JUnit
// failure bodies) must read exactly like the runtime's own stderr block
// (runtime/report/text_printer.cpp): both printers over the same findings,
// every kind and location kind, compared byte for byte. Built apart from the
// other reports tests because it links libfsan itself.
#include <gtest/gtest.h>
#include <unistd.h>

#include "report/report.hpp"
#include "text_report.hpp"

namespace {

using fsan::Finding;
using fsan::FindingKind;
using fsan::Frame;

Frame frame(const char* fn, const char* file, int line, int column, const char* module, std::uintptr_t offset) {
  Frame f;
  f.pc = 0x555500000000 + offset;
  f.function = fn;
  f.file = file;
  f.line = line;
  f.column = column;
  f.module = module;
  f.offset = offset;
  return f;
}

Finding race(const char* location_kind) {
  Finding f;
  f.kind = FindingKind::data_race;
  f.summary = "data race counter.cpp:12:5 in bump()";
  f.message = "data race";
  fsan::FiberInfo a, b;
  a.id = 7;
  a.name = "worker";
  a.parent_id = 1;
  a.created_at = {frame("main", "/src/counter.cpp", 19, 7, "/bin/app", 0x100)};
  b.id = 8;
  b.parent_id = 1;
  f.fibers = {a, b};
  fsan::Access w, r;
  w.fiber = 7;
  w.op = "write";
  w.size = 4;
  w.addr = 0x7f0010;
  w.stack = {frame("bump()", "/src/counter.cpp", 12, 5, "/bin/app", 0x200),
             frame("<lambda>", "", 0, 0, "/bin/app", 0x300)};
  r = w;
  r.fiber = 8;
  r.op = "read";
  r.atomic = true;
  f.accesses = {w, r};
  fsan::Location l;
  l.kind = location_kind;
  l.size = 4;
  l.name = std::string(location_kind) == "heap" ? "heap block of size 4 at 0x7f0010" : "counter";
  l.alloc_fiber = 1;
  l.alloc_stack = {frame("make()", "/src/alloc.cpp", 3, 0, "/lib/libapp.so", 0x40)};
  f.location = l;
  return f;
}

Finding blocked(FindingKind kind) {
  Finding f;
  f.kind = kind;
  f.summary = "partial deadlock ab.cpp:12:5 in a()";
  f.message = "fibers 3 and 4 wait for each other";
  fsan::FiberInfo a, b, t;
  a.id = 3;
  a.name = "a";
  a.state = "waiting";
  a.wait_reason = "sync.Mutex.Lock";
  a.wait_ns = 1'500'000'000;
  a.parent_id = 1;
  a.stack = {frame("a()", "/src/ab.cpp", 12, 5, "/bin/app", 0x10)};
  a.created_at = {frame("main", "/src/ab.cpp", 30, 3, "/bin/app", 0x20)};
  b = a;
  b.id = 4;
  b.name = "";
  b.wait_ns = 250'000'000'000;
  t.id = 0;
  t.name = "foreign thread 4242";
  t.state = "waiting";
  t.wait_reason = "chan receive";
  t.wait_ns = 500;
  f.fibers = {a, b, t};
  return f;
}

TEST(TextParity, RacesWithEveryLocationKind) {
  for (const char* kind : {"heap", "global", "stack", "unknown"}) {
    Finding f = race(kind);
    EXPECT_EQ(fsan::reports::format_finding_text(f, getpid()), fsan::detail::format_text(f)) << kind;
  }
  Finding no_location = race("heap");
  no_location.location.reset();
  EXPECT_EQ(fsan::reports::format_finding_text(no_location, getpid()), fsan::detail::format_text(no_location));
}

TEST(TextParity, EveryBlockingKindAndPanic) {
  for (FindingKind k :
       {FindingKind::global_deadlock, FindingKind::partial_deadlock, FindingKind::lock_order_inversion,
        FindingKind::fiber_leak, FindingKind::timer_leak, FindingKind::lost_cancel, FindingKind::panic}) {
    Finding f = blocked(k);
    EXPECT_EQ(fsan::reports::format_finding_text(f, getpid()), fsan::detail::format_text(f)) << fsan::to_string(k);
  }
}

TEST(TextParity, FramesWithoutDebugInfo) {
  Frame f = frame("", "", 0, 0, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x29d90);
  EXPECT_EQ(fsan::reports::format_frame_text(f), fsan::detail::format_frame(f));
  Frame g = frame("main", "/src/m.cpp", 4, 0, "m", 0x1);
  EXPECT_EQ(fsan::reports::format_frame_text(g), fsan::detail::format_frame(g));
}

}  // namespace
