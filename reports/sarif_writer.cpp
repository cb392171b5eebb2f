// SARIF 2.1.0 writer (sarif_writer.hpp). Built as an nlohmann::json tree and
// dumped with invalid UTF-8 replaced, so any name a program reported is safe
// to write. Shapes follow the OASIS schema (test/reports/data); arrays the
// schema requires to be non-empty (threadFlow.locations,
// codeFlow.threadFlows) are left out when there is nothing to put in them.
#include "sarif_writer.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "kinds.hpp"
#include "text_report.hpp"
#include "user_frames.hpp"

namespace fsan::reports {
namespace {

using nlohmann::json;

constexpr const char* kSchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";
// The project's home page, set at configure time (FSAN_INFORMATION_URI).
#ifndef FSAN_INFORMATION_URI
#define FSAN_INFORMATION_URI "https://github.com/fibersan/fibersan"
#endif
constexpr const char* kInformationUri = FSAN_INFORMATION_URI;
constexpr const char* kFingerprintKey = "fibersanSignature/v1";

std::string percent_encode(const std::string& path) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                c == '_' || c == '~' || c == '/';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string with_trailing_slash(std::string s) {
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

json artifact_location(const std::string& file, const std::string& source_root) {
  ArtifactUri a = artifact_uri(file, source_root);
  json loc = {{"uri", a.uri}};
  if (a.relative) loc["uriBaseId"] = "SRCROOT";
  return loc;
}

// A frame as a SARIF location: physical when it has a file (or at least a
// module), with the function as a logical location and the frame text as
// its message.
json frame_location(const Frame& fr, const std::string& source_root, bool with_message) {
  json loc = json::object();
  if (!fr.file.empty()) {
    json phys = {{"artifactLocation", artifact_location(fr.file, source_root)}};
    if (fr.line > 0) {
      json region = {{"startLine", fr.line}};
      if (fr.column > 0) region["startColumn"] = fr.column;
      phys["region"] = region;
    }
    loc["physicalLocation"] = phys;
  } else if (!fr.module.empty()) {
    // No debug info: the binary, and the offset of the pc inside it.
    loc["physicalLocation"] = {{"artifactLocation", artifact_location(fr.module, source_root)},
                               {"address", {{"relativeAddress", static_cast<std::uint64_t>(fr.offset)}}}};
  }
  if (!fr.function.empty())
    loc["logicalLocations"] = json::array({{{"fullyQualifiedName", fr.function}, {"kind", "function"}}});
  if (with_message) loc["message"] = {{"text", format_frame_text(fr)}};
  return loc;
}

json thread_flow(const std::string& header, const std::vector<Frame>& stack, const std::string& source_root) {
  json locations = json::array();
  for (const Frame& fr : stack) {
    json tfl = {{"location", frame_location(fr, source_root, true)}};
    tfl["importance"] = is_library_frame(fr) ? "unimportant" : "important";
    locations.push_back(tfl);
  }
  return {{"message", {{"text", header}}}, {"locations", locations}};
}

std::string fiber_label(std::uint64_t id, const std::string& name) {
  std::string s = "fiber " + std::to_string(id);
  if (!name.empty()) s += " \"" + name + "\"";
  return s;
}

std::string fiber_flow_header(const FiberInfo& fi) {
  std::string s = fi.id == 0 ? fi.name : fiber_label(fi.id, fi.name);
  s += " [" + (fi.wait_reason.empty() ? fi.state : fi.wait_reason) + "]";
  return s;
}

// The codeFlow of a finding: each race access, then each fiber's stack (or,
// for a fiber whose stack was not captured, where it was created).
json code_flows(const Finding& f, const std::string& source_root) {
  json flows = json::array();
  for (std::size_t i = 0; i < f.accesses.size(); ++i) {
    const Access& a = f.accesses[i];
    if (a.stack.empty()) continue;
    std::string name;
    for (const FiberInfo& fi : f.fibers)
      if (fi.id == a.fiber) name = fi.name;
    std::string header = std::string(i > 0 ? "Previous " : "") + (a.atomic ? "atomic " : "") +
                         (a.op.empty() ? "access" : a.op) + " of size " + std::to_string(a.size) + " by " +
                         fiber_label(a.fiber, name);
    if (i == 0) header[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(header[0])));
    flows.push_back(thread_flow(header, a.stack, source_root));
  }
  for (const FiberInfo& fi : f.fibers) {
    if (!fi.stack.empty()) {
      flows.push_back(thread_flow(fiber_flow_header(fi), fi.stack, source_root));
    } else if (!fi.created_at.empty()) {
      std::string by = fi.parent_id == 0 ? "outside any fiber" : "by fiber " + std::to_string(fi.parent_id);
      flows.push_back(thread_flow(fiber_label(fi.id, fi.name) + " created " + by, fi.created_at, source_root));
    }
  }
  if (flows.empty()) return json::array();
  return json::array({{{"threadFlows", flows}}});
}

std::string result_text(const MergedFinding& m, const Report& report) {
  const Finding& f = m.finding;
  std::string text = !f.summary.empty() ? f.summary : !f.message.empty() ? f.message : kind_text(f.kind).title;
  if (!f.message.empty() && f.summary.find(f.message) == std::string::npos) text += ": " + f.message;
  if (m.count > 1) {
    text += " (seen " + std::to_string(m.count) + " times";
    if (m.processes.size() > 1) text += " in " + std::to_string(m.processes.size()) + " processes";
    text += ")";
  }
  (void)report;
  return text;
}

json rules() {
  json out = json::array();
  for (FindingKind k : all_kinds) {
    KindText t = kind_text(k);
    out.push_back({{"id", to_string(k)},
                   {"name", t.title},
                   {"shortDescription", {{"text", t.title}}},
                   {"fullDescription", {{"text", t.description}}},
                   {"help", {{"text", t.help}}},
                   {"defaultConfiguration", {{"level", "error"}}},
                   {"properties", {{"tags", json::array({"concurrency", "fibersan"})}, {"precision", "high"}}}});
  }
  return out;
}

std::size_t rule_index(FindingKind k) {
  for (std::size_t i = 0; i < all_kinds.size(); ++i)
    if (all_kinds[i] == k) return i;
  return 0;
}

}  // namespace

ArtifactUri artifact_uri(const std::string& file, const std::string& source_root) {
  namespace fs = std::filesystem;
  fs::path p = fs::path(file).lexically_normal();
  if (p.is_relative()) {
    std::string rel = p.generic_string();
    return {percent_encode(rel), true};
  }
  if (!source_root.empty()) {
    std::string root = with_trailing_slash(fs::path(source_root).lexically_normal().generic_string());
    std::string abs = p.generic_string();
    if (abs.compare(0, root.size(), root) == 0 && abs.size() > root.size())
      return {percent_encode(abs.substr(root.size())), true};
  }
  return {"file://" + percent_encode(p.generic_string()), false};
}

std::string render_sarif(const Report& report, const SarifOptions& options) {
  json results = json::array();
  for (const MergedFinding& m : report.findings) {
    if (m.suppressed && !options.include_suppressed) continue;
    const Finding& f = m.finding;
    json r = {{"ruleId", to_string(f.kind)},
              {"ruleIndex", rule_index(f.kind)},
              {"level", "error"},
              {"message", {{"text", result_text(m, report)}}}};
    if (const Frame* top = top_user_frame(f)) {
      json loc = frame_location(*top, options.source_root, false);
      if (loc.contains("physicalLocation")) r["locations"] = json::array({loc});
    }
    if (!r.contains("locations")) {
      // No frame to point at (stacks not captured): the program that
      // reported it, else its report file. Code scanning rejects a log
      // with a result without locations.
      const ProcessInfo& p = report.processes.at(m.processes.front());
      std::string where = !p.argv.empty() && !p.argv[0].empty() ? p.argv[0] : p.file;
      std::error_code ec;
      std::string absolute = std::filesystem::absolute(where, ec).lexically_normal().string();
      r["locations"] =
          json::array({{{"physicalLocation",
                         {{"artifactLocation", artifact_location(ec ? where : absolute, options.source_root)}}}}});
    }
    std::string fingerprint = !f.signature.empty() ? f.signature : std::to_string(std::hash<std::string>{}(f.summary));
    r["partialFingerprints"] = {{kFingerprintKey, fingerprint}};
    json flows = code_flows(f, options.source_root);
    if (!flows.empty()) r["codeFlows"] = flows;
    r["occurrenceCount"] = m.count;
    json props = {{"signature", f.signature}, {"findingId", f.id}};
    json files = json::array();
    for (std::size_t p : m.processes) files.push_back(report.processes[p].file);
    props["reports"] = files;
    if (!m.tests.empty()) props["tests"] = m.tests;
    r["properties"] = props;
    if (m.suppressed)
      r["suppressions"] = json::array({{{"kind", "external"}, {"justification", "suppressed by " + m.suppressed_by}}});
    results.push_back(r);
  }

  json notifications = json::array();
  for (const std::string& e : report.errors) notifications.push_back({{"level", "error"}, {"message", {{"text", e}}}});
  json invocation = {{"executionSuccessful", report.errors.empty()}};
  if (!notifications.empty()) invocation["toolExecutionNotifications"] = notifications;

  json run = {{"tool",
               {{"driver",
                 {{"name", "fibersan"},
                  {"semanticVersion", options.tool_version},
                  {"version", options.tool_version},
                  {"informationUri", kInformationUri},
                  {"rules", rules()}}}}},
              {"invocations", json::array({invocation})},
              {"results", results}};
  if (!options.source_root.empty()) {
    std::string root =
        with_trailing_slash(std::filesystem::path(options.source_root).lexically_normal().generic_string());
    run["originalUriBaseIds"] = {{"SRCROOT", {{"uri", "file://" + percent_encode(root)}}}};
  }
  json log = {{"$schema", kSchemaUri}, {"version", "2.1.0"}, {"runs", json::array({run})}};
  return log.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace fsan::reports
