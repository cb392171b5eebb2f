// SARIF 2.1.0 output of `fsan report --sarif F` (REPORTS.md "Machine
// formats"), in the shape GitHub code scanning accepts: one rule per kind
// (ruleId = kind), one result per distinct finding with level "error", the
// top user frame as its location (the program, when no frame was captured), partialFingerprints from the signature,
// and one codeFlow whose threadFlows are the race accesses' stacks and each
// fiber's stack. Suppressed findings are results with a `suppressions`
// entry. Source files are URIs relative to SRCROOT (the --source-root) where
// they lie under it, absolute file:// URIs elsewhere.
#pragma once

#include <string>

#include "report_model.hpp"

namespace fsan::reports {

struct SarifOptions {
  std::string source_root;   // absolute directory; SRCROOT
  std::string tool_version;  // tool.driver.version
  bool include_suppressed = true;
};

// render_sarif: the SARIF log as JSON text (UTF-8, indented).
std::string render_sarif(const Report& report, const SarifOptions& options);

// artifact_uri: how `file` is named in the log: {uri, uses_srcroot}.
struct ArtifactUri {
  std::string uri;
  bool relative = false;  // relative to SRCROOT
};
ArtifactUri artifact_uri(const std::string& file, const std::string& source_root);

}  // namespace fsan::reports
