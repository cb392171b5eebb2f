// Symbolizer: pcs -> Frames (module+offset always; function, file:line:col
// where debug info allows). Uses llvm-symbolizer (or addr2line) as a child
// process, like the sanitizers do, so the runtime links no DWARF reader.
// Cold path only (reports). Thread-safe (one lock around the child).
#pragma once

#include <cstdint>
#include <vector>

#include <fsan/finding.hpp>

namespace fsan::detail {

// symbolize: one Frame per pc. Return addresses are looked up at pc-1 so the
// line is that of the call, not of the instruction after it.
std::vector<Frame> symbolize(const std::uintptr_t* pcs, int n, bool return_addresses = true);

// set_symbolizer_options: from the run's flags (symbolize,
// external_symbolizer_path).
void set_symbolizer_options(bool enabled, const std::string& path);

}  // namespace fsan::detail
