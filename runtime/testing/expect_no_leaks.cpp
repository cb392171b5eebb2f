// fsan::testing::expect_no_leaks (include/fsan/testing.hpp), goleak's
// VerifyNone: poll num_fibers() with short, growing sleeps until only the
// caller is left or leak_grace_ms has passed; then snapshot the fibers still
// alive (parked ones are probed for their stacks) and report them. Fibers
// whose wait reason, stack and creation stack are all the same are one
// finding ("and 9 more like it"), so a leaked pool reads as one leak.
#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fsan/testing.hpp>

#include "report/report.hpp"
#include "sched/scheduler.hpp"
#include "testing/failed_findings.hpp"

namespace fsan::testing {
namespace {

using fsan::detail::FiberSnapshot;

std::string current_test_name() {
  const ::testing::TestInfo* t = ::testing::UnitTest::GetInstance()->current_test_info();
  if (t == nullptr) return "";
  return std::string(t->test_suite_name()) + "." + t->name();
}

void pause(std::chrono::milliseconds d) {
  if (fsan::fiber_id() != 0)
    fsan::sleep_for(d);  // parks: the fibers we wait for can run here
  else
    std::this_thread::sleep_for(d);
}

// What makes two leaks the same leak: the same wait, at the same source
// lines, created at the same source lines (a call site the compiler
// duplicated, e.g. by unrolling a loop, is still one site).
std::string same_leak_key(const FiberInfo& fi) {
  std::string key = fi.wait_reason + "|" + fi.state;
  for (const auto* st : {&fi.stack, &fi.created_at}) {
    key += "|";
    for (const Frame& f : *st)
      key += f.file.empty() ? std::to_string(f.offset) + "@" + f.module + ";"
                            : f.function + "@" + f.file + ":" + std::to_string(f.line) + ";";
  }
  return key;
}

}  // namespace

bool expect_no_leaks() {
  int grace_ms = 0;
  {
    fsan::detail::SchedRef ref;
    if (ref.get() == nullptr) {
      ADD_FAILURE() << "fibersan: expect_no_leaks() called with no fsan::run in progress";
      return false;
    }
    grace_ms = ref.get()->options().leak_grace_ms;
  }
  const std::size_t self = fsan::fiber_id() != 0 ? 1 : 0;
  auto others = [&] {
    std::size_t n = fsan::num_fibers();
    return n > self ? n - self : 0;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  auto delay = std::chrono::milliseconds(1);
  while (others() > 0) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    pause(std::min(
        delay, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + std::chrono::milliseconds(1)));
    delay = std::min(delay * 2, std::chrono::milliseconds(50));
  }
  if (others() == 0) return true;

  std::vector<FiberSnapshot> snaps;
  if (!fsan::detail::snapshot_run(snaps)) return true;  // the run ended meanwhile
  const std::int64_t now = fsan::detail::now_ns();
  snaps.erase(std::remove_if(snaps.begin(), snaps.end(), [](const FiberSnapshot& s) { return s.self || s.id == 0; }),
              snaps.end());
  if (snaps.empty()) return true;
  fsan::detail::sort_snapshots(snaps);
  std::vector<FiberInfo> infos = fsan::detail::describe_snapshots(snaps, now);

  std::vector<std::vector<const FiberInfo*>> groups;
  std::map<std::string, std::size_t> group_of;
  for (const FiberInfo& fi : infos) {
    auto [it, fresh] = group_of.emplace(same_leak_key(fi), groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(&fi);
  }
  const std::string test = current_test_name();
  for (const auto& g : groups) {
    const FiberInfo& fi = *g.front();
    Finding f;
    f.kind = FindingKind::fiber_leak;
    f.message = "fiber " + std::to_string(fi.id) + (fi.name.empty() ? "" : " \"" + fi.name + "\"");
    if (g.size() > 1) f.message += " (and " + std::to_string(g.size() - 1) + " more like it)";
    f.message += " still alive " + std::to_string(grace_ms) + "ms after expect_no_leaks()";
    if (!test.empty()) f.message += " in test " + test;
    f.fibers.push_back(fi);
    std::string id;
    if (!fsan::detail::publish_finding(f, &id)) continue;
    // publish_finding filled in the summary; rebuild it for the message.
    for (const Finding& stored : fsan::findings())
      if (stored.id == id) {
        ADD_FAILURE() << "fibersan: [fiber_leak] " << stored.summary << "\n" << fsan::detail::format_text(stored);
        break;
      }
    detail::note_failed_finding(id);
  }
  return false;
}

}  // namespace fsan::testing
