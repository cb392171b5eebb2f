// Source snippets: see html_source.hpp.
#include "html_source.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "html_escape.hpp"

namespace fsan::reports {

const std::vector<std::string>* SourceCache::lines(const std::string& path) {
  if (path.empty()) return nullptr;
  auto it = files_.find(path);
  if (it != files_.end()) return it->second ? &*it->second : nullptr;
  if (files_.size() >= kMaxFiles) return nullptr;
  std::optional<std::vector<std::string>> result;
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) <= kMaxSourceBytes) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.good() || in.eof()) {
      if (text.find('\0') == std::string::npos) {
        std::vector<std::string> split;
        std::size_t pos = 0;
        while (pos < text.size()) {
          std::size_t nl = text.find('\n', pos);
          if (nl == std::string::npos) nl = text.size();
          std::string l = text.substr(pos, nl - pos);
          if (!l.empty() && l.back() == '\r') l.pop_back();
          split.push_back(std::move(l));
          pos = nl + 1;
        }
        result = std::move(split);
      }
    }
  }
  auto [ins, _] = files_.emplace(path, std::move(result));
  return ins->second ? &*ins->second : nullptr;
}

std::string render_snippet(SourceCache& cache, const std::string& path, int line, int context) {
  const std::vector<std::string>* text = cache.lines(path);
  if (text == nullptr || line <= 0 || static_cast<std::size_t>(line) > text->size()) return "";
  context = std::clamp(context, 0, 50);
  int first = std::max(1, line - context);
  int last = std::min(static_cast<int>(text->size()), line + context);
  std::size_t width = std::to_string(last).size();
  std::string out = "<div class=\"snippet\"><div class=\"snippet-path\">" + escape_html(path) + "</div><pre>";
  for (int n = first; n <= last; ++n) {
    std::string num = std::to_string(n);
    num.insert(0, width - num.size(), ' ');
    out += n == line ? "<span class=\"src-line hl\">" : "<span class=\"src-line\">";
    out += "<span class=\"ln\">" + num + "</span>";
    out += escape_html((*text)[static_cast<std::size_t>(n - 1)]);
    out += "</span>";  // display:block lines: a newline here would double the spacing
  }
  out += "</pre></div>";
  return out;
}

}  // namespace fsan::reports
