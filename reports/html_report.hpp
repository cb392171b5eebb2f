// The HTML page of `fsan report` (REPORTS.md "The HTML page"): one
// self-contained file, readable with JavaScript off.
#pragma once

#include <string>

#include "report_model.hpp"

namespace fsan::reports {

struct HtmlOptions {
  std::string title = "fibersan report";
  int snippet_context = 3;       // source lines shown each side of a frame's line
  bool show_suppressed = false;  // list suppressed findings (greyed) too
};

// render_html: the whole page. Reads source files and binaries named by
// frames (for snippets and disassembly); a file it cannot read is skipped.
std::string render_html(const Report& report, const HtmlOptions& options);

}  // namespace fsan::reports
