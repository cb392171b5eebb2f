// format_finding_text (text_report.hpp): the layout of the runtime's
// format_text, line for line. Switches over FindingKind have no default.
#include "text_report.hpp"

#include <cctype>
#include <cstdio>
#include <sstream>

#include "html_text.hpp"  // the words both layouts share (headers, durations)

namespace fsan::reports {
namespace {

const char* text_headline(FindingKind k) {
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

void print_stack(std::ostringstream& out, const std::vector<Frame>& st, const char* indent) {
  if (st.empty()) {
    out << indent << "(no frames)\n";
    return;
  }
  for (std::size_t i = 0; i < st.size(); ++i) out << indent << "#" << i << " " << format_frame_text(st[i]) << "\n";
}

const FiberInfo* find_fiber(const Finding& f, std::uint64_t id) {
  for (const FiberInfo& fi : f.fibers)
    if (fi.id == id) return &fi;
  return nullptr;
}

void print_race(std::ostringstream& out, const Finding& f) {
  for (std::size_t i = 0; i < f.accesses.size(); ++i) {
    const Access& a = f.accesses[i];
    const FiberInfo* fi = find_fiber(f, a.fiber);
    std::string op = (a.atomic ? "atomic " : "") + (a.op.empty() ? std::string("access") : a.op);
    if (i > 0) op = "previous " + op;
    op[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(op[0])));
    out << "  " << op << " of size " << a.size << " at " << hex_text(a.addr) << " by "
        << fiber_ref_text(a.fiber, fi != nullptr ? fi->name : "") << ":\n";
    print_stack(out, a.stack, "    ");
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
    std::string r = fiber_ref_text(fi.id, fi.name);
    r[0] = 'F';
    out << "  " << r << " created by fiber " << fi.parent_id << " at:\n";
    print_stack(out, fi.created_at, "    ");
    out << "\n";
  }
}

}  // namespace

std::string format_frame_text(const Frame& fr) {
  std::string s = fr.function.empty() ? "<unknown>" : fr.function;
  if (!fr.file.empty()) {
    s += " " + fr.file + ":" + std::to_string(fr.line);
    if (fr.column > 0) s += ":" + std::to_string(fr.column);
  }
  std::string mod = fr.module.substr(fr.module.rfind('/') + 1);
  return s + " (" + mod + "+" + hex_text(fr.offset) + ")";
}

std::string format_finding_text(const Finding& f, long pid) {
  std::ostringstream out;
  out << "==================\n";
  out << "WARNING: fibersan: " << text_headline(f.kind);
  if (f.kind == FindingKind::panic) out << ": " << f.message;
  if (pid != 0) out << " (pid=" << pid << ")";
  out << "\n";
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
      [[fallthrough]];
    case FindingKind::panic:
      for (const FiberInfo& fi : f.fibers) {
        out << "\n  " << fiber_header_text(fi) << ":\n";
        print_stack(out, fi.stack, "    ");
        if (!fi.created_at.empty() || fi.parent_id != 0) {
          out << "  " << created_by_text(fi) << "\n";
          print_stack(out, fi.created_at, "    ");
        }
      }
      break;
  }
  out << "SUMMARY: fibersan: " << f.summary << "\n";
  out << "==================\n";
  return out.str();
}

}  // namespace fsan::reports
