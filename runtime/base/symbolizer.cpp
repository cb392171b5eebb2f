// Symbolizer: see symbolizer.hpp. Module lookup with dl_iterate_phdr (load
// bias, so PIE, shared objects and non-PIE executables all get the address
// the debug info uses); names with llvm-symbolizer (one persistent child on
// a socket pair: no SIGPIPE if it dies), else addr2line (one child per
// module and batch), else dladdr's dynamic symbol. A child that fails or
// stalls is killed and the lookups fall back to dladdr names.
#include "base/symbolizer.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

extern char** environ;

namespace fsan::detail {
namespace {

std::mutex g_mu;
bool g_enabled = true;
std::string g_tool_override;

// One answer: (function, location) pairs, innermost inlined frame first.
using Answer = std::vector<std::pair<std::string, std::string>>;

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

// Runs addr2line (or a tool that is not llvm-symbolizer) on one module's
// addresses; addr2line (no -i) gives one pair per address, llvm-symbolizer
// ends an answer with a blank line.
std::vector<Answer> run_tool(const std::string& tool, bool llvm, const std::string& module,
                             const std::vector<std::uintptr_t>& lookup) {
  std::vector<Answer> answers(lookup.size());
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

// LlvmChild: llvm-symbolizer reading `"module" 0xoffset` lines on stdin and
// answering each with (function, location) line pairs and a blank line.
class LlvmChild {
 public:
  // query: one answer per (module, offset); false if the child failed (the
  // answers not received stay empty).
  bool query(const std::string& tool, const std::vector<std::pair<const std::string*, std::uintptr_t>>& items,
             std::vector<Answer>& out) {
    out.assign(items.size(), Answer{});
    if (broken_) return false;
    if (fd_ >= 0 && (owner_ != getpid() || tool != tool_)) reset();  // forked, or another tool asked for
    if (fd_ < 0 && !start(tool)) return false;
    constexpr std::size_t kChunk = 32;  // answers fit the socket buffer, so writing never blocks on reading
    for (std::size_t at = 0; at < items.size(); at += kChunk) {
      std::size_t end = std::min(items.size(), at + kChunk);
      std::string req;
      char buf[32];
      for (std::size_t i = at; i < end; ++i) {
        std::snprintf(buf, sizeof(buf), "\" 0x%lx\n", static_cast<unsigned long>(items[i].second));
        req += "\"" + *items[i].first + buf;
      }
      if (!send_all(req) || !read_answers(out, at, end)) {
        fail();
        return false;
      }
    }
    return true;
  }

 private:
  static constexpr int kTimeoutMs = 20'000;  // a first lookup may load a large binary's debug info

  bool start(const std::string& tool) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return fail(), false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);  // the caller may block signals (the SIGQUIT dumper does)
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    std::string a0 = tool, a1 = "--functions=linkage", a2 = "--demangle", a3 = "--inlines";
    char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), nullptr};
    pid_t pid = -1;
    int rc = posix_spawn(&pid, tool.c_str(), &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sv[1]);
    if (rc != 0) {
      close(sv[0]);
      return fail(), false;
    }
    pid_ = pid;
    fd_ = sv[0];
    owner_ = getpid();
    tool_ = tool;
    rbuf_.clear();
    return true;
  }

  bool send_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, kTimeoutMs) <= 0) return false;
      ssize_t k = send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;
      off += static_cast<std::size_t>(k);
    }
    return true;
  }

  bool next_line(std::string& line) {
    for (;;) {
      std::size_t nl = rbuf_.find('\n');
      if (nl != std::string::npos) {
        line = rbuf_.substr(0, nl);
        rbuf_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return true;
      }
      pollfd p{fd_, POLLIN, 0};
      int r = poll(&p, 1, kTimeoutMs);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      char buf[8192];
      ssize_t k = read(fd_, buf, sizeof(buf));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;
      rbuf_.append(buf, static_cast<std::size_t>(k));
    }
  }

  bool read_answers(std::vector<Answer>& out, std::size_t at, std::size_t end) {
    std::string line, fn;
    bool have_fn = false;
    for (std::size_t i = at; i < end;) {
      if (!next_line(line)) return false;
      if (line.empty()) {
        ++i;
        have_fn = false;
        continue;
      }
      if (!have_fn) {
        fn = line;
        have_fn = true;
        continue;
      }
      out[i].emplace_back(fn, line);
      have_fn = false;
    }
    return true;
  }

  void fail() {
    reset();
    if (++failures_ >= 3) broken_ = true;
  }

  void reset() {
    if (fd_ >= 0) close(fd_);
    if (pid_ > 0 && owner_ == getpid()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    fd_ = -1;
    pid_ = -1;
    rbuf_.clear();
  }

  pid_t pid_ = -1;
  pid_t owner_ = 0;
  int fd_ = -1;
  int failures_ = 0;
  bool broken_ = false;
  std::string tool_;
  std::string rbuf_;
};

LlvmChild g_child;
std::unordered_map<std::string, Answer> g_cache;
constexpr std::size_t kMaxCacheEntries = 1 << 18;
bool g_tool_picked = false;
std::pair<std::string, bool> g_tool;

std::string cache_key(const std::string& module, std::uintptr_t offset) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "\n%lx", static_cast<unsigned long>(offset));
  return module + buf;
}

}  // namespace

void set_symbolizer_options(bool enabled, const std::string& path) {
  std::lock_guard<std::mutex> g(g_mu);
  g_enabled = enabled;
  if (path != g_tool_override || !g_tool_picked) {
    g_tool_override = path;
    g_tool = pick_tool();
    g_tool_picked = true;
    g_cache.clear();
  }
}

std::vector<std::vector<Frame>> symbolize_each(const std::uintptr_t* pcs, int n, bool return_addresses) {
  std::lock_guard<std::mutex> g(g_mu);
  if (!g_tool_picked) {
    g_tool = pick_tool();
    g_tool_picked = true;
  }
  static const std::string exe = self_exe();
  std::vector<Frame> base(static_cast<std::size_t>(n));
  std::vector<std::string> keys(base.size());
  // The lookups the cache cannot answer, by module (for addr2line) and in
  // one list (for llvm-symbolizer).
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::uintptr_t>>> missing;
  std::unordered_set<std::string> queued;
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
    if (!g_enabled || g_tool.first.empty()) continue;
    // A path the line protocol cannot carry keeps its dladdr name.
    if (g_tool.second && f.module.find_first_of("\"\n") != std::string::npos) continue;
    std::string key = cache_key(f.module, look - hit.bias);
    if (g_cache.count(key) == 0 && queued.insert(key).second) {
      auto& m = missing[f.module];
      m.first.push_back(key);
      m.second.push_back(look - hit.bias);
    }
    keys[static_cast<std::size_t>(i)] = std::move(key);
  }
  if (!missing.empty()) {
    if (g_cache.size() > kMaxCacheEntries) g_cache.clear();
    if (g_tool.second) {
      std::vector<std::pair<const std::string*, std::uintptr_t>> items;
      std::vector<const std::string*> item_keys;
      for (auto& [module, work] : missing)
        for (std::size_t k = 0; k < work.first.size(); ++k) {
          items.emplace_back(&module, work.second[k]);
          item_keys.push_back(&work.first[k]);
        }
      std::vector<Answer> answers;
      g_child.query(g_tool.first, items, answers);  // on failure, what did arrive is still used
      for (std::size_t k = 0; k < items.size(); ++k)
        if (!answers[k].empty()) g_cache[*item_keys[k]] = std::move(answers[k]);
    } else {
      for (auto& [module, work] : missing) {
        std::vector<Answer> answers = run_tool(g_tool.first, false, module, work.second);
        for (std::size_t k = 0; k < work.first.size(); ++k)
          if (!answers[k].empty()) g_cache[work.first[k]] = std::move(answers[k]);
      }
    }
  }
  std::vector<std::vector<Frame>> out(base.size());
  for (std::size_t i = 0; i < base.size(); ++i) {
    auto it = keys[i].empty() ? g_cache.end() : g_cache.find(keys[i]);
    if (it == g_cache.end()) {
      out[i].push_back(std::move(base[i]));
      continue;
    }
    for (const auto& [fn, loc] : it->second) {
      Frame f = base[i];
      if (fn != "??") f.function = fn;
      f.file.clear();
      f.line = f.column = 0;
      parse_file_line(loc, f);
      out[i].push_back(std::move(f));
    }
  }
  return out;
}

std::vector<Frame> symbolize(const std::uintptr_t* pcs, int n, bool return_addresses) {
  std::vector<Frame> out;
  for (auto& frames : symbolize_each(pcs, n, return_addresses))
    for (Frame& f : frames) out.push_back(std::move(f));
  return out;
}

bool symbolize_data(std::uintptr_t addr, std::string* name, std::uintptr_t* start, std::size_t* size) {
  std::lock_guard<std::mutex> g(g_mu);
  ModuleHit hit{addr, "", 0, false};
  dl_iterate_phdr(&find_module, &hit);
  if (!hit.found || !g_enabled) return false;
  static const auto tool = pick_tool();
  if (tool.first.empty() || !tool.second) return false;  // only llvm-symbolizer answers DATA queries
  static const std::string exe = self_exe();
  std::string module = hit.path.empty() ? exe : hit.path;
  char q[48];
  std::snprintf(q, sizeof(q), "'DATA 0x%lx'", static_cast<unsigned long>(addr - hit.bias));
  std::string cmd = shell_quote(tool.first) + " --obj=" + shell_quote(module) + " " + q + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  char l1[1024] = {}, l2[256] = {};
  bool ok = std::fgets(l1, sizeof(l1), p) != nullptr && std::fgets(l2, sizeof(l2), p) != nullptr;
  pclose(p);
  if (!ok) return false;
  std::string n = l1;
  while (!n.empty() && (n.back() == '\n' || n.back() == '\r')) n.pop_back();
  if (n.empty() || n == "??") return false;
  unsigned long st = 0, sz = 0;
  if (std::sscanf(l2, "%lu %lu", &st, &sz) != 2) return false;
  *name = demangle(n.c_str());
  *start = st + hit.bias;
  *size = sz;
  return true;
}

}  // namespace fsan::detail
