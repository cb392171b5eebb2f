// Printers of Finding records: the sanitizer-style text block (stderr) and
// the per-process JSON document (REPORTS.md, schema fibersan-report/1).
// Switches over FindingKind have no default on purpose.
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "report/report.hpp"

namespace fsan::detail {
namespace {

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

std::string duration_text(std::int64_t ns) {
  char buf[32];
  if (ns < 1'000'000)
    std::snprintf(buf, sizeof(buf), "%.0fus", static_cast<double>(ns) / 1e3);
  else if (ns < 1'000'000'000)
    std::snprintf(buf, sizeof(buf), "%.0fms", static_cast<double>(ns) / 1e6);
  else if (ns < 60'000'000'000)
    std::snprintf(buf, sizeof(buf), "%.1fs", static_cast<double>(ns) / 1e9);
  else
    std::snprintf(buf, sizeof(buf), "%lld minutes", static_cast<long long>(ns / 60'000'000'000));
  return buf;
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

std::string format_text(const Finding& f) {
  std::ostringstream out;
  out << "==================\n";
  out << "WARNING: fibersan: " << headline(f.kind);
  if (f.kind == FindingKind::panic) out << ": " << f.message;
  out << " (pid=" << getpid() << ")\n";
  switch (f.kind) {
    case FindingKind::global_deadlock:
    case FindingKind::partial_deadlock:
    case FindingKind::fiber_leak:
    case FindingKind::timer_leak:
    case FindingKind::lost_cancel:
    case FindingKind::lock_order_inversion:
    case FindingKind::data_race:
      if (f.kind != FindingKind::data_race) out << "  " << f.message << "\n";
      break;
    case FindingKind::panic:
      break;
  }
  for (const Access& a : f.accesses) {
    out << "  " << (a.atomic ? "Atomic " : "") << (a.op == "write" ? "Write" : "Read") << " of size " << a.size
        << " at " << hex(a.addr) << " by fiber " << a.fiber << ":\n";
    print_stack(out, a.stack, "    ");
  }
  for (const FiberInfo& fi : f.fibers) {
    out << "\n  fiber " << fi.id;
    if (!fi.name.empty()) out << " \"" << fi.name << "\"";
    out << " [" << (fi.wait_reason.empty() ? fi.state : fi.wait_reason);
    if (!fi.wait_reason.empty() && fi.wait_ns >= 1'000'000) out << ", " << duration_text(fi.wait_ns);
    out << "]:\n";
    print_stack(out, fi.stack, "    ");
    if (!fi.created_at.empty() || fi.parent_id != 0) {
      out << "  created by fiber " << fi.parent_id << " at:\n";
      print_stack(out, fi.created_at, "    ");
    }
  }
  out << "SUMMARY: fibersan: " << to_string(f.kind) << " " << f.summary << "\n";
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
        << ", \"message\": " << q(f.message) << ",\n     \"fibers\": [";
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
      out << "}";
    }
    out << "]";
    if (f.location) {
      out << ",\n     \"location\": {\"kind\": " << q(f.location->kind) << ", \"size\": " << f.location->size
          << ", \"name\": " << q(f.location->name) << ", \"alloc_stack\": ";
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
