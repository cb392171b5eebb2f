// Flag parsing: Options fields come from flags.inc; FSAN_OPTIONS is parsed
// with the same table. Errors are one line naming the flag and the value.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include <fsan/options.hpp>

#include "report/report.hpp"

namespace fsan {
namespace {

bool parse_value(const std::string& v, bool* out) {
  if (v == "1" || v == "true" || v == "yes") return *out = true, true;
  if (v == "0" || v == "false" || v == "no") return *out = false, true;
  return false;
}

bool parse_value(const std::string& v, int* out) {
  if (v.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long x = std::strtol(v.c_str(), &end, 0);
  if (errno != 0 || *end != 0 || x < -2147483647L || x > 2147483647L) return false;
  *out = static_cast<int>(x);
  return true;
}

// Unsigned sizes accept k/m/g suffixes (stack_size=1m).
bool parse_value(const std::string& v, std::uint64_t* out) {
  if (v.empty() || v[0] == '-') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long x = std::strtoull(v.c_str(), &end, 0);
  if (errno != 0) return false;
  std::uint64_t mul = 1;
  if (*end == 'k' || *end == 'K') mul = 1ull << 10, ++end;
  else if (*end == 'm' || *end == 'M') mul = 1ull << 20, ++end;
  else if (*end == 'g' || *end == 'G') mul = 1ull << 30, ++end;
  if (*end != 0) return false;
  *out = x * mul;
  return true;
}

bool parse_value(const std::string& v, std::string* out) {
  *out = v;
  return true;
}

const char* type_name(bool*) { return "bool"; }
const char* type_name(int*) { return "int"; }
const char* type_name(std::uint64_t*) { return "uint"; }
const char* type_name(std::string*) { return "string"; }

}  // namespace

std::string parse_options(const std::string& text, Options& o) {
  Options work = o;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find_first_of(": ,\t\n", pos);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    std::size_t eq = item.find('=');
    if (eq == std::string::npos) return "fibersan: FSAN_OPTIONS: '" + item + "' is not name=value";
    std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    bool known = false, ok = false;
#define FSAN_FLAG(type, fname, def, help)                      \
  if (name == #fname) {                                        \
    known = true;                                              \
    ok = parse_value(value, &work.fname);                      \
    if (!ok)                                                   \
      return std::string("fibersan: FSAN_OPTIONS: bad value '") + value + "' for " #fname " (expected " + \
             type_name(&work.fname) + ")";                     \
  }
#include <fsan/flags.inc>
#undef FSAN_FLAG
    if (!known) return "fibersan: FSAN_OPTIONS: unknown flag '" + name + "' (FSAN_OPTIONS=help=1 lists them)";
  }
  o = work;
  return "";
}

std::string options_help() {
  std::ostringstream out;
  out << "fibersan flags (FSAN_OPTIONS=name=value:name=value, or fsan::Options fields):\n";
  Options d;
#define FSAN_FLAG(type, fname, def, help)                                                                 \
  {                                                                                                       \
    std::ostringstream v;                                                                                 \
    v << d.fname;                                                                                         \
    char line[512];                                                                                       \
    std::snprintf(line, sizeof(line), "  %-26s %-7s default %-10s %s\n", #fname, type_name(&d.fname),     \
                  v.str().empty() ? "\"\"" : v.str().c_str(), help);                                      \
    out << line;                                                                                          \
  }
#include <fsan/flags.inc>
#undef FSAN_FLAG
  return out.str();
}

namespace detail {

bool apply_env_options(Options& o) {
  const char* env = std::getenv("FSAN_OPTIONS");
  if (env == nullptr || *env == 0) return true;
  std::string err = parse_options(env, o);
  if (err.empty()) return true;
  std::fprintf(stderr, "%s\n", err.c_str());
  return false;
}

}  // namespace detail
}  // namespace fsan
