// ReportMerger (report_merge.hpp). Invariant kept here: for every merged
// finding, count == occurrences.size(), and `processes`/`tests` list each
// value once, in the order first seen.
#include "report_merge.hpp"

#include <algorithm>

namespace fsan::reports {

std::string dedupe_key(const Finding& f) {
  std::string key = to_string(f.kind);
  if (!f.signature.empty()) return key + "|" + f.signature;
  // '\x1f' cannot occur in a signature (hex), so the two key spaces differ.
  return key + "\x1f" + f.summary + "\x1f" + f.message;
}

namespace {

template <typename T>
void add_once(std::vector<T>& list, const T& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

void ReportMerger::add(ReportFile file) {
  std::size_t process = report_.processes.size();
  report_.processes.push_back(std::move(file.process));
  for (Finding& f : file.findings) {
    std::string key = dedupe_key(f);
    auto [it, inserted] = index_by_key_.try_emplace(key, report_.findings.size());
    if (inserted) {
      MergedFinding& m = report_.findings.emplace_back();
      m.count = 0;
      m.finding = std::move(f);
    }
    MergedFinding& m = report_.findings[it->second];
    const std::string& test = inserted ? m.finding.test : f.test;
    ++m.count;
    add_once(m.processes, process);
    if (!test.empty()) add_once(m.tests, test);
    m.occurrences.push_back(Occurrence{process, test});
  }
}

Report ReportMerger::take() {
  Report out = std::move(report_);
  report_ = Report{};
  index_by_key_.clear();
  return out;
}

}  // namespace fsan::reports
