// Merging per-process report files into one Report (report_model.hpp):
// findings with the same signature are one MergedFinding that counts its
// occurrences and remembers the processes and FSAN_TESTs it came from.
// Order: processes in input order, findings in the order first seen, so
// the output of `fsan report` is stable for sorted inputs.
#pragma once

#include <string>
#include <unordered_map>

#include "report_loader.hpp"
#include "report_model.hpp"

namespace fsan::reports {

// dedupe_key: the key findings are merged by: kind and signature. A finding
// without a signature (hand-written JSON) is keyed by kind, summary and
// message instead.
std::string dedupe_key(const Finding& f);

// ReportMerger: add() each file, then take() the merged report.
// Example:
//   ReportMerger m;
//   for (ReportFile& f : files) m.add(std::move(f));
//   Report r = m.take();
class ReportMerger {
 public:
  // add: appends file.process to the processes and folds each finding in.
  void add(ReportFile file);
  // add_error: one line for Report::errors.
  void add_error(std::string line) { report_.errors.push_back(std::move(line)); }
  // take: the merged report; the merger is empty afterwards.
  Report take();

 private:
  Report report_;
  std::unordered_map<std::string, std::size_t> index_by_key_;  // dedupe_key -> index in report_.findings
};

}  // namespace fsan::reports
