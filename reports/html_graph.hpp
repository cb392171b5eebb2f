// The wait-for graph of a deadlock, leak or lock-order finding as inline SVG:
// the graph is built in memory with cgraph, laid out by Graphviz's "dot" and
// rendered to SVG by libgvc, then trimmed to a bare <svg class="wait-graph">
// element (no XML prologue, DOCTYPE or comments) to embed in the page.
// Fibers are rounded boxes, each kind of object its own shape; the cycle's
// nodes and edges carry class "cycle" and are drawn red and bold.
// Not thread-safe: Graphviz keeps global state; one render at a time.
#pragma once

#include <map>
#include <string>

#include <fsan/finding.hpp>

namespace fsan::reports {

// render_wait_graph: the SVG for `g`; element ids start with `id_prefix`
// (unique on the page). Nodes whose id is a key of `links` become links to
// that URL (a fiber node to the fiber's section). If Graphviz cannot lay the
// graph out, a one-line note and the edges as a list, so nothing is lost.
std::string render_wait_graph(const Graph& g, const std::string& id_prefix,
                              const std::map<std::string, std::string>& links);

}  // namespace fsan::reports
