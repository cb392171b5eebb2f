// Suppressions: the `suppressions=FILE` flag, ThreadSanitizer's format.
// Each line is `TYPE:PATTERN` (TYPE race, deadlock, leak or panic; `#`
// starts a comment). A finding is suppressed when a pattern of its type
// matches the function, file or module of any frame of any of its stacks
// (or a race's global variable name). PATTERN is a glob: `*` matches any
// run of characters; like TSan it matches anywhere in the name unless
// anchored with a leading `^` or a trailing `$`.
// Thread-safety: load() runs before a run starts; matching reads an
// immutable list afterwards.
#pragma once

#include <string>
#include <vector>

#include <fsan/finding.hpp>

namespace fsan::detail {

// SuppressionType: which finding kinds a line covers.
enum class SuppressionType { race, deadlock, leak, panic };

struct Suppression {
  SuppressionType type;
  std::string pattern;
};

// parse_suppressions: the lines of `text` (read from `file`, used in
// messages). Returns "" and fills *out, or a one-line error naming
// file:line and the bad text.
std::string parse_suppressions(const std::string& text, const std::string& file, std::vector<Suppression>* out);

// glob_match: TSan's template match (`*`, `^`, `$`; unanchored = substring).
bool glob_match(const std::string& pattern, const std::string& name);

// is_suppressed: whether a rule of the finding's type matches it.
bool is_suppressed(const Finding& f, const std::vector<Suppression>& rules);

// load_suppressions: reads `file` ("" = none) into the process-wide list
// used by publish_finding. On a missing/unreadable file or a bad line prints
// one line naming it and returns false (the run does not start, exit 2,
// as the sanitizers refuse a bad suppressions file).
bool load_suppressions(const std::string& file);

// suppressed: the published-finding check against the loaded list.
bool suppressed(const Finding& f);

}  // namespace fsan::detail
