// JUnit XML output of `fsan report --junit F` (REPORTS.md "Machine
// formats"): a <testsuite> per test binary (argv[0]'s base name of the
// processes), a <testcase> per FSAN_TEST that had findings, and one per
// binary for findings outside any FSAN_TEST and for processes that reported
// nothing (those pass). A testcase with unsuppressed findings fails: one
// <failure message=summary type=kind> whose body is the text report of each
// finding, as the runtime printed it. Input files that could not be used
// (Report::errors) are one <error> case in a suite "fsan-report".
#pragma once

#include <string>

#include "report_model.hpp"

namespace fsan::reports {

// render_junit: the XML document.
std::string render_junit(const Report& report);

// binary_name: the test binary a process was: argv[0]'s base name, or the
// report file's name when argv is missing.
std::string binary_name(const ProcessInfo& p);

// xml_escape: text for element content and double-quoted attributes; bytes
// that are not valid UTF-8 and control characters XML 1.0 forbids become
// U+FFFD.
std::string xml_escape(const std::string& s);

}  // namespace fsan::reports
