// Loading fibersan-report/1 files: every field the runtime writes comes
// back; a broken file is one error line with its position and the others
// still load; not-a-report and unknown kinds are errors, not crashes.
#include "report_loader.hpp"

#include <gtest/gtest.h>

#include "report_test_util.hpp"

namespace fsan::reports {
namespace {

using testing::deadlock_json;
using testing::race_json;
using testing::report_json;
using testing::TempDir;

TEST(ReportLoader, ReadsEveryFieldOfARace) {
  std::vector<std::string> errors;
  std::optional<ReportFile> file =
      parse_report_json(report_json({race_json("abc123", 12, "Suite.Name")}), "a.json", errors);
  ASSERT_TRUE(file.has_value());
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(file->process.file, "a.json");
  EXPECT_EQ(file->process.pid, 4242);
  ASSERT_EQ(file->process.argv.size(), 2u);
  EXPECT_EQ(file->process.argv[0], "./app");
  EXPECT_EQ(file->process.started, "2026-11-21T20:00:00Z");
  ASSERT_EQ(file->findings.size(), 1u);
  const Finding& f = file->findings[0];
  EXPECT_EQ(f.id, "data_race-1");
  EXPECT_EQ(f.kind, FindingKind::data_race);
  EXPECT_EQ(f.signature, "abc123");
  EXPECT_EQ(f.summary, "data race counter.cpp:12:5 in bump()");
  EXPECT_EQ(f.test, "Suite.Name");
  ASSERT_EQ(f.fibers.size(), 2u);
  EXPECT_EQ(f.fibers[0].id, 7u);
  EXPECT_EQ(f.fibers[0].name, "worker");
  EXPECT_EQ(f.fibers[0].parent_id, 1u);
  EXPECT_TRUE(f.fibers[0].wait_reason.empty());
  ASSERT_EQ(f.fibers[0].created_at.size(), 1u);
  EXPECT_EQ(f.fibers[0].created_at[0].function, "main");
  ASSERT_EQ(f.accesses.size(), 2u);
  EXPECT_EQ(f.accesses[0].op, "write");
  EXPECT_EQ(f.accesses[0].size, 4u);
  EXPECT_EQ(f.accesses[0].addr, 0x7f0010u);
  ASSERT_EQ(f.accesses[0].stack.size(), 2u);
  const Frame& top = f.accesses[0].stack[0];
  EXPECT_EQ(top.function, "bump()");
  EXPECT_EQ(top.file, "/src/app/counter.cpp");
  EXPECT_EQ(top.line, 12);
  EXPECT_EQ(top.column, 5);
  EXPECT_EQ(top.module, "/tmp/app");
  EXPECT_EQ(top.offset, 0x1234u);
  EXPECT_EQ(top.pc, 0x555500001234u);
  ASSERT_EQ(f.accesses[1].held.size(), 1u);
  EXPECT_FALSE(f.accesses[1].held[0].write);
  EXPECT_EQ(f.accesses[1].held[0].addr, 0x9000u);
  EXPECT_EQ(f.accesses[1].held[0].acquired_at[0].function, "lock_it()");
  ASSERT_TRUE(f.location.has_value());
  EXPECT_EQ(f.location->kind, "heap");
  EXPECT_EQ(f.location->alloc_fiber, 1u);
  EXPECT_EQ(f.location->alloc_stack[0].file, "/src/app/alloc.cpp");
  EXPECT_TRUE(f.graph.empty());
}

TEST(ReportLoader, ReadsADeadlockWithItsGraph) {
  std::vector<std::string> errors;
  std::optional<ReportFile> file = parse_report_json(report_json({deadlock_json("d1")}), "d.json", errors);
  ASSERT_TRUE(file.has_value());
  ASSERT_EQ(file->findings.size(), 1u);
  const Finding& f = file->findings[0];
  EXPECT_EQ(f.kind, FindingKind::partial_deadlock);
  EXPECT_EQ(f.fibers[0].wait_reason, "sync.Mutex.Lock");
  EXPECT_EQ(f.fibers[0].wait_ns, 1500000000);
  ASSERT_EQ(f.graph.nodes.size(), 2u);
  EXPECT_EQ(f.graph.nodes[1].type, "mutex");
  ASSERT_EQ(f.graph.edges.size(), 1u);
  EXPECT_EQ(f.graph.edges[0].label, "waits on");
  EXPECT_EQ(f.graph.cycle, (std::vector<std::string>{"f3", "m1", "f3"}));
  EXPECT_FALSE(f.location.has_value());
}

TEST(ReportLoader, ToleratesMissingOptionalFields) {
  std::vector<std::string> errors;
  std::string minimal = R"j({"schema": "fibersan-report/1", "findings": [{"kind": "fiber_leak"},
      {"kind": "panic", "fibers": [{"id": 1, "stack": [{"function": "f()"}]}]}]})j";
  std::optional<ReportFile> file = parse_report_json(minimal, "m.json", errors);
  ASSERT_TRUE(file.has_value());
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(file->findings.size(), 2u);
  EXPECT_EQ(file->findings[0].kind, FindingKind::fiber_leak);
  EXPECT_TRUE(file->findings[0].fibers.empty());
  EXPECT_EQ(file->findings[1].fibers[0].stack[0].function, "f()");
  EXPECT_EQ(file->findings[1].fibers[0].stack[0].line, 0);
  EXPECT_EQ(file->process.pid, 0);
  EXPECT_TRUE(file->process.argv.empty());
}

TEST(ReportLoader, TruncatedFileIsOneErrorWithFileAndPosition) {
  std::string whole = report_json({race_json("abc")});
  std::string cut = whole.substr(0, whole.size() / 2);
  std::vector<std::string> errors;
  EXPECT_FALSE(parse_report_json(cut, "shard/cut.json", errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  const std::string& e = errors[0];
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_EQ(e.rfind("shard/cut.json:", 0), 0u) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  EXPECT_NE(e.find("(byte " + std::to_string(cut.size() + 1) + ")"), std::string::npos) << e;
  // line:column of the end of the text.
  std::size_t lines = 1 + static_cast<std::size_t>(std::count(cut.begin(), cut.end(), '\n'));
  EXPECT_EQ(e.rfind("shard/cut.json:" + std::to_string(lines) + ":", 0), 0u) << e;
}

TEST(ReportLoader, MalformedJsonNamesLineAndColumn) {
  std::vector<std::string> errors;
  EXPECT_FALSE(parse_report_json("{\n  \"schema\": \"fibersan-report/1\",\n  \"findings\": [}\n", "bad.json", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("bad.json:3:16: malformed JSON: ", 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("(byte 51)"), std::string::npos) << errors[0];
}

TEST(ReportLoader, EmptyFileIsAnError) {
  std::vector<std::string> errors;
  EXPECT_FALSE(parse_report_json("", "empty.json", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "empty.json:1:1: empty file, expected a JSON report (byte 1)");
}

TEST(ReportLoader, WrongSchemaIsAnError) {
  std::vector<std::string> errors;
  std::string doc = report_json({race_json("abc")});
  doc.replace(doc.find("fibersan-report/1"), 17, "fibersan-report/2");
  EXPECT_FALSE(parse_report_json(doc, "v2.json", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "v2.json: unsupported schema \"fibersan-report/2\", expected \"fibersan-report/1\"");
}

TEST(ReportLoader, ValidJsonThatIsNotAReportIsAnError) {
  for (const char* doc :
       {"[1, 2, 3]", "{\"name\": \"package.json\"}", "{\"schema\": 1}", "\"text\"",
        "{\"schema\": \"fibersan-report/1\"}", "{\"schema\": \"fibersan-report/1\", \"findings\": 3}"}) {
    std::vector<std::string> errors;
    EXPECT_FALSE(parse_report_json(doc, "x.json", errors)) << doc;
    ASSERT_EQ(errors.size(), 1u) << doc;
    EXPECT_EQ(errors[0].rfind("x.json: not a fibersan report", 0), 0u) << errors[0];
  }
}

TEST(ReportLoader, UnknownKindCostsOnlyThatFinding) {
  std::vector<std::string> errors;
  std::string doc =
      report_json({race_json("r1"), R"j({"id": "goroutine_leak-1", "kind": "goroutine_leak", "signature": "x"})j",
                   deadlock_json("d1")});
  std::optional<ReportFile> file = parse_report_json(doc, "k.json", errors);
  ASSERT_TRUE(file.has_value());
  ASSERT_EQ(file->findings.size(), 2u);
  EXPECT_EQ(file->findings[0].kind, FindingKind::data_race);
  EXPECT_EQ(file->findings[1].kind, FindingKind::partial_deadlock);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "k.json: finding 2 (goroutine_leak-1): unknown kind \"goroutine_leak\"; skipped");
}

TEST(ReportLoader, FieldOfTheWrongTypeCostsOnlyThatFinding) {
  std::vector<std::string> errors;
  std::string bad = R"j({"id": "panic-1", "kind": "panic", "fibers": [{"id": 1, "stack": [{"line": "twelve"}]}]})j";
  std::string bad_addr = R"j({"id": "data_race-9", "kind": "data_race", "accesses": [{"addr": "0xZZ"}]})j";
  std::optional<ReportFile> file = parse_report_json(report_json({bad, race_json("r1"), bad_addr}), "t.json", errors);
  ASSERT_TRUE(file.has_value());
  ASSERT_EQ(file->findings.size(), 1u);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0],
            "t.json: finding 1 (panic-1): \"fibers[0].stack[0].line\" is string, expected an integer; skipped");
  EXPECT_EQ(errors[1],
            "t.json: finding 3 (data_race-9): \"accesses[0].addr\" is \"0xZZ\", expected an address like \"0x1a2b\"; "
            "skipped");
}

TEST(ReportLoader, InvalidUtf8InANameDoesNotLoseTheFile) {
  std::string doc = report_json({race_json("r1")});
  doc.replace(doc.find("worker"), 1, "\xff");
  std::vector<std::string> errors;
  std::optional<ReportFile> file = parse_report_json(doc, "u.json", errors);
  ASSERT_TRUE(file.has_value());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(file->findings[0].fibers[0].name, "?orker");
}

TEST(ReportLoader, DirectoriesAreSearchedRecursivelyForJsonInSortedOrder) {
  TempDir dir;
  dir.write("b/fsan.2.json", report_json({}));
  dir.write("a/fsan.1.json", report_json({}));
  dir.write("a/fsan.1.json.tmp", "partial");
  dir.write("notes.txt", "not a report");
  std::string explicit_file = dir.write("other.data", report_json({}));
  std::vector<std::string> errors;
  std::vector<std::string> files =
      collect_input_files({dir.path().string(), explicit_file, dir.file("missing.json")}, errors);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], dir.file("a/fsan.1.json"));
  EXPECT_EQ(files[1], dir.file("b/fsan.2.json"));
  EXPECT_EQ(files[2], explicit_file);  // named explicitly: taken whatever its name
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], dir.file("missing.json") + ": no such file or directory");
}

TEST(ReportLoader, AFileReachedTwiceIsReadOnce) {
  TempDir dir;
  std::string f = dir.write("r/fsan.1.json", report_json({race_json("r1")}));
  std::filesystem::create_symlink(f, dir.file("link.json"));
  std::vector<std::string> errors;
  std::vector<std::string> files = collect_input_files({dir.file("r"), f, dir.file("link.json")}, errors);
  EXPECT_EQ(files, (std::vector<std::string>{f}));
  Report r = load_report({dir.file("r"), f});
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].count, 1);
}

TEST(ReportLoader, BrokenFileDoesNotStopTheOthers) {
  TempDir dir;
  dir.write("1.json", report_json({race_json("r1")}, 11));
  std::string whole = report_json({deadlock_json("d1")}, 12);
  dir.write("2.json", whole.substr(0, whole.size() - 40));
  dir.write("3.json", report_json({deadlock_json("d1")}, 13));
  Report r = load_report({dir.path().string()});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind(dir.file("2.json") + ":", 0), 0u) << r.errors[0];
  ASSERT_EQ(r.processes.size(), 2u);
  EXPECT_EQ(r.processes[0].pid, 11);
  EXPECT_EQ(r.processes[1].pid, 13);
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].finding.kind, FindingKind::data_race);
  EXPECT_EQ(r.findings[1].finding.kind, FindingKind::partial_deadlock);
}

TEST(ReportLoader, UnreadableFileIsAnError) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sub.json");  // a directory named .json is searched, not read
  std::vector<std::string> errors;
  EXPECT_FALSE(read_report_file(dir.file("nope.json"), errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind(dir.file("nope.json") + ": cannot open: ", 0), 0u);
  Report r = load_report({dir.path().string()});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.processes.empty());
}

}  // namespace
}  // namespace fsan::reports
