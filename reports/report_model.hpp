// The merged report `fsan report` renders: findings read from many
// per-process JSON files (fibersan-report/1, REPORTS.md), deduplicated by
// signature, with suppressions applied. The records are the runtime's own
// (fsan/finding.hpp), so every renderer speaks the one schema.
//
// Invariants: `findings` holds one entry per distinct signature, in the order
// first seen; `count` >= 1 counts the occurrences over all files; every index
// in `processes` is valid in Report::processes; `occurrences.size() == count`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <fsan/finding.hpp>

namespace fsan::reports {

// One input file's "process" object.
struct ProcessInfo {
  std::string file;  // the JSON file it came from
  long pid = 0;
  std::vector<std::string> argv;
  std::string started;  // ISO 8601, as written by the runtime
  std::string options;
};

// Occurrence: one input file's copy of a finding.
struct Occurrence {
  std::size_t process = 0;  // index into Report::processes
  std::string test;         // the FSAN_TEST it came from, or empty
};

struct MergedFinding {
  Finding finding;   // the first occurrence, as read
  int count = 1;     // occurrences over all inputs (same signature)
  std::vector<std::size_t> processes;  // indices into Report::processes
  std::vector<std::string> tests;      // FSAN_TEST names it occurred in
  bool suppressed = false;             // matched a suppression; kept for totals
  std::string suppressed_by;           // the suppression line that matched
  std::vector<Occurrence> occurrences;  // every copy, in input order (count of them)
};

struct Report {
  std::vector<ProcessInfo> processes;
  std::vector<MergedFinding> findings;
  std::vector<std::string> errors;  // one line each: a file that could not be read or parsed
};

}  // namespace fsan::reports
