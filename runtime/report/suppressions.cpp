// Suppressions (suppressions.hpp): parsing the file, matching findings.
// Lock order: g_rules_mu is a leaf (publish_finding takes it before its
// store lock, never inside it).
#include "report/suppressions.hpp"

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

namespace fsan::detail {
namespace {

std::mutex g_rules_mu;
std::vector<Suppression>* g_rules = new std::vector<Suppression>();  // guarded by g_rules_mu

SuppressionType type_of(FindingKind k) {
  switch (k) {
    case FindingKind::data_race:
      return SuppressionType::race;
    case FindingKind::global_deadlock:
    case FindingKind::partial_deadlock:
    case FindingKind::lock_order_inversion:
      return SuppressionType::deadlock;
    case FindingKind::fiber_leak:
    case FindingKind::timer_leak:
    case FindingKind::lost_cancel:
      return SuppressionType::leak;
    case FindingKind::panic:
      return SuppressionType::panic;
  }
  return SuppressionType::panic;
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  std::size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Glob with `*` against name[from..]; the whole rest must match when
// `to_end`, else a prefix suffices. Iterative with one backtrack point.
bool match_here(const char* p, const char* pe, const char* s, const char* se, bool to_end) {
  const char* star = nullptr;
  const char* retry = nullptr;
  while (true) {
    if (p == pe && (!to_end || s == se)) return true;
    if (p != pe && *p == '*') {
      star = ++p;
      retry = s;
      continue;
    }
    if (p != pe && s != se && *p == *s) {
      ++p;
      ++s;
      continue;
    }
    if (star == nullptr || retry == se) return false;
    p = star;
    s = ++retry;
  }
}

bool frame_matches(const std::string& pattern, const Frame& fr) {
  return (!fr.function.empty() && glob_match(pattern, fr.function)) ||
         (!fr.file.empty() && glob_match(pattern, fr.file)) || (!fr.module.empty() && glob_match(pattern, fr.module));
}

bool stack_matches(const std::string& pattern, const std::vector<Frame>& st) {
  for (const Frame& fr : st)
    if (frame_matches(pattern, fr)) return true;
  return false;
}

bool finding_matches(const std::string& pattern, const Finding& f) {
  for (const Access& a : f.accesses) {
    if (stack_matches(pattern, a.stack)) return true;
    for (const HeldLock& h : a.held)
      if (stack_matches(pattern, h.acquired_at)) return true;
  }
  for (const FiberInfo& fi : f.fibers)
    if (stack_matches(pattern, fi.stack) || stack_matches(pattern, fi.created_at)) return true;
  if (f.location) {
    if (f.location->kind == "global" && !f.location->name.empty() && glob_match(pattern, f.location->name)) return true;
    if (stack_matches(pattern, f.location->alloc_stack)) return true;
  }
  return false;
}

}  // namespace

bool glob_match(const std::string& pattern, const std::string& name) {
  const char* p = pattern.data();
  const char* pe = p + pattern.size();
  bool anchored_start = p != pe && *p == '^';
  if (anchored_start) ++p;
  bool anchored_end = pe != p && pe[-1] == '$';
  if (anchored_end) --pe;
  const char* s = name.data();
  const char* se = s + name.size();
  if (anchored_start) return match_here(p, pe, s, se, anchored_end);
  for (const char* from = s; from <= se; ++from)
    if (match_here(p, pe, from, se, anchored_end)) return true;
  return false;
}

std::string parse_suppressions(const std::string& text, const std::string& file, std::vector<Suppression>* out) {
  std::vector<Suppression> rules;
  std::istringstream in(text);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    std::size_t colon = line.find(':');
    std::string where = file + ":" + std::to_string(number);
    if (colon == std::string::npos)
      return "fibersan: suppressions " + where + ": '" + line + "' is not TYPE:PATTERN (race, deadlock, leak, panic)";
    std::string type = trim(line.substr(0, colon)), pattern = trim(line.substr(colon + 1));
    Suppression s{SuppressionType::race, pattern};
    if (type == "race")
      s.type = SuppressionType::race;
    else if (type == "deadlock")
      s.type = SuppressionType::deadlock;
    else if (type == "leak")
      s.type = SuppressionType::leak;
    else if (type == "panic")
      s.type = SuppressionType::panic;
    else
      return "fibersan: suppressions " + where + ": unknown type '" + type + "' (race, deadlock, leak, panic)";
    if (pattern.empty() || pattern == "^" || pattern == "$" || pattern == "^$")
      return "fibersan: suppressions " + where + ": empty pattern after '" + type + ":'";
    rules.push_back(std::move(s));
  }
  *out = std::move(rules);
  return "";
}

bool is_suppressed(const Finding& f, const std::vector<Suppression>& rules) {
  SuppressionType t = type_of(f.kind);
  for (const Suppression& s : rules)
    if (s.type == t && finding_matches(s.pattern, f)) return true;
  return false;
}

bool load_suppressions(const std::string& file) {
  std::vector<Suppression> rules;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) {
      std::fprintf(stderr, "fibersan: suppressions file %s: cannot open\n", file.c_str());
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    if (in.bad()) {
      std::fprintf(stderr, "fibersan: suppressions file %s: cannot read\n", file.c_str());
      return false;
    }
    std::string err = parse_suppressions(text.str(), file, &rules);
    if (!err.empty()) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return false;
    }
  }
  std::lock_guard<std::mutex> g(g_rules_mu);
  *g_rules = std::move(rules);
  return true;
}

bool suppressed(const Finding& f) {
  std::lock_guard<std::mutex> g(g_rules_mu);
  return !g_rules->empty() && is_suppressed(f, *g_rules);
}

}  // namespace fsan::detail
