// Creation sites: capture (hot enough to stay a plain frame walk) and
// description (cold: symbolizes). See creation_site.hpp.
#include "leak/creation_site.hpp"

#include <algorithm>
#include <cstdio>

#include "base/checks.hpp"
#include "base/stack_trace.hpp"
#include "base/symbolizer.hpp"
#include "report/report.hpp"
#include "sched/scheduler.hpp"

namespace fsan::detail {

void capture_creation_site(CreationSite& site, std::uintptr_t fp) {
  if constexpr (!kAlwaysOnChecks) return;
  Fiber* f = current_fiber();
  site.fiber = f != nullptr ? f->id : 0;
  int depth = 8;
  if (f != nullptr) {
    depth = f->sched->options().creation_stack_depth;
  } else if (Scheduler* s = g_sched.load(std::memory_order_acquire)) {
    depth = s->options().creation_stack_depth;
  }
  depth = std::max(1, std::min(depth, kMaxSiteFrames));
  site.n = static_cast<std::uint8_t>(walk_frame_pointers(fp, site.pcs, depth));
}

Location site_location(const CreationSite& site, std::string kind, std::string name) {
  Location loc;
  loc.kind = std::move(kind);
  loc.name = std::move(name);
  loc.alloc_fiber = site.fiber;
  if (site.n > 0) loc.alloc_stack = filter_user_frames(symbolize(site.pcs, site.n));
  return loc;
}

namespace {
std::string base_name(const std::string& path) {
  std::size_t sl = path.rfind('/');
  return sl == std::string::npos ? path : path.substr(sl + 1);
}

// The frame a site is named by: the first one in the user's own code, not
// in a standard library header (std::make_unique, std::optional::emplace and
// the like construct the object for the user), else the first with a file.
const Frame* naming_frame(const std::vector<Frame>& frames) {
  const Frame* with_file = nullptr;
  for (const Frame& fr : frames) {
    if (fr.file.empty()) continue;
    if (with_file == nullptr) with_file = &fr;
    if (fr.function.rfind("std::", 0) != 0 && fr.function.find(" std::") == std::string::npos &&
        fr.file.find("/c++/") == std::string::npos)
      return &fr;
  }
  return with_file;
}

}  // namespace

std::string short_site(const std::vector<Frame>& frames) {
  if (const Frame* fr = naming_frame(frames)) return base_name(fr->file) + ":" + std::to_string(fr->line);
  if (frames.empty()) return "";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "+0x%lx", static_cast<unsigned long>(frames[0].offset));
  return base_name(frames[0].module) + buf;
}

std::string long_site(const std::vector<Frame>& frames) {
  const Frame* fr = naming_frame(frames);
  if (fr == nullptr) return short_site(frames);
  std::string s = base_name(fr->file) + ":" + std::to_string(fr->line);
  if (fr->column > 0) s += ":" + std::to_string(fr->column);
  if (!fr->function.empty()) s += " in " + fr->function;
  return s;
}

}  // namespace fsan::detail
