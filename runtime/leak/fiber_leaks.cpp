// Fiber leak reports (fiber_leaks.hpp). The snapshot pins each parked fiber
// only while its stack is probed; a fiber caught running or runnable has no
// stack to show, so the snapshot is retried (a leaked "loop with sleep" is
// almost always asleep). Lock order: g_leak_mu is a leaf, never
// held while snapshotting or publishing.
#include "leak/fiber_leaks.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <fsan/fiber.hpp>
#include <fsan/finding.hpp>

#include "report/report.hpp"
#include "sched/scheduler.hpp"

namespace fsan::detail {
namespace {

// Fibers reported as leaked in the current run (by epoch): a later check of
// the same run (expect_no_leaks, then run end) does not report them again.
std::mutex g_leak_mu;
std::uint64_t g_reported_epoch = 0;
std::set<std::uint64_t> g_reported_ids;

// A fiber caught awake has no stack to show: look again, at uneven
// intervals (a loop sleeping a fixed period must not stay in phase with us),
// while only a few are awake — many awake fibers are a busy program, and a
// snapshot probes every parked fiber.
constexpr int kSnapshotRetries = 40;
constexpr std::size_t kRetryAtMostAwake = 64;

bool already_reported(std::uint64_t epoch, std::uint64_t id) {
  std::lock_guard<std::mutex> g(g_leak_mu);
  return g_reported_epoch == epoch && g_reported_ids.count(id) != 0;
}

void remember_reported(std::uint64_t epoch, const std::vector<std::uint64_t>& ids) {
  std::lock_guard<std::mutex> g(g_leak_mu);
  if (g_reported_epoch != epoch) {
    g_reported_epoch = epoch;
    g_reported_ids.clear();
  }
  g_reported_ids.insert(ids.begin(), ids.end());
}

void pause_briefly(int attempt) {
  const auto d = std::chrono::microseconds(150 * (attempt % 7 + 1));
  if (fsan::fiber_id() != 0)
    fsan::sleep_for(d);  // parks: the fiber we look at may park too
  else
    std::this_thread::sleep_for(d);
}

bool stack_missing(const FiberSnapshot& s) { return s.state != FiberState::waiting || s.n_stack == 0; }

std::string frame_key(const std::vector<Frame>& st) {
  if (st.empty()) return "-";
  const Frame& f = st[0];
  return f.file.empty() ? f.module + "+" + std::to_string(f.offset)
                        : f.function + "@" + f.file + ":" + std::to_string(f.line);
}

// What makes two leaks the same leak: the same wait at the same source line,
// started by the same go() call site (deeper frames may differ, e.g. the
// same worker started at several recursion depths).
std::string same_leak_key(const FiberInfo& fi) {
  return fi.state + "|" + fi.wait_reason + "|" + frame_key(fi.stack) + "|" + frame_key(fi.created_at);
}

std::string plural_fibers(std::size_t n) { return std::to_string(n) + (n == 1 ? " fiber" : " fibers"); }

}  // namespace

std::map<std::uint64_t, std::string> deadlocked_fibers() {
  std::map<std::uint64_t, std::string> out;
  for (const Finding& f : fsan::findings()) {
    if (f.kind != FindingKind::global_deadlock && f.kind != FindingKind::partial_deadlock) continue;
    for (const FiberInfo& fi : f.fibers)
      if (fi.id != 0) out.emplace(fi.id, f.id);
  }
  return out;
}

std::vector<std::string> report_fiber_leaks(const FiberLeakScan& scan) {
  std::uint64_t epoch = 0;
  {
    SchedRef ref;
    if (ref.get() == nullptr) return {};
    epoch = ref.get()->epoch();
  }
  // Pass 1 - snapshot every other fiber not already accounted for.
  std::map<std::uint64_t, std::string> deadlocked;
  std::map<std::string, std::size_t> xref;  // deadlock finding id -> its fibers still alive
  std::vector<FiberSnapshot> snaps;
  for (int attempt = 0;; ++attempt) {
    deadlocked = deadlocked_fibers();
    xref.clear();
    snaps.clear();
    if (!snapshot_run(snaps)) return {};  // the run ended meanwhile
    snaps.erase(std::remove_if(snaps.begin(), snaps.end(),
                               [&](const FiberSnapshot& s) {
                                 if (s.self || s.id == 0) return true;
                                 if (auto d = deadlocked.find(s.id); d != deadlocked.end()) {
                                   ++xref[d->second];
                                   return true;
                                 }
                                 return already_reported(epoch, s.id);
                               }),
                snaps.end());
    const auto awake = static_cast<std::size_t>(std::count_if(snaps.begin(), snaps.end(), stack_missing));
    if (attempt == kSnapshotRetries || awake == 0 || awake > kRetryAtMostAwake) break;
    pause_briefly(attempt);
  }
  if (snaps.empty()) return {};
  sort_snapshots(snaps);
  std::vector<FiberInfo> infos = describe_snapshots(snaps, now_ns());

  // Pass 2 - group identical leaks, in fiber id order.
  std::vector<std::vector<const FiberInfo*>> groups;
  std::map<std::string, std::size_t> group_of;
  for (const FiberInfo& fi : infos) {
    auto [it, fresh] = group_of.emplace(same_leak_key(fi), groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(&fi);
  }

  // Pass 3 - one finding per group.
  std::string note;
  for (const auto& [finding, n] : xref)
    note += (note.empty() ? "; not repeated here: " : ", ") + plural_fibers(n) + " already reported in " + finding;
  const std::string test = scan.test.empty() ? finding_test() : scan.test;
  std::vector<std::string> published;
  std::vector<std::uint64_t> reported;
  for (const auto& g : groups) {
    const FiberInfo& fi = *g.front();
    Finding f;
    f.kind = FindingKind::fiber_leak;
    f.message = "fiber " + std::to_string(fi.id) + (fi.name.empty() ? "" : " \"" + fi.name + "\"");
    if (g.size() > 1) f.message += " (and " + std::to_string(g.size() - 1) + " more like it)";
    f.message += " still alive " + std::to_string(scan.grace_ms) + "ms after " + scan.after;
    if (!test.empty()) f.message += " in test " + test;
    f.message += note;
    f.test = test;
    f.fibers.push_back(fi);
    for (const FiberInfo* member : g) reported.push_back(member->id);
    std::string id;
    if (publish_finding(std::move(f), &id)) published.push_back(id);
  }
  remember_reported(epoch, reported);
  return published;
}

}  // namespace fsan::detail
