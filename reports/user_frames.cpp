// User frames (user_frames.hpp).
#include "user_frames.hpp"

#include <string_view>

namespace fsan::reports {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

std::string_view base_of(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_library_module(std::string_view module) {
  std::string_view m = base_of(module);
  for (std::string_view p : {"libfsan", "libc.so", "libc-", "libstdc++", "libgcc_s", "libm.so", "libm-", "ld-linux",
                             "ld-musl", "libpthread", "libdl.so", "librt.so", "linux-vdso"})
    if (starts_with(m, p)) return true;
  return false;
}

// The runtime's own sources: runtime/<area>/ for its areas, and the public
// headers. Only these areas, so a user project with a runtime/ directory of
// its own keeps its frames.
bool is_runtime_file(std::string_view file) {
  if (contains(file, "/include/fsan/") || starts_with(file, "include/fsan/")) return true;
  for (std::string_view area : {"base/", "chan/", "context/", "hooks/", "race/", "report/", "sched/", "sync/",
                                "testing/", "time/", "waitgraph/"}) {
    std::string dir = "runtime/" + std::string(area);
    if (starts_with(file, dir) || contains(file, "/" + dir)) return true;
  }
  return false;
}

bool is_system_file(std::string_view file) {
  return starts_with(file, "/usr/include/") || starts_with(file, "/usr/lib/gcc/") ||
         starts_with(file, "/usr/lib/llvm-") || starts_with(file, "./bits/") || starts_with(file, "../sysdeps/") ||
         starts_with(file, "./nptl/") || starts_with(file, "../nptl/");
}

// The function's own qualified name starts with `ns` (after a return type
// at most), ignoring namespaces that appear only in template arguments or
// parameters: "void fsan::Chan<int>::send(int)" is fsan's,
// "worker(fsan::Chan<int>&)" is not.
bool in_namespace(std::string_view fn, std::string_view ns) {
  int depth = 0;
  for (std::size_t i = 0; i < fn.size(); ++i) {
    char c = fn[i];
    if (c == '<') ++depth;
    if (c == '>' && depth > 0) --depth;
    if (depth == 0 && c == '(') return false;
    if (depth == 0 && fn.compare(i, ns.size(), ns) == 0 && (i == 0 || fn[i - 1] == ' ')) return true;
  }
  return false;
}

bool is_library_function(std::string_view fn) {
  for (std::string_view p : {"__fsan_", "fsan_context_", "fsan_switch_", "__cxa_", "__libc_", "_Unwind_"})
    if (starts_with(fn, p)) return true;
  return in_namespace(fn, "fsan::") || in_namespace(fn, "std::") || in_namespace(fn, "__gnu_cxx::");
}

}  // namespace

bool is_library_frame(const Frame& fr) {
  return is_library_module(fr.module) || is_runtime_file(fr.file) || is_system_file(fr.file) ||
         is_library_function(fr.function);
}

const Frame* top_user_frame(const Finding& f) {
  std::vector<const std::vector<Frame>*> stacks;
  for (const Access& a : f.accesses) stacks.push_back(&a.stack);
  for (const FiberInfo& fi : f.fibers) stacks.push_back(&fi.stack);
  for (const FiberInfo& fi : f.fibers) stacks.push_back(&fi.created_at);
  if (f.location) stacks.push_back(&f.location->alloc_stack);
  const Frame* without_file = nullptr;
  const Frame* library_with_file = nullptr;
  for (const std::vector<Frame>* st : stacks) {
    for (const Frame& fr : *st) {
      bool library = is_library_frame(fr);
      if (!library && !fr.file.empty()) return &fr;
      if (!library && without_file == nullptr) without_file = &fr;
      if (library && !fr.file.empty() && library_with_file == nullptr) library_with_file = &fr;
    }
  }
  if (without_file != nullptr) return without_file;
  if (library_with_file != nullptr) return library_with_file;
  for (const std::vector<Frame>* st : stacks)
    if (!st->empty()) return &st->front();
  return nullptr;
}

}  // namespace fsan::reports
