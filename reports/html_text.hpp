// The words of the HTML page that must read exactly like the runtime's text
// report (runtime/report/text_printer.cpp): kind headlines, Go-style fiber
// headers (`fiber 7 "sender" [chan send, 1.5s]`), "created by" lines and
// frame text. libfsan is not linked into `fsan report` (it would bring the
// scheduler and interceptors), so these follow its conventions here.
#pragma once

#include <cstdint>
#include <string>

#include <fsan/finding.hpp>

namespace fsan::reports {

// kind_headline: "data race", "partial deadlock", ... (as after "WARNING: fibersan: ").
const char* kind_headline(FindingKind k);

// wait_duration_text: Go's wait time, "250ms", "1.5s", "1 minute", "3 minutes".
std::string wait_duration_text(std::int64_t ns);

// fiber_ref_text: `fiber 7 "worker"` (no name: `fiber 7`).
std::string fiber_ref_text(std::uint64_t id, const std::string& name);

// fiber_header_text: `fiber 7 "worker" [chan send, 1.5s]` (no colon); the
// wait time is shown from 1ms on, as the runtime does.
std::string fiber_header_text(const FiberInfo& fi);

// created_by_text: "created by fiber 1 at:" or "created outside any fiber at:".
std::string created_by_text(const FiberInfo& fi);

// hex_text: "0x1a2b".
std::string hex_text(std::uintptr_t v);

// base_name: the last path component ("/usr/lib/libc.so.6" -> "libc.so.6").
std::string base_name(const std::string& path);

}  // namespace fsan::reports
