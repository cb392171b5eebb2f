// Symbolizer: see symbolizer.hpp. Module lookup with dl_iterate_phdr (load
// bias, so PIE, shared objects and non-PIE executables all get the address
// the debug info uses); names with llvm-symbolizer, else addr2line, else
// dladdr's dynamic symbol.
#include "base/symbolizer.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace fsan::detail {
namespace {

std::mutex g_mu;
bool g_enabled = true;
std::string g_tool_override;

struct ModuleHit {
  std::uintptr_t pc;
  std::string path;
  std::uintptr_t bias = 0;
  bool found = false;
};

int find_module(dl_phdr_info* info, std::size_t, void* data) {
  auto* hit = static_cast<ModuleHit*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (hit->pc >= start && hit->pc < start + ph.p_memsz) {
      hit->bias = info->dlpi_addr;
      hit->path = info->dlpi_name != nullptr ? info->dlpi_name : "";
      hit->found = true;
      return 1;
    }
  }
  return 0;
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  buf[n] = 0;
  return buf;
}

bool executable(const std::string& p) { return !p.empty() && access(p.c_str(), X_OK) == 0; }

std::string find_in_path(const char* name) {
  const char* path = std::getenv("PATH");
  std::string all = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t pos = 0;
  while (pos <= all.size()) {
    std::size_t end = all.find(':', pos);
    if (end == std::string::npos) end = all.size();
    std::string cand = all.substr(pos, end - pos) + "/" + name;
    if (executable(cand)) return cand;
    pos = end + 1;
  }
  return "";
}

// The tool and whether it speaks llvm-symbolizer's protocol.
std::pair<std::string, bool> pick_tool() {
  if (!g_tool_override.empty()) {
    bool llvm = g_tool_override.find("llvm-symbolizer") != std::string::npos;
    return {g_tool_override, llvm};
  }
  for (const char* n : {"llvm-symbolizer", "llvm-symbolizer-19", "llvm-symbolizer-18", "llvm-symbolizer-17",
                        "llvm-symbolizer-16", "llvm-symbolizer-15", "llvm-symbolizer-14"}) {
    std::string p = find_in_path(n);
    if (!p.empty()) return {p, true};
  }
  if (executable("/usr/lib/llvm-14/bin/llvm-symbolizer")) return {"/usr/lib/llvm-14/bin/llvm-symbolizer", true};
  std::string a = find_in_path("addr2line");
  if (!a.empty()) return {a, false};
  return {"", false};
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || d == nullptr) return name;
  std::string out = d;
  std::free(d);
  return out;
}

void parse_file_line(const std::string& s, Frame& f) {
  // "file:line:col", "file:line", or "??:0".
  std::size_t c2 = s.rfind(':');
  if (c2 == std::string::npos) return;
  std::size_t c1 = s.rfind(':', c2 - 1);
  std::string file;
  int line = 0, col = 0;
  if (c1 != std::string::npos && c1 > 0 && s.find_first_not_of("0123456789", c1 + 1) == c2) {
    file = s.substr(0, c1);
    line = std::atoi(s.c_str() + c1 + 1);
    col = std::atoi(s.c_str() + c2 + 1);
  } else {
    file = s.substr(0, c2);
    line = std::atoi(s.c_str() + c2 + 1);
  }
  // addr2line appends " (discriminator N)".
  if (std::size_t d = file.find(" (discriminator"); d != std::string::npos) file.resize(d);
  if (file == "??" || line == 0) return;
  f.file = file;
  f.line = line;
  f.column = col;
}

// Runs the tool on one module's addresses. Each answer is a list of
// (function, location) pairs, innermost inlined frame first; llvm-symbolizer
// ends an answer with a blank line, addr2line (no -i) gives one pair.
std::vector<std::vector<std::pair<std::string, std::string>>> run_tool(const std::string& tool, bool llvm,
                                                                        const std::string& module,
                                                                        const std::vector<std::uintptr_t>& lookup) {
  std::vector<std::vector<std::pair<std::string, std::string>>> answers(lookup.size());
  std::string cmd = shell_quote(tool);
  if (llvm)
    cmd += " --obj=" + shell_quote(module) + " --functions=linkage --demangle --inlines";
  else
    cmd += " -f -C -e " + shell_quote(module);
  char buf[32];
  for (std::uintptr_t a : lookup) {
    std::snprintf(buf, sizeof(buf), " 0x%lx", static_cast<unsigned long>(a));
    cmd += buf;
  }
  cmd += " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return answers;
  char line[4096];
  std::size_t i = 0;
  std::string fn;
  bool have_fn = false;
  while (i < lookup.size() && std::fgets(line, sizeof(line), p) != nullptr) {
    std::string s = line;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (llvm && s.empty()) {
      if (!answers[i].empty()) ++i;
      have_fn = false;
      continue;
    }
    if (!have_fn) {
      fn = s;
      have_fn = true;
      continue;
    }
    answers[i].emplace_back(fn, s);
    have_fn = false;
    if (!llvm) ++i;
  }
  pclose(p);
  return answers;
}

}  // namespace

void set_symbolizer_options(bool enabled, const std::string& path) {
  std::lock_guard<std::mutex> g(g_mu);
  g_enabled = enabled;
  g_tool_override = path;
}

std::vector<Frame> symbolize(const std::uintptr_t* pcs, int n, bool return_addresses) {
  std::lock_guard<std::mutex> g(g_mu);
  std::vector<Frame> base(static_cast<std::size_t>(n));
  std::map<std::string, std::pair<std::vector<std::size_t>, std::vector<std::uintptr_t>>> by_module;
  static const std::string exe = self_exe();
  for (int i = 0; i < n; ++i) {
    Frame& f = base[static_cast<std::size_t>(i)];
    f.pc = pcs[i];
    std::uintptr_t look = return_addresses && f.pc > 0 ? f.pc - 1 : f.pc;
    ModuleHit hit{look, "", 0, false};
    dl_iterate_phdr(&find_module, &hit);
    if (!hit.found) continue;
    f.module = hit.path.empty() ? exe : hit.path;
    f.offset = f.pc - hit.bias;
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(look), &info) != 0 && info.dli_sname != nullptr)
      f.function = demangle(info.dli_sname);
    auto& entry = by_module[f.module];
    entry.first.push_back(static_cast<std::size_t>(i));
    entry.second.push_back(look - hit.bias);
  }
  // Expanded frames per pc (inlined frames become frames of their own).
  std::vector<std::vector<Frame>> expanded(base.size());
  static const auto tool = pick_tool();
  if (g_enabled && !tool.first.empty()) {
    for (auto& [module, work] : by_module) {
      auto answers = run_tool(tool.first, tool.second, module, work.second);
      for (std::size_t k = 0; k < work.first.size(); ++k) {
        const Frame& b = base[work.first[k]];
        for (auto& [fn, loc] : answers[k]) {
          Frame f = b;
          if (fn != "??") f.function = fn;
          f.file.clear();
          f.line = f.column = 0;
          parse_file_line(loc, f);
          expanded[work.first[k]].push_back(std::move(f));
        }
      }
    }
  }
  std::vector<Frame> out;
  for (std::size_t i = 0; i < base.size(); ++i) {
    if (expanded[i].empty())
      out.push_back(std::move(base[i]));
    else
      for (Frame& f : expanded[i]) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace fsan::detail
