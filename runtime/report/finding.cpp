// The finding store and the reports the runtime core makes (panic, global
// deadlock, uncaught exception, stack overflow). One store per process,
// cleared when a run starts. Lock order: g_store.mu is a leaf; reports are
// built before it is taken (symbolization spawns a child process).
#include <unistd.h>

#include <cxxabi.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <fsan/detail/kind_names.hpp>

#include "base/internal_scope.hpp"
#include "base/stack_trace.hpp"
#include "base/symbolizer.hpp"
#include "report/report.hpp"
#include "report/suppressions.hpp"
#include "sched/foreign.hpp"
#include "sched/park.hpp"
#include "sched/scheduler.hpp"

namespace fsan {

const char* to_string(FindingKind k) { return detail::kind_name(k); }

namespace detail {
namespace {

struct Store {
  std::mutex mu;
  std::vector<Finding> findings;
  std::set<std::string> signatures;
  std::map<FindingKind, int> counters;
  Options opts;
  std::string json_path;
  // Every finding of the process for json_path: a process may call run()
  // many times (one per FSAN_TEST), and its report file keeps them all.
  std::vector<Finding> json_findings;
  std::string last_json_path;  // json_path of the previous run (json_path is cleared between runs)
  std::string started;
  std::string argv_json;
  std::string test;  // the FSAN_TEST whose run is in progress
};

Store& store() {
  static Store* s = new Store();
  return *s;
}

std::uint64_t fnv1a(const std::string& s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Frames of the runtime, the unwinder and the std::invoke/std::apply
// plumbing between a go() call and the user's function say nothing to the
// user: reports show only the user's frames.
bool is_plumbing_frame(const Frame& f) {
  const std::string& fn = f.function;
  for (const char* p : {"fsan::detail::", "fsan_context_", "fsan_switch_", "__fsan_", "_Unwind_", "std::__invoke",
                        "std::invoke<", "std::__apply_impl", "std::apply<", "fsan::run<", "std::thread::_"})
    if (fn.find(p) != std::string::npos) return true;
  return false;
}

// How a thread starts (libc, libstdc++, an interceptor's trampoline): at the
// bottom of a foreign thread's stack, these say nothing either.
bool is_thread_start_frame(const Frame& f) {
  const std::string& fn = f.function;
  if (fn.empty()) return true;
  for (const char* p : {"start_thread", "clone", "clone3", "__clone", "__clone3", "thread_trampoline",
                        "execute_native_thread_routine"})
    if (fn == p || fn.find(std::string(p) + "(") != std::string::npos) return true;
  return false;
}

// Public API wrappers (Chan::send, select, ...) at the top of a stack are the
// runtime's too; below the first user frame they are kept (user code may be
// called from them, e.g. a select handler). A function is the API's when its
// own qualified name is in fsan:: (after a return type at most), not when
// its parameters or template arguments mention fsan types; or when its code
// is in a public fsan header (inlined frames may carry only a short name,
// e.g. GCC's "spawn<...>").
bool is_api_frame(const Frame& f) {
  if (f.file.find("/include/fsan/") != std::string::npos) return true;
  const std::string& fn = f.function;
  int depth = 0;
  for (std::size_t i = 0; i < fn.size(); ++i) {
    char c = fn[i];
    if (c == '<') ++depth;
    if (c == '>' && depth > 0) --depth;
    if (depth == 0 && c == '(') return false;
    if (depth == 0 && fn.compare(i, 6, "fsan::") == 0 && (i == 0 || fn[i - 1] == ' ')) return true;
  }
  return false;
}

std::vector<Frame> user_frames(std::vector<Frame> all) {
  std::vector<Frame> out;
  bool leading = true;
  for (Frame& f : all) {
    if (f.module.empty()) break;  // not code: a frame-pointer walk went astray here
    if (is_plumbing_frame(f)) continue;
    if (leading && (is_api_frame(f) || f.function.empty())) continue;  // nameless: e.g. a library's .cold part
    leading = false;
    out.push_back(std::move(f));
  }
  while (!out.empty() && is_thread_start_frame(out.back())) out.pop_back();
  return out;
}

std::vector<Frame> user_frames(const std::uintptr_t* pcs, int n) { return user_frames(symbolize(pcs, n)); }

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string read_cmdline_json() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out = "[";
  std::size_t pos = 0;
  bool first = true;
  while (pos < all.size()) {
    std::size_t end = all.find('\0', pos);
    if (end == std::string::npos) end = all.size();
    std::string arg = all.substr(pos, end - pos);
    std::string esc;
    for (char c : arg) {
      if (c == '"' || c == '\\') esc += '\\';
      if (static_cast<unsigned char>(c) < 0x20) continue;
      esc += c;
    }
    out += (first ? "\"" : ", \"") + esc + "\"";
    first = false;
    pos = end + 1;
  }
  return out + "]";
}

std::string options_text(const Options& o) {
  (void)o;
  const char* env = std::getenv("FSAN_OPTIONS");
  return env != nullptr ? env : "";
}

void write_json_locked(Store& s) {
  if (s.json_path.empty()) return;
  std::string tmp = s.json_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) {
      std::fprintf(stderr, "fibersan: cannot write report file %s\n", tmp.c_str());
      s.json_path.clear();
      return;
    }
    std::string body = format_json_report(s.json_findings, options_text(s.opts));
    // Process facts the printer does not know.
    std::string proc = "\"process\": {\"pid\": " + std::to_string(getpid()) + ", \"argv\": " + s.argv_json +
                       ", \"started\": \"" + s.started + "\"";
    std::size_t at = body.find("\"process\": {");
    if (at != std::string::npos) body.replace(at, std::string("\"process\": {").size(), proc + ", ");
    out << body;
  }
  std::rename(tmp.c_str(), s.json_path.c_str());
}

std::string top_location(const Finding& f) {
  const std::vector<Frame>* st = nullptr;
  if (!f.accesses.empty() && !f.accesses[0].stack.empty()) st = &f.accesses[0].stack;
  for (const FiberInfo& fi : f.fibers) {
    if (st != nullptr) break;
    if (!fi.stack.empty()) st = &fi.stack;
  }
  if (st == nullptr || st->empty()) return "";
  // The first frame in the user's own code: a std::lock_guard constructor in
  // /usr/include/c++ is where the wait happened, not where to look.
  const Frame* top = &(*st)[0];
  for (const Frame& f : *st)
    if (f.file.rfind("/usr/", 0) != 0 && !f.file.empty()) {
      top = &f;
      break;
    }
  const Frame& fr = *top;
  std::string loc;
  if (!fr.file.empty()) {
    std::string file = fr.file;
    if (std::size_t sl = file.rfind('/'); sl != std::string::npos) file = file.substr(sl + 1);
    loc = file + ":" + std::to_string(fr.line);
    if (fr.column > 0) loc += ":" + std::to_string(fr.column);
  } else {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "(%s+0x%lx)", fr.module.substr(fr.module.rfind('/') + 1).c_str(),
                  static_cast<unsigned long>(fr.offset));
    loc = buf;
  }
  if (!fr.function.empty()) loc += " in " + fr.function;
  return loc;
}

}  // namespace

std::vector<Frame> filter_user_frames(std::vector<Frame> all) { return user_frames(std::move(all)); }

void begin_run_reports(const Options& o) {
  Store& s = store();
  std::lock_guard<std::mutex> g(s.mu);
  s.findings.clear();
  s.signatures.clear();
  s.opts = o;
  s.started = iso_now();
  if (s.argv_json.empty()) s.argv_json = read_cmdline_json();
  s.json_path.clear();
  if (!o.report_dir.empty()) {
    std::string mk = "mkdir -p '" + o.report_dir + "'";
    if (std::system(mk.c_str()) != 0) {
      std::fprintf(stderr, "fibersan: cannot create report_dir %s\n", o.report_dir.c_str());
    } else {
      std::string path = o.report_dir + "/fsan." + std::to_string(getpid()) + ".json";
      if (path != s.last_json_path) s.json_findings.clear();
      s.last_json_path = path;
      s.json_path = path;
      // A process without findings still leaves its (empty) report, so
      // `fsan report` knows it ran clean (a passing JUnit testcase).
      if (s.json_findings.empty()) write_json_locked(s);
    }
  }
  set_symbolizer_options(o.symbolize, o.external_symbolizer_path);
}

void end_run_reports() {}

void set_finding_test(const std::string& test) {
  Store& s = store();
  std::lock_guard<std::mutex> g(s.mu);
  s.test = test;
}

std::string finding_test() {
  Store& s = store();
  std::lock_guard<std::mutex> g(s.mu);
  return s.test;
}

namespace {

// without_numbers: the message with every number (addresses, fiber ids,
// durations, counts) replaced by '#'. The signature must name the same bug
// in every process and shard (fsan report merges by it), and those vary
// from run to run while the bug does not.
std::string without_numbers(const std::string& m) {
  std::string out;
  out.reserve(m.size());
  for (std::size_t i = 0; i < m.size();) {
    if (std::isdigit(static_cast<unsigned char>(m[i])) != 0) {
      std::size_t j = i;
      if (m.compare(i, 2, "0x") == 0) j += 2;
      while (j < m.size() && std::isxdigit(static_cast<unsigned char>(m[j])) != 0) ++j;
      out += '#';
      i = j;
    } else {
      out += m[i++];
    }
  }
  return out;
}

}  // namespace

bool publish_finding(Finding f, std::string* id) {
  InternalScope internal;  // the store's lock is not user synchronization
  if (suppressed(f)) return false;  // suppressions=FILE: as if never found
  // Signature: kind + where each involved stack starts (module+offset, so it
  // is stable across runs of the same binary and needs no debug info).
  std::string sig = to_string(f.kind);
  auto add_stack = [&](const std::vector<Frame>& st) {
    for (std::size_t i = 0; i < st.size() && i < 4; ++i)
      sig += "|" + st[i].module.substr(st[i].module.rfind('/') + 1) + "+" + std::to_string(st[i].offset);
  };
  for (const Access& a : f.accesses) add_stack(a.stack);
  for (const FiberInfo& fi : f.fibers) {
    add_stack(fi.stack);
    sig += "/" + fi.wait_reason;
  }
  sig += "#" + without_numbers(f.message);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(fnv1a(sig)));
  f.signature = hex;
  if (f.summary.empty()) {
    // "<what> <file:line:col> in <function>", like the sanitizers' SUMMARY.
    std::string loc = top_location(f);
    // Races and deadlocks: the headline, not the whole message (which names
    // every fiber and object): an index row or a SARIF title stays one
    // readable line. Panics and leaks: their message is that line already.
    std::string what;
    switch (f.kind) {
      case FindingKind::panic:
        what = "panic: " + f.message;
        break;
      case FindingKind::fiber_leak:
      case FindingKind::timer_leak:
      case FindingKind::lost_cancel:
        what = f.message.substr(0, f.message.find('\n'));
        break;
      case FindingKind::data_race:
      case FindingKind::global_deadlock:
      case FindingKind::partial_deadlock:
      case FindingKind::lock_order_inversion:
        what = headline(f.kind);
        break;
    }
    f.summary = what + (loc.empty() ? "" : " " + loc);
  }
  Store& s = store();
  std::string text;
  bool halt = false, print = true;
  {
    std::lock_guard<std::mutex> g(s.mu);
    if (!s.signatures.insert(f.signature).second) return false;
    if (f.test.empty()) f.test = s.test;
    int n = ++s.counters[f.kind];
    f.id = std::string(to_string(f.kind)) + "-" + std::to_string(n);
    if (id != nullptr) *id = f.id;
    print = s.opts.print_findings;
    halt = s.opts.halt_on_error;
    if (print) text = format_text(f);
    // Noted before the finding is visible: a fiber that sees it in
    // findings() and ends the run must not end it with exit status 0 (the
    // wait-graph monitor publishes from its own thread).
    if (Scheduler* sch = g_sched.load(std::memory_order_acquire)) sch->note_finding();
    s.findings.push_back(f);
    if (!s.json_path.empty()) s.json_findings.push_back(f);
    write_json_locked(s);
  }
  if (print) std::fputs(text.c_str(), stderr);
  if (Scheduler* sch = g_sched.load(std::memory_order_acquire)) {
    if (halt) sch->stop(sch->options().exitcode);
  }
  return true;
}

FiberInfo describe_fiber(const Fiber* f, const std::uintptr_t* stack, int n_stack, std::int64_t now) {
  FiberInfo fi;
  fi.id = f->id;
  fi.name = f->name;
  fi.parent_id = f->parent_id;
  FiberState st = f->state.load(std::memory_order_acquire);
  fi.state = to_string(st);
  if ((st == FiberState::waiting || st == FiberState::probing) && f->wait_reason != WaitReason::none) {
    fi.wait_reason = to_string(f->wait_reason);
    fi.wait_ns = std::max<std::int64_t>(0, (now != 0 ? now : now_ns()) - f->wait_since_ns);  // coarse stamp
    fi.state = f->wait_reason == WaitReason::sleep ? "sleeping" : "waiting";
  }
  if (n_stack > 0) fi.stack = user_frames(stack, n_stack);
  if (f->n_created > 0) fi.created_at = user_frames(f->created_pcs, f->n_created);
  return fi;
}

std::vector<FiberInfo> describe_snapshots(const std::vector<FiberSnapshot>& snaps, std::int64_t now) {
  // One symbolizer round trip for every stack of every fiber.
  std::vector<std::uintptr_t> pcs;
  for (const FiberSnapshot& s : snaps) {
    pcs.insert(pcs.end(), s.stack, s.stack + s.n_stack);
    pcs.insert(pcs.end(), s.created, s.created + s.n_created);
  }
  std::vector<std::vector<Frame>> frames = symbolize_each(pcs.data(), static_cast<int>(pcs.size()));
  std::size_t next = 0;
  auto take = [&](int n) {
    std::vector<Frame> all;
    for (int i = 0; i < n; ++i, ++next)
      for (Frame& f : frames[next]) all.push_back(std::move(f));
    return user_frames(std::move(all));
  };
  std::vector<FiberInfo> out;
  out.reserve(snaps.size());
  for (const FiberSnapshot& s : snaps) {
    FiberInfo& fi = out.emplace_back();
    fi.id = s.id;
    fi.name = s.name;
    fi.parent_id = s.parent_id;
    fi.state = to_string(s.state);
    if (s.state == FiberState::waiting && s.wait_reason != WaitReason::none) {
      fi.wait_reason = to_string(s.wait_reason);
      fi.wait_ns = std::max<std::int64_t>(0, now - s.wait_since_ns);  // coarse stamp
      fi.state = s.wait_reason == WaitReason::sleep ? "sleeping" : "waiting";
    }
    fi.stack = take(s.n_stack);
    fi.created_at = take(s.n_created);
  }
  return out;
}

[[noreturn]] void report_panic(const char* message) {
  std::uintptr_t pcs[kMaxProbeFrames];
  int n = capture_stack(pcs, kMaxProbeFrames, 0);
  Fiber* self = current_agent();
  Finding f;
  f.kind = FindingKind::panic;
  f.message = message;
  FiberInfo fi = describe_fiber(self, pcs, n);
  fi.state = "running";
  f.fibers.push_back(std::move(fi));
  publish_finding(std::move(f));
  Fiber* fiber = current_fiber();
  if (fiber == nullptr) {
    // A foreign thread: like Go's unrecovered panic, the process ends.
    std::fflush(stderr);
    Scheduler* s = g_sched.load(std::memory_order_acquire);
    std::_Exit(s != nullptr ? s->options().exitcode : 66);
  }
  fiber->sched->stop(fiber->sched->options().exitcode);
  for (;;) park_current(WaitReason::panic, nullptr, nullptr, nullptr);
}

void report_uncaught_exception(Fiber* self, std::exception_ptr e) {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = std::string(typeid(ex).name()) + ": " + ex.what();
    int status = 0;
    if (char* d = abi::__cxa_demangle(typeid(ex).name(), nullptr, nullptr, &status)) {
      what = std::string(d) + ": " + ex.what();
      std::free(d);
    }
  } catch (...) {
  }
  // The throw site when the runtime's __cxa_throw recorded this exception on
  // this fiber (throw_site.cpp); else only where it was caught.
  std::uintptr_t pcs[kMaxProbeFrames];
  int n = throw_site(self, e, pcs, kMaxProbeFrames);
  if (n == 0) n = capture_stack(pcs, kMaxProbeFrames, 0);
  Finding f;
  f.kind = FindingKind::panic;
  f.message = "exception escaped fiber " + std::to_string(self->id) + ": " + what;
  FiberInfo fi = describe_fiber(self, pcs, n);
  fi.state = "running";
  f.fibers.push_back(std::move(fi));
  publish_finding(std::move(f));
  self->sched->stop(self->sched->options().exitcode);
}

void report_stack_overflow(Fiber* self, const void* fault_addr) {
  char msg[128];
  std::snprintf(msg, sizeof(msg), "stack overflow in fiber %llu", static_cast<unsigned long long>(self->id));
  Finding f;
  f.kind = FindingKind::panic;
  f.message = msg;
  // From the fault handler this unwinds through the signal frame into the
  // fiber's recursion; from a canary check it is the current stack.
  std::uintptr_t pcs[kMaxProbeFrames];
  int n = capture_stack(pcs, kMaxProbeFrames, 0);
  (void)fault_addr;
  FiberInfo fi = describe_fiber(self, pcs, n);
  fi.state = "running";
  f.fibers.push_back(std::move(fi));
  publish_finding(std::move(f));
  self->sched->stop(self->sched->options().exitcode);
}

void (*g_global_deadlock_graph)(Finding& f) = nullptr;

void report_global_deadlock(Scheduler* s) {
  Finding f;
  f.kind = FindingKind::global_deadlock;
  f.message = "all fibers are asleep - deadlock!";
  // Every fiber, then every foreign thread attached to the run (all parked
  // in the runtime, or there would be no deadlock).
  std::vector<FiberSnapshot> snaps;
  {
    LockGuard g(g_dump_mu);
    s->snapshot_fibers(nullptr, snaps);
    foreign_snapshot(s->epoch(), snaps);
  }
  sort_snapshots(snaps);
  f.fibers = describe_snapshots(snaps, now_ns());
  if (g_global_deadlock_graph != nullptr) g_global_deadlock_graph(f);
  publish_finding(std::move(f));
}

}  // namespace detail

std::vector<Finding> findings() {
  auto& s = detail::store();
  std::lock_guard<std::mutex> g(s.mu);
  return s.findings;
}

}  // namespace fsan
