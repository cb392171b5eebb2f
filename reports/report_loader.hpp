// Reading fibersan-report/1 JSON files (REPORTS.md "JSON schema") into the
// runtime's Finding records, for `fsan report`. A file that cannot be used is
// one line in the error list, never an exception out of here and never a
// reason to drop the other files: CI shards die mid-write, and the report of
// everything else is still wanted.
//
// Error lines name the file first: "a.json:3:17: malformed JSON at byte 95:
// ...", "a.json: not a fibersan report: ...", "a.json: finding 2 (race-1):
// unknown kind \"x\"; skipped".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report_model.hpp"

namespace fsan::reports {

// The schema string the runtime writes (REPORTS.md).
inline constexpr const char* kReportSchema = "fibersan-report/1";

// ReportFile: one input file, parsed.
struct ReportFile {
  ProcessInfo process;            // process.file is the file's name
  std::vector<Finding> findings;  // the findings that could be read, in file order
};

// parse_report_json: `text` is the content of `file_name`. Returns nullopt
// (and appends one line to `errors`) when the file is not valid JSON or not
// a fibersan report; a finding that cannot be read (unknown kind, a field of
// the wrong type) costs one line and is skipped, the rest are kept. Optional
// fields may be missing.
std::optional<ReportFile> parse_report_json(const std::string& text, const std::string& file_name,
                                            std::vector<std::string>& errors);

// read_report_file: parse_report_json of the file at `path`; an unreadable
// file is one error line.
std::optional<ReportFile> read_report_file(const std::string& path, std::vector<std::string>& errors);

// collect_input_files: `args` are files or directories; a directory stands
// for every *.json file below it (recursively), sorted by path. Files named
// explicitly are taken whatever their name; a file reached twice is listed
// once. A path that does not exist is one error line.
std::vector<std::string> collect_input_files(const std::vector<std::string>& args, std::vector<std::string>& errors);

// load_report: collect_input_files, read each, and merge (report_merge.hpp)
// into one Report; every error line lands in Report::errors.
Report load_report(const std::vector<std::string>& args);

}  // namespace fsan::reports
