// The sanitizer-style text block of one finding, as the runtime prints it on
// stderr (runtime/report/text_printer.cpp, format_text), for the JUnit
// failure bodies. `fsan` cannot link libfsan (it would bring the scheduler
// and interceptors), so this is an equivalent formatter over the same
// records; keep the two layouts in step.
#pragma once

#include <string>

#include <fsan/finding.hpp>

namespace fsan::reports {

// format_finding_text: "==================\nWARNING: fibersan: data race
// (pid=4242)\n ... SUMMARY: fibersan: ...\n==================\n". `pid` is
// the process the finding came from (0: left out).
std::string format_finding_text(const Finding& f, long pid);

// format_frame_text: "bump() counter.cpp:12:5 (app+0x1234)".
std::string format_frame_text(const Frame& fr);

}  // namespace fsan::reports
