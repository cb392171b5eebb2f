// The page's inline stylesheet and script. Both are embedded in every page
// (no network at view time). The script only adds behaviour: sorting the
// index, filtering by kind, expanding/collapsing all; with it off the page
// is complete (the filter bar stays hidden, <details> still fold).
#pragma once

namespace fsan::reports {

extern const char* const kPageStyle;   // contents of <style>
extern const char* const kPageScript;  // contents of <script>

}  // namespace fsan::reports
