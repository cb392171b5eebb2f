// The HTML page's parts, checked on records built here: escaping, source
// snippets, the wait-for graph SVG, disassembly of this test binary's own
// code, frame classification, and whole pages (index rows, sections, load
// errors, suppressed findings, hostile strings). The browser test
// (browser_report.py) checks the page the real fixtures produce.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <link.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "html_disasm.hpp"
#include "html_escape.hpp"
#include "html_graph.hpp"
#include "html_report.hpp"
#include "html_source.hpp"
#include "html_stack.hpp"
#include "html_text.hpp"
#include "kinds.hpp"

namespace fsan::reports {
namespace {

std::size_t count_of(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

// A temporary source file, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    path_ = std::filesystem::temp_directory_path() /
            ("fsan_html_test_" + std::to_string(getpid()) + "_" + std::to_string(counter_++) + ".cpp");
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

std::string numbered_lines(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += "line " + std::to_string(i) + (i == 5 ? " <tag> & \"q\"" : "") + "\n";
  return s;
}

Frame user_frame(const std::string& file, int line) {
  Frame f;
  f.pc = 0x5555'0000'1234;
  f.module = "/nonexistent/app";
  f.offset = 0x1234;
  f.function = "bump()";
  f.file = file;
  f.line = line;
  f.column = 5;
  return f;
}

// ---------------------------------------------------------------------------
// Escaping

TEST(HtmlEscape, EscapesMarkupCharacters) {
  EXPECT_EQ(escape_html("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
}

TEST(HtmlEscape, ReplacesInvalidUtf8AndKeepsValidUtf8) {
  EXPECT_EQ(valid_utf8("ok \xC3\xA9"), "ok \xC3\xA9");                    // é stays
  EXPECT_EQ(valid_utf8("bad \xFF end"), "bad \xEF\xBF\xBD end");          // stray byte
  EXPECT_EQ(valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");          // overlong '/'
  EXPECT_EQ(valid_utf8("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
}

TEST(HtmlEscape, IdTokenKeepsOnlySafeCharacters) { EXPECT_EQ(id_token("f7 \"x\"<y>-z"), "f7__x__y_-z"); }

// ---------------------------------------------------------------------------
// Go-style text

TEST(HtmlText, FiberHeaderReadsLikeTheRuntimes) {
  FiberInfo fi;
  fi.id = 7;
  fi.name = "sender";
  fi.state = "waiting";
  fi.wait_reason = "chan send";
  fi.wait_ns = 1'500'000'000;
  EXPECT_EQ(fiber_header_text(fi), "fiber 7 \"sender\" [chan send, 1.5s]");
  fi.wait_ns = 500'000;  // below 1ms: no duration, as the runtime prints it
  EXPECT_EQ(fiber_header_text(fi), "fiber 7 \"sender\" [chan send]");
  fi.wait_ns = 200'000'000'000;
  EXPECT_EQ(fiber_header_text(fi), "fiber 7 \"sender\" [chan send, 3 minutes]");
  fi.wait_reason.clear();
  fi.name.clear();
  fi.state = "runnable";
  EXPECT_EQ(fiber_header_text(fi), "fiber 7 [runnable]");
  EXPECT_EQ(wait_duration_text(90'000'000'000), "1 minute");
  EXPECT_EQ(wait_duration_text(250'000'000), "250ms");
}

// ---------------------------------------------------------------------------
// Source snippets

TEST(HtmlSource, SnippetShowsContextAroundTheLineAndHighlightsIt) {
  TempFile src(numbered_lines(20));
  SourceCache cache;
  std::string html = render_snippet(cache, src.path(), 5, 2);
  EXPECT_EQ(count_of(html, "class=\"src-line"), 5u);  // lines 3..7
  EXPECT_EQ(count_of(html, "class=\"src-line hl\""), 1u);
  EXPECT_NE(html.find("<span class=\"src-line hl\"><span class=\"ln\">5</span>line 5 &lt;tag&gt; &amp; &quot;q&quot;"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find(">3</span>line 3<"), std::string::npos);
  EXPECT_NE(html.find(">7</span>line 7<"), std::string::npos);
  EXPECT_EQ(html.find("line 8"), std::string::npos);
}

TEST(HtmlSource, SnippetIsClippedAtTheFileEdges) {
  TempFile src(numbered_lines(3));
  SourceCache cache;
  std::string html = render_snippet(cache, src.path(), 1, 3);
  EXPECT_EQ(count_of(html, "class=\"src-line"), 3u);
  EXPECT_NE(html.find("class=\"src-line hl\"><span class=\"ln\">1</span>"), std::string::npos);
}

TEST(HtmlSource, NoSnippetForMissingFilesLinesOrBinaryFiles) {
  SourceCache cache;
  EXPECT_EQ(render_snippet(cache, "/nonexistent/dir/x.cpp", 3, 2), "");
  TempFile src(numbered_lines(3));
  EXPECT_EQ(render_snippet(cache, src.path(), 4, 2), "");
  EXPECT_EQ(render_snippet(cache, src.path(), 0, 2), "");
  TempFile binary(std::string("a\0b\nc\n", 6));
  EXPECT_EQ(render_snippet(cache, binary.path(), 1, 2), "");
}

// ---------------------------------------------------------------------------
// Wait-for graph

Graph two_fiber_cycle() {
  Graph g;
  g.nodes = {{"f3", "fiber", "fiber 3 \"a<b> & \\N\""},
             {"m1", "mutex", "Mutex 0x10"},
             {"f2", "fiber", "fiber 2"},
             {"m2", "mutex", "Mutex 0x20"},
             {"c1", "chan", "chan 0x30"}};
  g.edges = {{"f3", "m1", "waits (sync.Mutex.Lock)"},
             {"m1", "f2", "held by"},
             {"f2", "m2", "waits (sync.Mutex.Lock)"},
             {"m2", "f3", "held by"},
             {"c1", "f2", "can send"}};
  g.cycle = {"f3", "m1", "f2", "m2", "f3"};
  return g;
}

TEST(HtmlGraph, RendersABareSvgWithTheCycleHighlighted) {
  std::string svg = render_wait_graph(two_fiber_cycle(), "g1_", {{"f3", "#finding-1-fiber-3"}});
  ASSERT_EQ(svg.rfind("<svg class=\"wait-graph\"", 0), 0u) << svg.substr(0, 200);
  EXPECT_EQ(svg.find("<?xml"), std::string::npos);
  EXPECT_EQ(svg.find("<!DOCTYPE"), std::string::npos);
  EXPECT_EQ(svg.find("<!--"), std::string::npos);
  EXPECT_EQ(count_of(svg, "class=\"node fiber cycle\""), 2u);
  EXPECT_EQ(count_of(svg, "class=\"node mutex cycle\""), 2u);
  EXPECT_EQ(count_of(svg, "class=\"node chan\""), 1u);  // not in the cycle
  EXPECT_EQ(count_of(svg, "class=\"edge cycle\""), 4u);
  EXPECT_NE(svg.find("id=\"g1_n_f3\""), std::string::npos);
  EXPECT_NE(svg.find("<g id=\"g1_graph\" class=\"graph\""), std::string::npos);
  EXPECT_EQ(svg.find("graph0"), std::string::npos);
  EXPECT_NE(svg.find("xlink:href=\"#finding-1-fiber-3\""), std::string::npos);
  // Labels reach the SVG as text: markup escaped, Graphviz's \N not expanded.
  EXPECT_NE(svg.find("fiber 3 &quot;a&lt;b&gt; &amp; \\N&quot;"), std::string::npos) << svg;
  EXPECT_NE(svg.find(">held by<"), std::string::npos);
  EXPECT_NE(svg.find(">can send<"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
}

TEST(HtmlGraph, EdgesToUndeclaredNodesStillDraw) {
  Graph g;
  g.nodes = {{"f1", "fiber", "fiber 1"}};
  g.edges = {{"f1", "wg9", "waits (sync.WaitGroup.Wait)"}};
  std::string svg = render_wait_graph(g, "g2_", {});
  EXPECT_NE(svg.find("<svg class=\"wait-graph\""), std::string::npos);
  EXPECT_NE(svg.find(">wg9<"), std::string::npos);
  EXPECT_EQ(svg.find("cycle"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Disassembly of this binary's own code

struct Located {
  std::string module;
  std::uintptr_t offset = 0;
};

// locate: the module and offset of `pc` as the runtime computes them
// (symbolizer.cpp: pc - dlpi_addr of the object whose PT_LOAD holds it).
Located locate(std::uintptr_t pc) {
  struct Hit {
    std::uintptr_t pc;
    Located out;
  } hit{pc, {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto* h = static_cast<Hit*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type == PT_LOAD && h->pc >= start && h->pc < start + ph.p_memsz) {
            h->out.module = info->dlpi_name != nullptr && info->dlpi_name[0] != '\0'
                                ? info->dlpi_name
                                : std::filesystem::read_symlink("/proc/self/exe").string();
            h->out.offset = h->pc - info->dlpi_addr;
            return 1;
          }
        }
        return 0;
      },
      &hit);
  return hit.out;
}

[[gnu::noinline]] std::uintptr_t return_address_of_this_call() {
  return reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
}

[[gnu::noinline]] extern "C" int fsan_html_test_target(int x) { return x * 3 + 1; }

TEST(HtmlDisasm, MarksTheInstructionAtAFunctionsEntry) {
  Located at = locate(reinterpret_cast<std::uintptr_t>(&fsan_html_test_target));
  ASSERT_FALSE(at.module.empty());
  Disassembler d;
  Disassembly dis = d.around(at.module, at.offset);
  ASSERT_TRUE(dis.error.empty()) << dis.error;
  EXPECT_EQ(dis.symbol, "fsan_html_test_target");
  EXPECT_EQ(dis.symbol_start, at.offset);
  ASSERT_FALSE(dis.lines.empty());
  EXPECT_TRUE(dis.lines.front().at_pc);  // the function's first instruction: nothing of it before
  EXPECT_EQ(dis.lines.front().address, at.offset);
  EXPECT_EQ(dis.lines.size(), static_cast<std::size_t>(Disassembler::kAfter));
}

TEST(HtmlDisasm, AReturnAddressFollowsTheMarkedCall) {
  std::uintptr_t ret = return_address_of_this_call();
  Located at = locate(ret);
  Disassembler d;
  Disassembly dis = d.around(at.module, at.offset);
  ASSERT_TRUE(dis.error.empty()) << dis.error;
  int pc_index = -1;
  for (std::size_t i = 0; i < dis.lines.size(); ++i)
    if (dis.lines[i].at_pc) pc_index = static_cast<int>(i);
  ASSERT_GE(pc_index, 1) << "the call must be shown before the return address";
  EXPECT_EQ(dis.lines[static_cast<std::size_t>(pc_index)].address, at.offset);
  const DisasmLine& call = dis.lines[static_cast<std::size_t>(pc_index - 1)];
  EXPECT_TRUE(call.call_site) << call.text;
  EXPECT_EQ(call.address + call.size, at.offset);
  EXPECT_LE(pc_index, Disassembler::kBefore);
  EXPECT_NE(dis.symbol.find("AReturnAddressFollowsTheMarkedCall"), std::string::npos) << dis.symbol;
}

TEST(HtmlDisasm, AnUnreadableModuleIsOneLine) {
  Disassembler d;
  Disassembly dis = d.around("/nonexistent/libgone.so", 0x1000);
  EXPECT_TRUE(dis.lines.empty());
  EXPECT_NE(dis.error.find("cannot open /nonexistent/libgone.so"), std::string::npos) << dis.error;
  EXPECT_EQ(dis.error.find('\n'), std::string::npos);
  Frame fr;
  fr.module = "/nonexistent/libgone.so";
  fr.offset = 0x1000;
  std::string html = render_disassembly(d, fr);
  EXPECT_EQ(html.rfind("<div class=\"disasm-error\">no disassembly: cannot open", 0), 0u) << html;
}

TEST(HtmlDisasm, ANonElfFileOrAnOffsetOutsideCodeIsAnError) {
  TempFile text("not an ELF file at all, but long enough to have a header's worth of bytes in it.\n");
  Disassembler d;
  EXPECT_NE(d.around(text.path(), 0x10).error.find("not an ELF file"), std::string::npos);
  Located at = locate(reinterpret_cast<std::uintptr_t>(&fsan_html_test_target));
  EXPECT_NE(d.around(at.module, 0x7fff'ffff'0000).error.find("not in an executable segment"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Frames

TEST(HtmlStack, FramesAreClassifiedByWhoseCodeTheyAre) {
  Frame f = user_frame("/src/app/main.cpp", 3);
  EXPECT_EQ(frame_origin(f), FrameOrigin::user);
  f.function = "fsan::Mutex::lock()";
  EXPECT_EQ(frame_origin(f), FrameOrigin::runtime);
  f = user_frame("/work/fibersan/runtime/sched/scheduler.cpp", 10);
  f.function = "run_fiber";
  EXPECT_EQ(frame_origin(f), FrameOrigin::runtime);
  f = user_frame("/usr/lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/bits/std_mutex.h", 229);
  f.function = "std::lock_guard<fsan::Mutex>::lock_guard(fsan::Mutex&)";
  EXPECT_EQ(frame_origin(f), FrameOrigin::system);
  f = Frame{};
  f.module = "/lib/x86_64-linux-gnu/libc.so.6";
  f.function = "__libc_start_call_main";
  EXPECT_EQ(frame_origin(f), FrameOrigin::system);
  // A user directory called "runtime" is still the user's.
  EXPECT_EQ(frame_origin(user_frame("/home/me/runtime/app.cpp", 1)), FrameOrigin::user);
}

TEST(HtmlStack, FrameLineReadsLikeTheTextReportWithTheSnippetBelow) {
  TempFile src(numbered_lines(9));
  StackRenderer r(1, "");
  std::string html = r.frame(user_frame(src.path(), 5), 0, true);
  EXPECT_NE(html.find("<li class=\"frame user\"><details open><summary class=\"frame-line\">"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"fno\">#0</span> <span class=\"fn\">bump()</span>"), std::string::npos);
  EXPECT_NE(html.find(":5:5</span> <span class=\"mod\" title=\"/nonexistent/app\">(app+0x1234)</span>"),
            std::string::npos)
      << html;
  EXPECT_EQ(count_of(html, "class=\"src-line"), 3u);
}

TEST(HtmlStack, FrameWithoutDebugInfoShowsDisassemblyOrWhyNot) {
  StackRenderer r(3, "");
  Frame f;
  f.module = "/nonexistent/libx.so";
  f.offset = 0x40;
  f.function = "";
  std::string html = r.frame(f, 2, false);
  EXPECT_NE(html.find("<span class=\"fn\">&lt;unknown&gt;</span>"), std::string::npos);
  EXPECT_NE(html.find("class=\"disasm-error\""), std::string::npos);

  Located at = locate(reinterpret_cast<std::uintptr_t>(&fsan_html_test_target));
  f.module = at.module;
  f.offset = at.offset;
  html = r.frame(f, 0, true);
  EXPECT_NE(html.find("<div class=\"disasm\">"), std::string::npos) << html;
  EXPECT_EQ(count_of(html, "class=\"insn pc\""), 1u);
}

TEST(HtmlStack, OnlyTheTopUserFrameIsUnfoldedAndLibraryFramesAreDimmed) {
  TempFile src(numbered_lines(9));
  Frame lib = user_frame("/nonexistent/c++/12/bits/std_mutex.h", 229);  // a std:: function: the system's
  lib.function = "std::lock_guard<fsan::Mutex>::lock_guard(fsan::Mutex&)";
  std::vector<Frame> frames = {lib, user_frame(src.path(), 4), user_frame(src.path(), 7)};
  StackRenderer r(1, "");
  std::string html = r.stack(frames, "stack", true, StackRenderer::Unfold::top_user_frame);
  EXPECT_EQ(html.rfind("<details class=\"stack\" open><summary>stack <span class=\"count\">3 frames</span>", 0), 0u);
  EXPECT_EQ(count_of(html, "<li class=\"frame system\">"), 1u);
  EXPECT_EQ(count_of(html, "<li class=\"frame user\">"), 2u);
  EXPECT_EQ(count_of(html, "<details open><summary class=\"frame-line\"><span class=\"fno\">#1</span>"), 1u);
  EXPECT_EQ(count_of(html, "<details open><summary class=\"frame-line\">"), 1u);
  EXPECT_EQ(count_of(html, "class=\"src-line hl\""), 2u);  // folded snippets are still on the page
  html = r.stack(frames, "created by fiber 1 at:", true, StackRenderer::Unfold::none);
  EXPECT_EQ(count_of(html, "<details open><summary class=\"frame-line\">"), 0u);
  EXPECT_NE(r.stack({}, "stack", false, StackRenderer::Unfold::none).find("(no frames)"), std::string::npos);
}

TEST(HtmlStack, CommonSourceRootIsTheSharedDirectory) {
  Frame a = user_frame("/src/app/x/a.cpp", 1), b = user_frame("/src/app/y/b.cpp", 1),
        c = user_frame("/src/apple.cpp", 1);
  EXPECT_EQ(common_source_root({&a, &b}), "/src/app/");
  EXPECT_EQ(common_source_root({&a, &b, &c}), "/src/");
  EXPECT_EQ(common_source_root({&a}), "/src/app/x/");
  Frame d = user_frame("/other/z.cpp", 1);
  EXPECT_EQ(common_source_root({&a, &d}), "");
}

// ---------------------------------------------------------------------------
// Whole pages

MergedFinding race_finding(const std::string& file) {
  MergedFinding m;
  Finding& f = m.finding;
  f.kind = FindingKind::data_race;
  f.summary = "data race counter.cpp:5:5 in bump()";
  f.signature = "abc123";
  FiberInfo w;
  w.id = 7;
  w.name = "worker";
  w.parent_id = 1;
  w.created_at = {user_frame(file, 2)};
  FiberInfo other = w;
  other.id = 8;
  other.name = "";
  f.fibers = {w, other};
  Access a;
  a.fiber = 7;
  a.op = "write";
  a.size = 4;
  a.addr = 0x7f00;
  a.stack = {user_frame(file, 5)};
  Access b = a;
  b.fiber = 8;
  b.op = "read";
  b.held = {HeldLock{0x9000, false, {user_frame(file, 1)}}};
  f.accesses = {a, b};
  Location l;
  l.kind = "global";
  l.name = "hits";
  l.size = 4;
  f.location = l;
  m.tests = {"Counter.Bumps"};
  return m;
}

MergedFinding deadlock_finding(const std::string& file) {
  MergedFinding m;
  Finding& f = m.finding;
  f.kind = FindingKind::partial_deadlock;
  f.summary = "partial deadlock: 2 fibers wait for each other's mutexes";
  f.message = f.summary;
  for (std::uint64_t id : {3, 2}) {
    FiberInfo fi;
    fi.id = id;
    fi.state = "waiting";
    fi.wait_reason = "sync.Mutex.Lock";
    fi.wait_ns = 1'500'000'000;
    fi.parent_id = 1;
    fi.stack = {user_frame(file, static_cast<int>(id))};
    f.fibers.push_back(fi);
  }
  f.graph = two_fiber_cycle();
  m.count = 3;
  return m;
}

TEST(HtmlPage, IndexHasOneRowPerFindingLinkingToItsSection) {
  TempFile src(numbered_lines(9));
  Report r;
  r.processes.push_back(ProcessInfo{"fsan.1.json", 1, {"./app", "--flag x"}, "2026-11-21T20:00:00Z", ""});
  r.findings = {race_finding(src.path()), deadlock_finding(src.path())};
  r.findings[0].processes = {0};
  std::string page = render_html(r, HtmlOptions{});
  ASSERT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count_of(page, "<tr class=\"finding-row\""), 2u);
  EXPECT_NE(page.find("<tr class=\"finding-row\" data-kind=\"data_race\"><td class=\"num\">1</td>"), std::string::npos);
  EXPECT_NE(page.find("<tr class=\"finding-row\" data-kind=\"partial_deadlock\"><td class=\"num\">2</td>"),
            std::string::npos);
  EXPECT_NE(page.find("href=\"#finding-1\""), std::string::npos);
  EXPECT_NE(page.find("id=\"finding-1\" data-kind=\"data_race\""), std::string::npos);
  EXPECT_NE(page.find("id=\"finding-2\" data-kind=\"partial_deadlock\""), std::string::npos);
  EXPECT_NE(page.find("<td>Counter.Bumps</td>"), std::string::npos);
  EXPECT_NE(page.find("<code>./app &#39;--flag x&#39;</code>"), std::string::npos);
  // Self-contained: no external resources of any kind.
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
}

TEST(HtmlPage, RaceShowsBothAccessesHeldLocksAndLocation) {
  TempFile src(numbered_lines(9));
  Report r;
  r.findings = {race_finding(src.path())};
  std::string page = render_html(r, HtmlOptions{});
  EXPECT_EQ(count_of(page, "<div class=\"access "), 2u);
  EXPECT_NE(page.find("<h3>Write of size 4 at 0x7f00 by fiber 7 &quot;worker&quot;:</h3>"), std::string::npos);
  EXPECT_NE(page.find("<h3>Previous read of size 4 at 0x7f00 by fiber 8:</h3>"), std::string::npos);
  EXPECT_NE(page.find("<code>0x9000</code> held shared (read), acquired at:"), std::string::npos);
  EXPECT_NE(page.find("Fiber 7 &quot;worker&quot; created by fiber 1 at:"), std::string::npos);
  EXPECT_NE(page.find("Location is global 'hits' of size 4"), std::string::npos);
  EXPECT_EQ(page.find("class=\"wait-graph\""), std::string::npos);
  EXPECT_NE(page.find("<details class=\"about\"><summary>What this means and how to fix it</summary><p>" +
                      escape_html(kind_text(FindingKind::data_race).description)),
            std::string::npos);
}

TEST(HtmlPage, DeadlockShowsGraphAndGoStyleFiberHeaders) {
  TempFile src(numbered_lines(9));
  Report r;
  r.findings = {deadlock_finding(src.path())};
  std::string page = render_html(r, HtmlOptions{});
  EXPECT_EQ(count_of(page, "<svg class=\"wait-graph\""), 1u);
  EXPECT_NE(page.find("xlink:href=\"#finding-1-fiber-3\""), std::string::npos);
  EXPECT_NE(page.find("id=\"finding-1-fiber-3\"><h3 class=\"fiber-header\">fiber 3 [sync.Mutex.Lock, 1.5s]:"),
            std::string::npos);
  EXPECT_NE(page.find(">created by fiber 1 at: <span class=\"count\">"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"num\">3</td>"), std::string::npos);  // the count
}

TEST(HtmlPage, LoadErrorsAreShownAndHostileStringsStayText) {
  Report r;
  r.errors = {"bad.json:3:17: malformed JSON at byte 95: <unexpected>"};
  MergedFinding m = race_finding("/nonexistent/x.cpp");
  m.finding.summary = "<script>alert(1)</script>";
  m.finding.accesses[0].stack[0].function = "<img src=x onerror=alert(2)>";
  m.finding.fibers[0].name = "</details><b>";
  r.findings = {m};
  std::string page = render_html(r, HtmlOptions{});
  EXPECT_NE(page.find("<section class=\"errors\" id=\"load-errors\""), std::string::npos);
  EXPECT_NE(page.find("<li>bad.json:3:17: malformed JSON at byte 95: &lt;unexpected&gt;</li>"), std::string::npos);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("</details><b>"), std::string::npos);
  EXPECT_EQ(count_of(page, "<script>"), 1u);  // the page's own
}

TEST(HtmlPage, SuppressedFindingsAreCountedButShownOnlyOnRequest) {
  Report r;
  r.findings = {race_finding("/nonexistent/x.cpp")};
  r.findings[0].suppressed = true;
  r.findings[0].suppressed_by = "race:bump";
  std::string page = render_html(r, HtmlOptions{});
  EXPECT_EQ(count_of(page, "<tr class=\"finding-row"), 0u);
  EXPECT_NE(page.find("1 suppressed finding (not shown)"), std::string::npos);
  EXPECT_NE(page.find("No findings."), std::string::npos);
  HtmlOptions all;
  all.show_suppressed = true;
  page = render_html(r, all);
  EXPECT_EQ(count_of(page, "<tr class=\"finding-row suppressed\""), 1u);
  EXPECT_NE(page.find("<code>race:bump</code>"), std::string::npos);
}

TEST(HtmlPage, EmptyReportSaysSo) {
  std::string page = render_html(Report{}, HtmlOptions{});
  EXPECT_NE(page.find("No findings."), std::string::npos);
  EXPECT_NE(page.find("<table id=\"findings\">"), std::string::npos);
  EXPECT_EQ(page.find("id=\"load-errors\""), std::string::npos);
}

}  // namespace
}  // namespace fsan::reports
