// Escaping for the HTML page: every string that comes from a report (JSON
// written by the instrumented program: names, paths, messages) passes through
// here before it reaches the page, so a name like `<script>` stays text.
// Invariant: the output of each function is valid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace fsan::reports {

// valid_utf8: `s` with every byte that does not start or continue a valid
// UTF-8 sequence replaced by U+FFFD, so a binary path cannot corrupt the page.
std::string valid_utf8(std::string_view s);

// escape_html: text for element content and for double-quoted attribute
// values (& < > " ' all escaped), made valid UTF-8 first.
std::string escape_html(std::string_view s);

// id_token: `s` reduced to [A-Za-z0-9_-] (others become '_'; Graphviz would write '-' as an entity), for id and
// class attributes built from report data (kinds, node ids).
std::string id_token(std::string_view s);

}  // namespace fsan::reports
