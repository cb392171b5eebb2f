// Symbolizer: pcs -> Frames (module+offset always; function, file:line:col
// where debug info allows). Uses llvm-symbolizer (or addr2line) as a child
// process, like the sanitizers do, so the runtime links no DWARF reader.
// llvm-symbolizer runs as one persistent child fed "module offset" lines on
// stdin, and answers are cached per module+offset, so a report or a dump
// costs one round trip for the pcs not seen before. Cold path only (reports
// and dumps). Thread-safe (one lock around the child and the cache).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <fsan/finding.hpp>

namespace fsan::detail {

// symbolize: one Frame per pc. Return addresses are looked up at pc-1 so the
// line is that of the call, not of the instruction after it.
std::vector<Frame> symbolize(const std::uintptr_t* pcs, int n, bool return_addresses = true);

// symbolize_each: the same, grouped per pc (an inlined call expands to
// several frames, innermost first); lets a caller batch many stacks.
std::vector<std::vector<Frame>> symbolize_each(const std::uintptr_t* pcs, int n, bool return_addresses = true);

// symbolize_data: the global variable holding addr (name, start, size), from
// the module's symbol table; false if addr is in no known global.
bool symbolize_data(std::uintptr_t addr, std::string* name, std::uintptr_t* start, std::size_t* size);

// set_symbolizer_options: from the run's flags (symbolize,
// external_symbolizer_path).
void set_symbolizer_options(bool enabled, const std::string& path);

}  // namespace fsan::detail
