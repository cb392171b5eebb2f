// fsan::Options: every runtime flag as a field, generated from flags.inc.
// FSAN_OPTIONS (colon- or space-separated name=value pairs) overrides fields
// set in code, like TSAN_OPTIONS.
#pragma once

#include <cstdint>
#include <string>

namespace fsan {

struct Options {
#define FSAN_FLAG(type, name, def, help) type name = def;
#include <fsan/flags.inc>
#undef FSAN_FLAG
};

// parse_options: applies "name=value:name=value" to `o`. Returns an empty
// string on success, else a one-line message naming the bad name or value
// (nothing is applied from a string that has an error).
std::string parse_options(const std::string& text, Options& o);

// options_help: one line per flag: name, type, default, help.
std::string options_help();

}  // namespace fsan
