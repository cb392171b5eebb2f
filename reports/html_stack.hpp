// Stacks on the HTML page: each frame as `#0 function file:line:col
// (module+0xoff)` like the runtime's text report, the user's frames
// emphasised and fibersan's or the system's dimmed. A frame with a readable
// source file expands to a snippet around its line; a frame without debug
// info expands to the disassembly around its pc. Stacks are <details>, so
// they fold without JavaScript. Not thread-safe: one per render.
#pragma once

#include <string>
#include <vector>

#include <fsan/finding.hpp>

#include "html_disasm.hpp"
#include "html_source.hpp"

namespace fsan::reports {

enum class FrameOrigin {
  user,     // the program's own code: emphasised, expanded
  runtime,  // fibersan itself (libfsan, runtime/ sources, fsan:: functions)
  system,   // libc, libstdc++, the C++ library headers, the loader
};

// frame_origin: whose code `fr` is, from its module, file and function.
FrameOrigin frame_origin(const Frame& fr);

// first_user_frame: the first frame of `stack` that is the user's, or null.
const Frame* first_user_frame(const std::vector<Frame>& stack);

// StackRenderer: renders frames and stacks, reading each source file and
// module once. `display_root` is stripped from file paths shown in frame
// lines (the full path stays in the tooltip and the snippet header).
// Example:
//   StackRenderer r(3, "/src/app/");
//   page += r.stack(fiber.stack, "stack", true, StackRenderer::Unfold::top_user_frame);
class StackRenderer {
 public:
  StackRenderer(int snippet_context, std::string display_root)
      : context_(snippet_context), root_(std::move(display_root)) {}

  // location_text: "dir/file.cpp:12:5" (relative to the display root), or "" without a file.
  std::string location_text(const Frame& fr) const;

  // frame: one `<li class="frame user|runtime|system">`; its snippet or
  // disassembly shown unfolded when `unfold`.
  std::string frame(const Frame& fr, std::size_t index, bool unfold);

  // Which frame of a stack shows its snippet unfolded: the top user frame
  // (where to look first), or none (creation and lock stacks, which repeat
  // code already shown). The rest stay one click away.
  enum class Unfold { top_user_frame, none };

  // stack: `<details class="stack">` titled `title` (already HTML), open or
  // folded, with every frame; "(no frames)" when `frames` is empty.
  std::string stack(const std::vector<Frame>& frames, const std::string& title_html, bool open, Unfold unfold);

 private:
  int context_;
  std::string root_;
  SourceCache sources_;
  Disassembler disassembler_;
};

// common_source_root: the longest directory prefix (ending in '/') shared by
// every file of the frames given, "" when they share none.
std::string common_source_root(const std::vector<const Frame*>& frames);

}  // namespace fsan::reports
