// Suppression files (suppressions.hpp). Matching is a backtracking glob over
// short names; patterns and names are small, so no precompilation.
#include "suppressions.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "kinds.hpp"

namespace fsan::reports {
namespace {

// glob_match: `*` matches any run (also empty); everything else literally;
// the whole of `name` must be consumed.
bool glob_match(std::string_view p, std::string_view s) {
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (pi < p.size() && p[pi] == s[si]) {
      ++pi;
      ++si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<FindingKind> kinds_of_type(std::string_view type) {
  std::vector<FindingKind> out;
  for (FindingKind k : all_kinds)
    if (type == suppression_type(k) || type == to_string(k)) out.push_back(k);
  return out;
}

bool frame_matches(const Suppression& s, const Frame& fr) {
  for (const std::string* name : {&fr.function, &fr.file, &fr.module})
    if (!name->empty() && template_match(s.pattern, *name)) return true;
  return false;
}

bool stack_matches(const Suppression& s, const std::vector<Frame>& st) {
  for (const Frame& fr : st)
    if (frame_matches(s, fr)) return true;
  return false;
}

bool finding_matches(const Suppression& s, const Finding& f) {
  for (const FiberInfo& fi : f.fibers)
    if (stack_matches(s, fi.stack) || stack_matches(s, fi.created_at)) return true;
  for (const Access& a : f.accesses) {
    if (stack_matches(s, a.stack)) return true;
    for (const HeldLock& h : a.held)
      if (stack_matches(s, h.acquired_at)) return true;
  }
  return f.location && stack_matches(s, f.location->alloc_stack);
}

}  // namespace

bool template_match(std::string_view pattern, std::string_view name) {
  bool at_start = !pattern.empty() && pattern.front() == '^';
  if (at_start) pattern.remove_prefix(1);
  bool at_end = !pattern.empty() && pattern.back() == '$';
  if (at_end) pattern.remove_suffix(1);
  std::string glob;
  if (!at_start) glob += '*';
  glob += pattern;
  if (!at_end) glob += '*';
  return glob_match(glob, name);
}

std::vector<Suppression> parse_suppressions(const std::string& text, const std::string& file_name,
                                            std::vector<std::string>& errors) {
  std::vector<Suppression> out;
  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    std::string where = file_name + ":" + std::to_string(line_no);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      errors.push_back(where + ": expected TYPE:PATTERN (race, deadlock, leak or panic), got \"" + std::string(line) +
                       "\"");
      continue;
    }
    std::string_view type = trim(line.substr(0, colon));
    std::string_view pattern = trim(line.substr(colon + 1));
    std::vector<FindingKind> kinds = kinds_of_type(type);
    if (kinds.empty()) {
      errors.push_back(where + ": unknown suppression type \"" + std::string(type) +
                       "\" (expected race, deadlock, leak or panic)");
      continue;
    }
    if (pattern.empty() || pattern == "^" || pattern == "$" || pattern == "^$") {
      errors.push_back(where + ": empty pattern after \"" + std::string(type) + ":\"");
      continue;
    }
    out.push_back(Suppression{std::move(kinds), std::string(pattern), where, std::string(line)});
  }
  return out;
}

std::optional<std::vector<Suppression>> read_suppressions(const std::string& path, std::vector<std::string>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back(path + ": cannot open suppressions file: " + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_suppressions(buf.str(), path, errors);
}

const Suppression* matching_suppression(const std::vector<Suppression>& list, const Finding& f) {
  for (const Suppression& s : list) {
    bool covers = false;
    for (FindingKind k : s.kinds) covers = covers || k == f.kind;
    if (covers && finding_matches(s, f)) return &s;
  }
  return nullptr;
}

void apply_suppressions(Report& report, const std::vector<Suppression>& list) {
  for (MergedFinding& m : report.findings) {
    if (const Suppression* s = matching_suppression(list, m.finding)) {
      m.suppressed = true;
      m.suppressed_by = s->origin + ": " + s->text;
    }
  }
}

}  // namespace fsan::reports
