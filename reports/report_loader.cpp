// JSON -> Finding (report_loader.hpp). Field names follow the writer,
// runtime/report/text_printer.cpp (format_json_report) and the "process"
// object of runtime/report/finding.cpp. Every field but "kind" may be
// missing; a field of the wrong type is an error for its finding only.
// Addresses ("pc", "offset", "addr") are hex strings ("0x1a"); plain numbers
// are accepted too.
#include "report_loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "kinds.hpp"
#include "report_merge.hpp"

namespace fsan::reports {
namespace {

using nlohmann::json;

// FieldError: a field of a finding is not what the schema says; caught per
// finding (or per file for the "process" object).
struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string describe_type(const json& v) { return v.type_name(); }

[[noreturn]] void wrong_type(const std::string& path, const char* want, const json& v) {
  throw FieldError("\"" + path + "\" is " + describe_type(v) + ", expected " + want);
}

// The accessors: `obj[key]` if present and not null, converted; else the default.
const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string get_string(const json& obj, const char* key, const std::string& path) {
  const json* v = field(obj, key);
  if (v == nullptr) return "";
  if (!v->is_string()) wrong_type(path + key, "a string", *v);
  return v->get<std::string>();
}

template <typename Int>
Int get_int(const json& obj, const char* key, const std::string& path) {
  const json* v = field(obj, key);
  if (v == nullptr) return 0;
  if (!v->is_number_integer()) wrong_type(path + key, "an integer", *v);
  if (v->is_number_unsigned()) return static_cast<Int>(v->get<std::uint64_t>());
  return static_cast<Int>(v->get<std::int64_t>());
}

bool get_bool(const json& obj, const char* key, const std::string& path) {
  const json* v = field(obj, key);
  if (v == nullptr) return false;
  if (!v->is_boolean()) wrong_type(path + key, "true or false", *v);
  return v->get<bool>();
}

// An address: "0x1a2b" (as written) or a number.
std::uintptr_t get_address(const json& obj, const char* key, const std::string& path) {
  const json* v = field(obj, key);
  if (v == nullptr) return 0;
  if (v->is_number_unsigned()) return static_cast<std::uintptr_t>(v->get<std::uint64_t>());
  if (!v->is_string()) wrong_type(path + key, "an address string", *v);
  const std::string& s = v->get_ref<const std::string&>();
  std::string_view digits = s;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uintptr_t out = 0;
  bool ok = !digits.empty() && digits.size() <= (base == 16 ? 16u : 20u);
  for (char c : digits) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    if (d >= base) {
      ok = false;
      break;
    }
    out = out * base + static_cast<std::uintptr_t>(d);
  }
  if (!ok) throw FieldError("\"" + path + key + "\" is \"" + s + "\", expected an address like \"0x1a2b\"");
  return out;
}

const json* get_array(const json& obj, const char* key, const std::string& path) {
  const json* v = field(obj, key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) wrong_type(path + key, "an array", *v);
  return v;
}

void require_object(const json& v, const std::string& path) {
  if (!v.is_object()) wrong_type(path, "an object", v);
}

std::string at(const std::string& path, const char* key, std::size_t i) {
  return path + key + "[" + std::to_string(i) + "].";
}

std::vector<Frame> read_frames(const json& obj, const char* key, const std::string& path) {
  std::vector<Frame> out;
  const json* arr = get_array(obj, key, path);
  if (arr == nullptr) return out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const json& j = (*arr)[i];
    std::string p = at(path, key, i);
    require_object(j, p.substr(0, p.size() - 1));
    Frame& f = out.emplace_back();
    f.pc = get_address(j, "pc", p);
    f.module = get_string(j, "module", p);
    f.offset = get_address(j, "offset", p);
    f.function = get_string(j, "function", p);
    f.file = get_string(j, "file", p);
    f.line = get_int<int>(j, "line", p);
    f.column = get_int<int>(j, "column", p);
  }
  return out;
}

FiberInfo read_fiber(const json& j, const std::string& p) {
  FiberInfo fi;
  fi.id = get_int<std::uint64_t>(j, "id", p);
  fi.name = get_string(j, "name", p);
  fi.state = get_string(j, "state", p);
  fi.wait_reason = get_string(j, "wait_reason", p);
  fi.wait_ns = get_int<std::int64_t>(j, "wait_ns", p);
  fi.parent_id = get_int<std::uint64_t>(j, "parent", p);
  fi.stack = read_frames(j, "stack", p);
  fi.created_at = read_frames(j, "created_at", p);
  return fi;
}

Access read_access(const json& j, const std::string& p) {
  Access a;
  a.fiber = get_int<std::uint64_t>(j, "fiber", p);
  a.op = get_string(j, "op", p);
  a.size = get_int<std::size_t>(j, "size", p);
  a.addr = get_address(j, "addr", p);
  a.atomic = get_bool(j, "atomic", p);
  a.stack = read_frames(j, "stack", p);
  if (const json* held = get_array(j, "held", p)) {
    for (std::size_t i = 0; i < held->size(); ++i) {
      const json& h = (*held)[i];
      std::string hp = at(p, "held", i);
      require_object(h, hp.substr(0, hp.size() - 1));
      HeldLock& l = a.held.emplace_back();
      l.addr = get_address(h, "addr", hp);
      std::string mode = get_string(h, "mode", hp);
      l.write = mode != "read";
      l.acquired_at = read_frames(h, "stack", hp);
    }
  }
  return a;
}

Graph read_graph(const json& j, const std::string& p) {
  Graph g;
  if (const json* nodes = get_array(j, "nodes", p)) {
    for (std::size_t i = 0; i < nodes->size(); ++i) {
      std::string np = at(p, "nodes", i);
      require_object((*nodes)[i], np.substr(0, np.size() - 1));
      g.nodes.push_back(GraphNode{get_string((*nodes)[i], "id", np), get_string((*nodes)[i], "type", np),
                                  get_string((*nodes)[i], "label", np)});
    }
  }
  if (const json* edges = get_array(j, "edges", p)) {
    for (std::size_t i = 0; i < edges->size(); ++i) {
      std::string ep = at(p, "edges", i);
      require_object((*edges)[i], ep.substr(0, ep.size() - 1));
      g.edges.push_back(GraphEdge{get_string((*edges)[i], "from", ep), get_string((*edges)[i], "to", ep),
                                  get_string((*edges)[i], "label", ep)});
    }
  }
  if (const json* cycle = get_array(j, "cycle", p)) {
    for (std::size_t i = 0; i < cycle->size(); ++i) {
      const json& c = (*cycle)[i];
      if (!c.is_string()) wrong_type(p + "cycle[" + std::to_string(i) + "]", "a string", c);
      g.cycle.push_back(c.get<std::string>());
    }
  }
  return g;
}

Finding read_finding(const json& j) {
  if (!j.is_object()) wrong_type("finding", "an object", j);
  const std::string p;  // paths inside a finding are relative to it
  Finding f;
  f.id = get_string(j, "id", p);
  const json* kind = field(j, "kind");
  if (kind == nullptr) throw FieldError("no \"kind\"");
  if (!kind->is_string()) wrong_type("kind", "a string", *kind);
  std::optional<FindingKind> k = parse_kind(kind->get<std::string>());
  if (!k) throw FieldError("unknown kind \"" + kind->get<std::string>() + "\"");
  f.kind = *k;
  f.signature = get_string(j, "signature", p);
  f.summary = get_string(j, "summary", p);
  f.message = get_string(j, "message", p);
  f.test = get_string(j, "test", p);
  if (const json* fibers = get_array(j, "fibers", p)) {
    for (std::size_t i = 0; i < fibers->size(); ++i) {
      std::string fp = at(p, "fibers", i);
      require_object((*fibers)[i], fp.substr(0, fp.size() - 1));
      f.fibers.push_back(read_fiber((*fibers)[i], fp));
    }
  }
  if (const json* accesses = get_array(j, "accesses", p)) {
    for (std::size_t i = 0; i < accesses->size(); ++i) {
      std::string ap = at(p, "accesses", i);
      require_object((*accesses)[i], ap.substr(0, ap.size() - 1));
      f.accesses.push_back(read_access((*accesses)[i], ap));
    }
  }
  if (const json* loc = field(j, "location")) {
    require_object(*loc, "location");
    Location l;
    l.kind = get_string(*loc, "kind", "location.");
    l.size = get_int<std::size_t>(*loc, "size", "location.");
    l.name = get_string(*loc, "name", "location.");
    l.alloc_fiber = get_int<std::uint64_t>(*loc, "alloc_fiber", "location.");
    l.alloc_stack = read_frames(*loc, "alloc_stack", "location.");
    f.location = std::move(l);
  }
  if (const json* graph = field(j, "graph")) {
    require_object(*graph, "graph");
    f.graph = read_graph(*graph, "graph.");
  }
  return f;
}

ProcessInfo read_process(const json& j, const std::string& file_name) {
  ProcessInfo p;
  p.file = file_name;
  if (!j.is_object()) wrong_type("process", "an object", j);
  p.pid = get_int<long>(j, "pid", "process.");
  p.started = get_string(j, "started", "process.");
  p.options = get_string(j, "options", "process.");
  if (const json* argv = get_array(j, "argv", "process.")) {
    for (std::size_t i = 0; i < argv->size(); ++i) {
      const json& a = (*argv)[i];
      if (!a.is_string()) wrong_type("process.argv[" + std::to_string(i) + "]", "a string", a);
      p.argv.push_back(a.get<std::string>());
    }
  }
  return p;
}

// One byte that is not part of valid UTF-8 would make the whole file
// unreadable to the parser; the runtime writes names and paths byte for
// byte, so such bytes become '?' (same length: error positions stay right).
std::string replace_invalid_utf8(std::string s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (ok && len == 2) ok = c >= 0xc2;
    if (ok && len == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
    }
    if (ok && len == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c <= 0xf4 && !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (!ok) {
      s[i] = '?';
      len = 1;
    }
    i += len;
  }
  return s;
}

// "3:17" for a 1-based byte position (nlohmann's parse_error::byte: the
// byte it stopped at; past the end for a truncated file).
std::string line_column(const std::string& text, std::size_t byte) {
  std::size_t end = std::min(byte > 0 ? byte - 1 : 0, text.size());
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

// printable: `s` with control characters and non-ASCII bytes as '?', so a
// message quoting bytes of a binary file stays one readable line.
std::string printable(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return s;
}

// nlohmann's message without its "[json.exception.parse_error.101] parse
// error at line 1, column 2: " prefix (we print the position ourselves).
std::string parse_error_text(const std::string& what) {
  std::size_t col = what.find("column ");
  std::size_t colon = col == std::string::npos ? std::string::npos : what.find(": ", col);
  if (colon != std::string::npos) return what.substr(colon + 2);
  std::size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

std::optional<ReportFile> parse_report_json(const std::string& raw, const std::string& file_name,
                                            std::vector<std::string>& errors) {
  std::string text = replace_invalid_utf8(raw);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.byte > text.size() ? "truncated JSON (unexpected end of input)"
                                            : "malformed JSON: " + printable(parse_error_text(e.what()));
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) what = "empty file, expected a JSON report";
    errors.push_back(file_name + ":" + line_column(text, e.byte) + ": " + what + " (byte " + std::to_string(e.byte) +
                     ")");
    return std::nullopt;
  }
  if (!doc.is_object()) {
    errors.push_back(file_name + ": not a fibersan report: the document is " + describe_type(doc) +
                     ", expected an object with \"schema\": \"" + kReportSchema + "\"");
    return std::nullopt;
  }
  const json* schema = field(doc, "schema");
  if (schema == nullptr || !schema->is_string()) {
    errors.push_back(file_name + ": not a fibersan report: no \"schema\": \"" + kReportSchema + "\"");
    return std::nullopt;
  }
  if (*schema != kReportSchema) {
    errors.push_back(file_name + ": unsupported schema \"" + schema->get<std::string>() + "\", expected \"" +
                     kReportSchema + "\"");
    return std::nullopt;
  }
  ReportFile out;
  out.process.file = file_name;
  try {
    if (const json* process = field(doc, "process")) out.process = read_process(*process, file_name);
  } catch (const FieldError& e) {
    // The findings are still worth reading; the process facts are not.
    errors.push_back(file_name + ": bad \"process\" object: " + e.what());
    out.process = ProcessInfo{};
    out.process.file = file_name;
  }
  const json* findings = field(doc, "findings");
  if (findings == nullptr || !findings->is_array()) {
    errors.push_back(file_name + ": not a fibersan report: no \"findings\" array");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < findings->size(); ++i) {
    const json& j = (*findings)[i];
    try {
      out.findings.push_back(read_finding(j));
    } catch (const FieldError& e) {
      std::string id;
      if (j.is_object()) {
        const json* v = field(j, "id");
        if (v != nullptr && v->is_string()) id = " (" + v->get<std::string>() + ")";
      }
      errors.push_back(file_name + ": finding " + std::to_string(i + 1) + id + ": " + e.what() + "; skipped");
    }
  }
  return out;
}

std::optional<ReportFile> read_report_file(const std::string& path, std::vector<std::string>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back(path + ": cannot open: " + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    errors.push_back(path + ": cannot read: " + std::strerror(errno));
    return std::nullopt;
  }
  return parse_report_json(buf.str(), path, errors);
}

std::vector<std::string> collect_input_files(const std::vector<std::string>& args, std::vector<std::string>& errors) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    std::error_code ec;
    fs::file_status st = fs::status(arg, ec);
    if (ec || !fs::exists(st)) {
      errors.push_back(arg + ": no such file or directory");
      continue;
    }
    if (!fs::is_directory(st)) {
      files.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(arg, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::error_code fec;
      if (it->path().extension() == ".json" && it->is_regular_file(fec)) found.push_back(it->path().string());
    }
    if (ec) errors.push_back(arg + ": cannot list directory: " + ec.message());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  // A file reached twice (named and inside a named directory, or through a
  // symlink) is read once, or its findings would count twice.
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (std::string& f : files) {
    std::error_code ec;
    std::string key = fs::weakly_canonical(f, ec).string();
    if (ec) key = f;
    if (seen.insert(key).second) unique.push_back(std::move(f));
  }
  return unique;
}

Report load_report(const std::vector<std::string>& args) {
  ReportMerger merger;
  std::vector<std::string> errors;
  std::vector<std::string> files = collect_input_files(args, errors);
  for (std::string& e : errors) merger.add_error(std::move(e));
  for (const std::string& path : files) {
    errors.clear();
    std::optional<ReportFile> file = read_report_file(path, errors);
    for (std::string& e : errors) merger.add_error(std::move(e));
    if (file) merger.add(std::move(*file));
  }
  return merger.take();
}

}  // namespace fsan::reports
