// Printers of Finding records: the sanitizer-style text block (stderr) and
// the per-process JSON document (REPORTS.md, schema fibersan-report/1).
// Switches over FindingKind have no default on purpose.
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <sstream>

#include "report/report.hpp"

namespace fsan::detail {

const char* headline(FindingKind k) {
  switch (k) {
    case FindingKind::data_race:
      return "data race";
    case FindingKind::global_deadlock:
      return "global deadlock";
    case FindingKind::partial_deadlock:
      return "partial deadlock";
    case FindingKind::lock_order_inversion:
      return "lock-order inversion (potential deadlock)";
    case FindingKind::fiber_leak:
      return "fiber leak";
    case FindingKind::timer_leak:
      return "timer leak";
    case FindingKind::lost_cancel:
      return "lost cancel";
    case FindingKind::panic:
      return "panic";
  }
  return "?";
}

namespace {

// How long a fiber has waited, in a fiber header. Go shows only whole
// minutes (from 1 minute on); fibers are short-lived in tests, so this shows
// any wait of 1ms or more: "250ms" below a second, "3.2s" below a minute,
// then Go's "3 minutes".
std::string duration_text(std::int64_t ns) {
  char buf[32];
  if (ns < 1'000'000)
    std::snprintf(buf, sizeof(buf), "%.0fus", static_cast<double>(ns) / 1e3);
  else if (ns < 1'000'000'000)
    std::snprintf(buf, sizeof(buf), "%.0fms", static_cast<double>(ns) / 1e6);
  else if (ns < 60'000'000'000)
    std::snprintf(buf, sizeof(buf), "%.1fs", static_cast<double>(ns) / 1e9);
  else if (ns < 120'000'000'000)
    std::snprintf(buf, sizeof(buf), "1 minute");
  else
    std::snprintf(buf, sizeof(buf), "%lld minutes", static_cast<long long>(ns / 60'000'000'000));
  return buf;
}

constexpr std::int64_t kShowWaitFromNs = 1'000'000;

// "created by fiber 1 at:" (or by a foreign thread: parent 0).
std::string created_by_line(const FiberInfo& fi) {
  if (fi.parent_id == 0) return "created outside any fiber at:";
  return "created by fiber " + std::to_string(fi.parent_id) + " at:";
}

void print_stack(std::ostringstream& out, const std::vector<Frame>& st, const char* indent) {
  if (st.empty()) {
    out << indent << "(no frames)\n";
    return;
  }
  for (std::size_t i = 0; i < st.size(); ++i) out << indent << "#" << i << " " << format_frame(st[i]) << "\n";
}

std::string json_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string q(const std::string& s) { return "\"" + json_escape(s) + "\""; }

std::string hex(std::uintptr_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(v));
  return buf;
}

void json_frames(std::ostringstream& out, const std::vector<Frame>& st) {
  out << "[";
  for (std::size_t i = 0; i < st.size(); ++i) {
    const Frame& f = st[i];
    if (i) out << ", ";
    out << "{\"pc\": " << q(hex(f.pc)) << ", \"module\": " << q(f.module) << ", \"offset\": " << q(hex(f.offset))
        << ", \"function\": " << q(f.function) << ", \"file\": " << q(f.file) << ", \"line\": " << f.line
        << ", \"column\": " << f.column << "}";
  }
  out << "]";
}

}  // namespace

std::string format_frame(const Frame& fr) {
  std::string s = fr.function.empty() ? "<unknown>" : fr.function;
  if (!fr.file.empty()) {
    s += " " + fr.file + ":" + std::to_string(fr.line);
    if (fr.column > 0) s += ":" + std::to_string(fr.column);
  }
  char buf[64];
  std::string mod = fr.module.substr(fr.module.rfind('/') + 1);
  std::snprintf(buf, sizeof(buf), " (%s+0x%lx)", mod.c_str(), static_cast<unsigned long>(fr.offset));
  return s + buf;
}

namespace {

void print_fiber_ref(std::ostringstream& out, std::uint64_t id, const std::string& name) {
  out << "fiber " << id;
  if (!name.empty()) out << " \"" << name << "\"";
}

const FiberInfo* find_fiber(const Finding& f, std::uint64_t id) {
  for (const FiberInfo& fi : f.fibers)
    if (fi.id == id) return &fi;
  return nullptr;
}

// Races: both accesses with stacks, the location, then where each fiber
// was created (REPORTS.md).
void print_race(std::ostringstream& out, const Finding& f) {
  for (std::size_t i = 0; i < f.accesses.size(); ++i) {
    const Access& a = f.accesses[i];
    const FiberInfo* fi = find_fiber(f, a.fiber);
    std::string op = (a.atomic ? "atomic " : "") + a.op;
    if (i > 0) op = "previous " + op;
    op[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(op[0])));
    out << "  " << op << " of size " << a.size << " at " << hex(a.addr) << " by ";
    print_fiber_ref(out, a.fiber, fi != nullptr ? fi->name : "");
    out << ":\n";
    print_stack(out, a.stack, "    ");
    for (const HeldLock& h : a.held) {
      out << "    Mutex " << hex(h.addr) << " (" << (h.write ? "write" : "read") << ") held, acquired at:\n";
      print_stack(out, h.acquired_at, "      ");
    }
    out << "\n";
  }
  if (f.location) {
    const Location& l = *f.location;
    if (l.kind == "heap") {
      out << "  Location is " << l.name << " allocated by fiber " << l.alloc_fiber << " at:\n";
      print_stack(out, l.alloc_stack, "    ");
    } else if (l.kind == "global") {
      out << "  Location is global '" << l.name << "' of size " << l.size << "\n";
    } else if (l.kind == "stack") {
      out << "  Location is the " << l.name << "\n";
    } else {
      out << "  Location is unknown memory\n";
    }
    out << "\n";
  }
  for (const FiberInfo& fi : f.fibers) {
    out << "  ";
    std::ostringstream ref;
    print_fiber_ref(ref, fi.id, fi.name);
    std::string r = ref.str();
    r[0] = 'F';
    out << r << " created by fiber " << fi.parent_id << " at:\n";
    print_stack(out, fi.created_at, "    ");
    out << "\n";
  }
}

}  // namespace

std::string format_fiber_header(const FiberInfo& fi) {
  std::ostringstream out;
  if (fi.id == 0)
    out << fi.name;  // a foreign thread: "foreign thread <tid>"
  else
    print_fiber_ref(out, fi.id, fi.name);
  out << " [" << (fi.wait_reason.empty() ? fi.state : fi.wait_reason);
  if (!fi.wait_reason.empty() && fi.wait_ns >= kShowWaitFromNs) out << ", " << duration_text(fi.wait_ns);
  out << "]";
  return out.str();
}

std::string format_fiber_dump(const std::vector<FiberInfo>& fibers) {
  // Go's layout: a header per fiber, its frames indented, a blank line after.
  std::ostringstream out;
  for (const FiberInfo& fi : fibers) {
    out << format_fiber_header(fi) << ":\n";
    if (!fi.stack.empty())
      print_stack(out, fi.stack, "  ");
    else if (fi.state == "runnable" || fi.state == "running")
      out << "  (stack not captured: " << fi.state << ")\n";
    else
      out << "  (no frames)\n";
    if (fi.id != 0 && (!fi.created_at.empty() || fi.parent_id != 0)) {
      out << created_by_line(fi) << "\n";
      print_stack(out, fi.created_at, "  ");
    }
    out << "\n";
  }
  return out.str();
}

std::string format_text(const Finding& f) {
  std::ostringstream out;
  out << "==================\n";
  out << "WARNING: fibersan: " << headline(f.kind);
  if (f.kind == FindingKind::panic) out << ": " << f.message;
  out << " (pid=" << getpid() << ")\n";
  switch (f.kind) {
    case FindingKind::data_race:
      print_race(out, f);
      break;
    case FindingKind::global_deadlock:
    case FindingKind::partial_deadlock:
    case FindingKind::fiber_leak:
    case FindingKind::timer_leak:
    case FindingKind::lost_cancel:
    case FindingKind::lock_order_inversion:
      out << "  " << f.message << "\n";
      if (f.location && (f.kind == FindingKind::timer_leak || f.kind == FindingKind::lost_cancel)) {
        // A leaked object: where it was made (creation_site.hpp).
        out << "\n  " << f.location->name << " made by ";
        if (f.location->alloc_fiber != 0)
          out << "fiber " << f.location->alloc_fiber;
        else
          out << "a thread outside any fiber";
        out << " at:\n";
        print_stack(out, f.location->alloc_stack, "    ");
      }
      [[fallthrough]];
    case FindingKind::panic:
      for (const FiberInfo& fi : f.fibers) {
        out << "\n  " << format_fiber_header(fi) << ":\n";
        print_stack(out, fi.stack, "    ");
        if (!fi.created_at.empty() || fi.parent_id != 0) {
          out << "  " << created_by_line(fi) << "\n";
          print_stack(out, fi.created_at, "    ");
        }
      }
      break;
  }
  if (!f.test.empty()) out << "  in test " << f.test << "\n";
  out << "SUMMARY: fibersan: " << f.summary << "\n";
  out << "==================\n";
  return out.str();
}

std::string format_json_report(const std::vector<Finding>& findings, const std::string& options_text) {
  std::ostringstream out;
  out << "{\n  \"schema\": \"fibersan-report/1\",\n  \"tool\": {\"name\": \"fibersan\", \"version\": \"0.1.0\"},\n";
  out << "  \"process\": {\"options\": " << q(options_text) << "},\n  \"findings\": [";
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    out << (i ? ",\n" : "\n") << "    {\"id\": " << q(f.id) << ", \"kind\": " << q(to_string(f.kind))
        << ", \"signature\": " << q(f.signature) << ", \"summary\": " << q(f.summary)
        << ", \"message\": " << q(f.message);
    if (!f.test.empty()) out << ", \"test\": " << q(f.test);
    out << ",\n     \"fibers\": [";
    for (std::size_t j = 0; j < f.fibers.size(); ++j) {
      const FiberInfo& fi = f.fibers[j];
      out << (j ? ", " : "") << "{\"id\": " << fi.id << ", \"name\": " << q(fi.name) << ", \"state\": " << q(fi.state)
          << ", \"wait_reason\": " << (fi.wait_reason.empty() ? "null" : q(fi.wait_reason))
          << ", \"wait_ns\": " << fi.wait_ns << ", \"parent\": " << fi.parent_id << ", \"stack\": ";
      json_frames(out, fi.stack);
      out << ", \"created_at\": ";
      json_frames(out, fi.created_at);
      out << "}";
    }
    out << "],\n     \"accesses\": [";
    for (std::size_t j = 0; j < f.accesses.size(); ++j) {
      const Access& a = f.accesses[j];
      out << (j ? ", " : "") << "{\"fiber\": " << a.fiber << ", \"op\": " << q(a.op) << ", \"size\": " << a.size
          << ", \"addr\": " << q(hex(a.addr)) << ", \"atomic\": " << (a.atomic ? "true" : "false") << ", \"stack\": ";
      json_frames(out, a.stack);
      out << ", \"held\": [";
      for (std::size_t k = 0; k < a.held.size(); ++k) {
        const HeldLock& h = a.held[k];
        out << (k ? ", " : "") << "{\"addr\": " << q(hex(h.addr)) << ", \"mode\": " << q(h.write ? "write" : "read")
            << ", \"stack\": ";
        json_frames(out, h.acquired_at);
        out << "}";
      }
      out << "]}";
    }
    out << "]";
    if (f.location) {
      out << ",\n     \"location\": {\"kind\": " << q(f.location->kind) << ", \"size\": " << f.location->size
          << ", \"name\": " << q(f.location->name) << ", \"alloc_fiber\": " << f.location->alloc_fiber
          << ", \"alloc_stack\": ";
      json_frames(out, f.location->alloc_stack);
      out << "}";
    }
    if (!f.graph.empty()) {
      out << ",\n     \"graph\": {\"nodes\": [";
      for (std::size_t j = 0; j < f.graph.nodes.size(); ++j) {
        const GraphNode& n = f.graph.nodes[j];
        out << (j ? ", " : "") << "{\"id\": " << q(n.id) << ", \"type\": " << q(n.type) << ", \"label\": " << q(n.label)
            << "}";
      }
      out << "], \"edges\": [";
      for (std::size_t j = 0; j < f.graph.edges.size(); ++j) {
        const GraphEdge& e = f.graph.edges[j];
        out << (j ? ", " : "") << "{\"from\": " << q(e.from) << ", \"to\": " << q(e.to) << ", \"label\": " << q(e.label)
            << "}";
      }
      out << "], \"cycle\": [";
      for (std::size_t j = 0; j < f.graph.cycle.size(); ++j) out << (j ? ", " : "") << q(f.graph.cycle[j]);
      out << "]}";
    }
    out << "}";
  }
  out << "\n  ]\n}\n";
  return out.str();
}

}  // namespace fsan::detail
