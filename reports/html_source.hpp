// Source snippets for the HTML page: a few lines around a frame's line, the
// line itself highlighted. Files are read once per page (SourceCache); a file
// that is missing, larger than kMaxSourceBytes or not text gives no snippet.
// Not thread-safe: one cache belongs to one render.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace fsan::reports {

// SourceCache: path -> the file's lines (or "unreadable"), read on first use.
// Example:
//   SourceCache cache;
//   std::string html = render_snippet(cache, "/src/main.cpp", 12, 3);
class SourceCache {
 public:
  static constexpr std::size_t kMaxSourceBytes = 4u << 20;  // a generated 4 MiB file is not worth showing
  static constexpr std::size_t kMaxFiles = 1024;            // bounds memory on reports naming many files

  // lines: the lines of `path` without their newlines; null when the file
  // cannot be read, is too large, or looks binary (has a NUL byte).
  const std::vector<std::string>* lines(const std::string& path);

 private:
  std::unordered_map<std::string, std::optional<std::vector<std::string>>> files_;
};

// render_snippet: `<div class="snippet">` holding lines line-context ..
// line+context of `path` (numbered, escaped), the frame's line marked
// `class="src-line hl"`. Empty when the file or the line is not available.
std::string render_snippet(SourceCache& cache, const std::string& path, int line, int context);

}  // namespace fsan::reports
