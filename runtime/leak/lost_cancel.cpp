// lost_cancel reports (lost_cancel.hpp). Cold: runs once per lost CancelFunc
// and deduplicated by creation site and drop site (the message names the
// creation site, the fiber's stack is the drop site), so a loop losing the
// same cancel a thousand times is one finding.
#include "leak/lost_cancel.hpp"

#include <mutex>
#include <set>
#include <string>

#include "base/stack_trace.hpp"
#include "base/symbolizer.hpp"
#include "context/context_node.hpp"
#include "report/report.hpp"
#include "sched/scheduler.hpp"

namespace fsan::detail {
namespace {

// Library frames (std::pair's destructor, a container's) between the
// CancelFunc's destructor and the user's code say nothing about where the
// user dropped it.
bool is_library_frame(const Frame& f) {
  return f.function.rfind("std::", 0) == 0 || f.file.find("/c++/") != std::string::npos;
}

// Raw-pc keys (creation site + drop stack) already reported in the current
// run (by epoch): a repeat is dropped before the costly symbolization.
std::mutex g_seen_mu;
std::uint64_t g_seen_epoch = 0;
std::set<std::uint64_t> g_seen;

bool first_time(std::uint64_t epoch, const CancelHandle& h, const std::uintptr_t* pcs, int n) {
  std::uint64_t key = 1469598103934665603ull;
  auto mix = [&key](std::uintptr_t v) { key = (key ^ v) * 1099511628211ull; };
  mix(h.site.n > 0 ? h.site.pcs[0] : 0);  // the call site: exact (deeper frame-pointer frames may not be)
  for (int i = 0; i < n; ++i) mix(pcs[i]);
  std::lock_guard<std::mutex> g(g_seen_mu);
  if (g_seen_epoch != epoch) {
    g_seen_epoch = epoch;
    g_seen.clear();
  }
  return g_seen.insert(key).second;
}

}  // namespace

void report_lost_cancel(const CancelHandle& h) {
  std::uint64_t epoch = 0;
  {
    SchedRef ref;
    if (ref.get() == nullptr || !ref.get()->options().detect_leaks || ref.get()->stopping()) return;
    epoch = ref.get()->epoch();
  }
  std::uintptr_t pcs[kMaxProbeFrames];
  const int n = capture_stack(pcs, kMaxProbeFrames, 0);
  if (!first_time(epoch, h, pcs, n)) return;
  Finding f;
  f.kind = FindingKind::lost_cancel;
  FiberInfo fi;
  if (Fiber* self = current_fiber()) {
    fi = describe_fiber(self, pcs, 0);
  } else {
    fi.name = "thread outside the run";
  }
  fi.state = "running";
  fi.stack = filter_user_frames(symbolize(pcs, n));
  while (fi.stack.size() > 1 && is_library_frame(fi.stack.front())) fi.stack.erase(fi.stack.begin());
  f.fibers.push_back(std::move(fi));
  f.location = site_location(h.site, "context", std::string(h.made_by) + " context");
  const std::vector<Frame>& made = f.location->alloc_stack;
  const std::string made_at = short_site(made);
  const std::string dropped_at = short_site(f.fibers[0].stack);
  f.message = std::string("the CancelFunc of the context made by ") + h.made_by +
              (made_at.empty() ? "" : " at " + made_at) + " was dropped" +
              (dropped_at.empty() ? "" : " at " + dropped_at) +
              " without being called while the context was still live (call it when done with the context, "
              "as Go's `defer cancel()`)";
  f.summary = std::string("lost cancel: ") + h.made_by + (made.empty() ? "" : " at " + long_site(made));
  publish_finding(std::move(f));
}

}  // namespace fsan::detail
