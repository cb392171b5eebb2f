// Stacks on the HTML page: see html_stack.hpp.
#include "html_stack.hpp"

#include <array>
#include <filesystem>
#include <string_view>

#include "html_escape.hpp"
#include "html_text.hpp"
#include "user_frames.hpp"

namespace fsan::reports {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// The runtime's source areas (runtime/<area>/...), so a user directory that
// happens to be called "runtime" is not mistaken for fibersan.
bool in_runtime_sources(std::string_view file) {
  static constexpr std::array<std::string_view, 13> kAreas = {
      "/runtime/include/fsan/", "/runtime/base/",      "/runtime/chan/",     "/runtime/context/", "/runtime/hooks/",
      "/runtime/race/",         "/runtime/report/",    "/runtime/sched/",    "/runtime/sync/",    "/runtime/testing/",
      "/runtime/time/",         "/runtime/waitgraph/", "/fsan/include/fsan/"};
  for (std::string_view a : kAreas)
    if (contains(file, a) || starts_with(file, a.substr(1))) return true;
  return false;
}

bool is_system_module(std::string_view base) {
  static constexpr std::array<std::string_view, 9> kSystem = {"libc.so",       "libc-",    "libstdc++.so",
                                                              "libgcc_s.so",   "ld-linux", "libm.so",
                                                              "libpthread.so", "libdl.so", "linux-vdso"};
  for (std::string_view s : kSystem)
    if (starts_with(base, s)) return true;
  return false;
}

}  // namespace

FrameOrigin frame_origin(const Frame& fr) {
  // The user/library boundary is the one SARIF uses (user_frames.hpp), so
  // the page and code scanning agree on where a finding is; here library
  // frames are only told apart as fibersan's or the system's.
  std::string module = base_name(fr.module);
  std::string_view fn = fr.function;
  if (!is_library_frame(fr) && !is_system_module(module) && fn != "_start" && fn != "start_thread" && fn != "clone" &&
      fn != "clone3")
    return FrameOrigin::user;
  if (starts_with(module, "libfsan") || starts_with(fn, "fsan::") || starts_with(fn, "__fsan_") ||
      starts_with(fn, "fsan_") || in_runtime_sources(fr.file))
    return FrameOrigin::runtime;
  return FrameOrigin::system;
}

const Frame* first_user_frame(const std::vector<Frame>& stack) {
  for (const Frame& f : stack)
    if (frame_origin(f) == FrameOrigin::user) return &f;
  return nullptr;
}

std::string common_source_root(const std::vector<const Frame*>& frames) {
  std::string root;
  bool first = true;
  for (const Frame* f : frames) {
    if (f->file.empty() || f->file[0] != '/') continue;
    std::string dir = f->file.substr(0, f->file.rfind('/') + 1);
    if (first) {
      root = dir;
      first = false;
      continue;
    }
    std::size_t n = 0;
    while (n < root.size() && n < dir.size() && root[n] == dir[n]) ++n;
    root.resize(root.rfind('/', n == 0 ? 0 : n - 1) + 1);
    if (n == 0) root.clear();
  }
  return root == "/" ? "" : root;
}

std::string StackRenderer::location_text(const Frame& fr) const {
  if (fr.file.empty()) return "";
  // GCC's headers arrive as ".../lib/gcc/x86_64-linux-gnu/12/../../../../include/...": shown resolved.
  std::string file = std::filesystem::path(fr.file).lexically_normal().string();
  std::string s = !root_.empty() && starts_with(file, root_) ? file.substr(root_.size()) : file;
  if (fr.line > 0) s += ":" + std::to_string(fr.line);
  if (fr.column > 0) s += ":" + std::to_string(fr.column);
  return s;
}

std::string StackRenderer::frame(const Frame& fr, std::size_t index, bool unfold) {
  FrameOrigin origin = frame_origin(fr);
  const char* cls = origin == FrameOrigin::user ? "user" : origin == FrameOrigin::runtime ? "runtime" : "system";
  std::string line = "<span class=\"fno\">#" + std::to_string(index) + "</span> <span class=\"fn\">" +
                     escape_html(fr.function.empty() ? "<unknown>" : fr.function) + "</span>";
  if (!fr.file.empty())
    line += " <span class=\"loc\" title=\"" + escape_html(fr.file) + "\">" + escape_html(location_text(fr)) + "</span>";
  line += " <span class=\"mod\" title=\"" + escape_html(fr.module) + "\">(" + escape_html(base_name(fr.module)) + "+" +
          hex_text(fr.offset) + ")</span>";

  // A frame with a line shows its source if the file is readable; one
  // without debug info shows the machine code around its pc instead.
  std::string detail;
  if (!fr.file.empty() && fr.line > 0)
    detail = render_snippet(sources_, fr.file, fr.line, context_);
  else if (!fr.module.empty())
    detail = render_disassembly(disassembler_, fr);
  std::string out = std::string("<li class=\"frame ") + cls + "\">";
  if (detail.empty()) return out + "<div class=\"frame-line\">" + line + "</div></li>";
  out += unfold ? "<details open>" : "<details>";
  return out + "<summary class=\"frame-line\">" + line + "</summary>" + detail + "</details></li>";
}

std::string StackRenderer::stack(const std::vector<Frame>& frames, const std::string& title_html, bool open,
                                 Unfold unfold) {
  std::string out = open ? "<details class=\"stack\" open>" : "<details class=\"stack\">";
  out += "<summary>" + title_html + " <span class=\"count\">" + std::to_string(frames.size()) +
         (frames.size() == 1 ? " frame" : " frames") + "</span></summary>";
  if (frames.empty()) return out + "<p class=\"noframes\">(no frames)</p></details>";
  out += "<ol class=\"frames\">";
  const Frame* top = unfold == Unfold::top_user_frame ? first_user_frame(frames) : nullptr;
  for (std::size_t i = 0; i < frames.size(); ++i) out += frame(frames[i], i, &frames[i] == top);
  return out + "</ol></details>";
}

}  // namespace fsan::reports
