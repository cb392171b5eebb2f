// SARIF: the shape code-scanning UIs read (rules per kind, the top user
// frame as location, fingerprints, one codeFlow of thread flows, suppressed
// results marked), and URIs relative to SRCROOT. The schema itself is
// checked by check_sarif_junit.py against the official JSON schema.
#include "sarif_writer.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kinds.hpp"
#include "report_merge.hpp"
#include "report_test_util.hpp"
#include "suppressions.hpp"
#include "user_frames.hpp"

namespace fsan::reports {
namespace {

using nlohmann::json;
using testing::deadlock_json;
using testing::race_json;
using testing::report_json;

Report merged(const std::vector<std::string>& findings) {
  ReportMerger m;
  std::vector<std::string> errors;
  m.add(*parse_report_json(report_json(findings), "/ci/out/fsan.1.json", errors));
  m.add(*parse_report_json(report_json(findings, 2), "/ci/out/fsan.2.json", errors));
  EXPECT_TRUE(errors.empty());
  return m.take();
}

json sarif_of(const Report& r, const std::string& root = "/src/app") {
  SarifOptions o;
  o.source_root = root;
  o.tool_version = "0.1.0";
  return json::parse(render_sarif(r, o));
}

TEST(Sarif, RulesOnePerKindWithDescriptions) {
  json log = sarif_of(merged({}));
  EXPECT_EQ(log["version"], "2.1.0");
  const json& driver = log["runs"][0]["tool"]["driver"];
  EXPECT_EQ(driver["name"], "fibersan");
  EXPECT_EQ(driver["version"], "0.1.0");
  EXPECT_TRUE(driver["informationUri"].get<std::string>().rfind("https://", 0) == 0);
  ASSERT_EQ(driver["rules"].size(), all_kinds.size());
  for (std::size_t i = 0; i < all_kinds.size(); ++i) {
    const json& rule = driver["rules"][i];
    EXPECT_EQ(rule["id"], to_string(all_kinds[i]));
    EXPECT_FALSE(rule["shortDescription"]["text"].get<std::string>().empty());
    EXPECT_FALSE(rule["fullDescription"]["text"].get<std::string>().empty());
    EXPECT_FALSE(rule["help"]["text"].get<std::string>().empty());
  }
  EXPECT_TRUE(log["runs"][0]["results"].empty());
  EXPECT_EQ(log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"], "file:///src/app/");
}

TEST(Sarif, ARaceIsOneResultAtItsTopUserFrameWithBothAccessesAsThreadFlows) {
  json log = sarif_of(merged({race_json("sig-r1")}));
  const json& results = log["runs"][0]["results"];
  ASSERT_EQ(results.size(), 1u);
  const json& r = results[0];
  EXPECT_EQ(r["ruleId"], "data_race");
  EXPECT_EQ(r["ruleIndex"], 0);
  EXPECT_EQ(r["level"], "error");
  EXPECT_EQ(r["message"]["text"], "data race counter.cpp:12:5 in bump() (seen 2 times in 2 processes)");
  EXPECT_EQ(r["occurrenceCount"], 2);
  EXPECT_EQ(r["partialFingerprints"]["fibersanSignature/v1"], "sig-r1");
  const json& phys = r["locations"][0]["physicalLocation"];
  EXPECT_EQ(phys["artifactLocation"]["uri"], "counter.cpp");
  EXPECT_EQ(phys["artifactLocation"]["uriBaseId"], "SRCROOT");
  EXPECT_EQ(phys["region"]["startLine"], 12);
  EXPECT_EQ(phys["region"]["startColumn"], 5);
  ASSERT_EQ(r["codeFlows"].size(), 1u);
  const json& flows = r["codeFlows"][0]["threadFlows"];
  // Two accesses, then the two fibers (stacks not captured: their creation).
  ASSERT_EQ(flows.size(), 4u);
  EXPECT_EQ(flows[0]["message"]["text"], "Write of size 4 by fiber 7 \"worker\"");
  EXPECT_EQ(flows[1]["message"]["text"], "Previous read of size 4 by fiber 8");
  EXPECT_EQ(flows[2]["message"]["text"], "fiber 7 \"worker\" created by fiber 1");
  ASSERT_EQ(flows[0]["locations"].size(), 2u);
  EXPECT_EQ(flows[0]["locations"][0]["location"]["physicalLocation"]["region"]["startLine"], 12);
  EXPECT_EQ(flows[0]["locations"][1]["location"]["physicalLocation"]["region"]["startLine"], 20);
  EXPECT_FALSE(r.contains("suppressions"));
}

TEST(Sarif, DeadlockLocationSkipsTheRuntimesFrames) {
  json log = sarif_of(merged({deadlock_json("d1")}));
  const json& r = log["runs"][0]["results"][0];
  EXPECT_EQ(r["ruleId"], "partial_deadlock");
  EXPECT_EQ(r["ruleIndex"], 2);
  const json& phys = r["locations"][0]["physicalLocation"];
  EXPECT_EQ(phys["artifactLocation"]["uri"], "ab_ba.cpp");  // not fsan/mutex.hpp
  EXPECT_EQ(phys["region"]["startLine"], 12);
  const json& flows = r["codeFlows"][0]["threadFlows"];
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0]["message"]["text"], "fiber 3 \"f3\" [sync.Mutex.Lock]");
  EXPECT_EQ(flows[0]["locations"][0]["importance"], "unimportant");
  EXPECT_EQ(flows[0]["locations"][1]["importance"], "important");
  // Outside SRCROOT: an absolute file URI.
  EXPECT_EQ(flows[0]["locations"][0]["location"]["physicalLocation"]["artifactLocation"]["uri"],
            "file:///work/x/runtime/include/fsan/mutex.hpp");
}

TEST(Sarif, SuppressedFindingsCarryASuppression) {
  Report r = merged({race_json("r1"), deadlock_json("d1")});
  std::vector<std::string> errors;
  apply_suppressions(r, parse_suppressions("race:bump", "ci/supp.txt", errors));
  json log = sarif_of(r);
  const json& results = log["runs"][0]["results"];
  ASSERT_EQ(results.size(), 2u);
  ASSERT_EQ(results[0]["suppressions"].size(), 1u);
  EXPECT_EQ(results[0]["suppressions"][0]["kind"], "external");
  EXPECT_EQ(results[0]["suppressions"][0]["justification"], "suppressed by ci/supp.txt:1: race:bump");
  EXPECT_FALSE(results[1].contains("suppressions"));
}

TEST(Sarif, LoadErrorsAreToolNotifications) {
  Report r = merged({});
  r.errors.push_back("x.json:1:1: empty file, expected a JSON report (byte 1)");
  json log = sarif_of(r);
  const json& inv = log["runs"][0]["invocations"][0];
  EXPECT_EQ(inv["executionSuccessful"], false);
  EXPECT_EQ(inv["toolExecutionNotifications"][0]["message"]["text"], r.errors[0]);
}

TEST(Sarif, FramesWithoutDebugInfoPointAtTheBinary) {
  std::string f = R"j({"kind": "panic", "signature": "p", "fibers": [{"id": 1, "stack":
      [{"module": "/opt/app/bin/app", "offset": "0x4d2", "function": ""}]}]})j";
  json log = sarif_of(merged({f}), "/opt/app");
  const json& r = log["runs"][0]["results"][0];
  const json& phys = r["locations"][0]["physicalLocation"];
  EXPECT_EQ(phys["artifactLocation"]["uri"], "bin/app");
  EXPECT_EQ(phys["address"]["relativeAddress"], 0x4d2);
  EXPECT_FALSE(phys.contains("region"));
}

TEST(Sarif, FindingsWithoutFramesPointAtTheProgram) {
  std::string f = R"j({"kind": "global_deadlock", "signature": "g", "fibers": [{"id": 1, "stack": []}]})j";
  ReportMerger m;
  std::vector<std::string> errors;
  m.add(*parse_report_json(report_json({f}, 5, "/src/app/build/tool"), "/ci/fsan.5.json", errors));
  json log = sarif_of(m.take());
  const json& loc = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
  EXPECT_EQ(loc["uri"], "build/tool");
  EXPECT_EQ(loc["uriBaseId"], "SRCROOT");
}

TEST(ArtifactUri, RelativeUnderTheRootAbsoluteElsewhere) {
  EXPECT_EQ(artifact_uri("/src/app/lib/a.cpp", "/src/app").uri, "lib/a.cpp");
  EXPECT_TRUE(artifact_uri("/src/app/lib/a.cpp", "/src/app/").relative);
  EXPECT_EQ(artifact_uri("/src/app/x/../lib/a.cpp", "/src/app").uri, "lib/a.cpp");
  ArtifactUri outside = artifact_uri("/src/application/a.cpp", "/src/app");
  EXPECT_EQ(outside.uri, "file:///src/application/a.cpp");
  EXPECT_FALSE(outside.relative);
  EXPECT_EQ(artifact_uri("rel/b.cpp", "/src/app").uri, "rel/b.cpp");
  EXPECT_TRUE(artifact_uri("rel/b.cpp", "/src/app").relative);
  EXPECT_EQ(artifact_uri("/src/app/my file#1.cpp", "/src/app").uri, "my%20file%231.cpp");
}

TEST(UserFrames, RuntimeAndLibraryFramesAreNotTheUsers) {
  auto frame = [](std::string fn, std::string file, std::string module = "/tmp/app") {
    Frame f;
    f.function = std::move(fn);
    f.file = std::move(file);
    f.module = std::move(module);
    return f;
  };
  EXPECT_TRUE(is_library_frame(frame("void fsan::Chan<int>::send(int)", "/w/runtime/include/fsan/chan.hpp")));
  EXPECT_TRUE(is_library_frame(frame("fsan::detail::park()", "/w/runtime/sched/park.cpp")));
  EXPECT_TRUE(is_library_frame(frame("__fsan_write4", "")));
  EXPECT_TRUE(is_library_frame(frame("memcpy", "", "/lib/x86_64-linux-gnu/libc.so.6")));
  EXPECT_TRUE(
      is_library_frame(frame("std::vector<int>::push_back(int const&)", "/usr/include/c++/12/bits/stl_vector.h")));
  EXPECT_TRUE(is_library_frame(frame("x", "", "/usr/lib/libfsan.so")));
  EXPECT_FALSE(is_library_frame(frame("worker(fsan::Chan<int>&)", "/src/app/main.cpp")));
  EXPECT_FALSE(is_library_frame(frame("app::runtime::tick()", "/src/app/runtime/clock.cpp")));
  EXPECT_FALSE(is_library_frame(frame("main", "/src/app/main.cpp")));
}

}  // namespace
}  // namespace fsan::reports
