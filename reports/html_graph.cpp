// Wait-for graph as SVG: see html_graph.hpp. Graphviz (libgraphviz-dev) does
// the layout because a readable drawing of a cycle with labelled edges is
// exactly its job; hand-placing nodes would not survive larger graphs.
#include "html_graph.hpp"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <set>
#include <utility>

#include "html_escape.hpp"

namespace fsan::reports {
namespace {

// Graphviz reports errors through a callback; collected here so a failure
// becomes one line on the page instead of noise on stderr.
std::string g_graphviz_errors;

int collect_graphviz_error(char* message) {
  if (g_graphviz_errors.size() < 512) g_graphviz_errors += message;
  return 0;
}

// graphviz_text: a string for a Graphviz label/tooltip. Backslash escapes
// (\N, \G, \n) are Graphviz's, so a literal backslash is doubled; '&' is
// written as an entity because Graphviz passes entities through to SVG.
std::string graphviz_text(const std::string& s) {
  std::string out;
  for (char c : valid_utf8(s)) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

struct Shape {
  const char* shape;
  const char* style;
  const char* fill;
  const char* line;
};

// Objects by the runtime's node types (wait_graph.cpp); unknown types get an ellipse.
Shape shape_for(const std::string& type) {
  if (type == "fiber") return {"box", "rounded,filled", "#e8f0fe", "#3b6fd8"};
  if (type == "mutex" || type == "rwmutex") return {"hexagon", "filled", "#fff4e0", "#b7791f"};
  if (type == "chan") return {"cds", "filled", "#e6f4ea", "#188038"};
  if (type == "waitgroup") return {"house", "filled", "#f3e8fd", "#8430ce"};
  if (type == "cond") return {"diamond", "filled", "#fce8f3", "#b80672"};
  if (type == "context") return {"note", "filled", "#e4f7fb", "#007b83"};
  if (type == "timer" || type == "ticker") return {"tab", "filled", "#fef7e0", "#a56e00"};
  if (type == "once" || type == "sema") return {"octagon", "filled", "#f1f3f4", "#5f6368"};
  return {"ellipse", "filled", "#f1f3f4", "#5f6368"};
}

constexpr const char* kCycleColor = "#d93025";
constexpr const char* kFont = "Helvetica,Arial,sans-serif";

void set(void* obj, const char* name, const std::string& value) {
  agsafeset(obj, const_cast<char*>(name), const_cast<char*>(value.c_str()), const_cast<char*>(""));
}

// trim_svg: Graphviz's document without what cannot sit inside HTML (XML
// prologue, DOCTYPE) or only repeats the labels (comments), with the class.
std::string trim_svg(const std::string& doc) {
  std::size_t start = doc.find("<svg");
  if (start == std::string::npos) return "";
  std::string svg;
  svg.reserve(doc.size() - start);
  for (std::size_t i = start; i < doc.size();) {
    if (doc.compare(i, 4, "<!--") == 0) {
      std::size_t end = doc.find("-->", i + 4);
      if (end == std::string::npos) break;
      i = end + 3;
      if (i < doc.size() && doc[i] == '\n') ++i;
      continue;
    }
    svg += doc[i++];
  }
  svg.replace(0, 4, "<svg class=\"wait-graph\" role=\"img\" aria-label=\"wait-for graph\"");
  return svg;
}

std::string edge_list_fallback(const Graph& g, const std::string& why) {
  std::string reason = why;
  for (char& c : reason)
    if (c == '\n' || c == '\r') c = ' ';
  std::string out = "<p class=\"graph-error\">The wait-for graph could not be drawn (" + escape_html(reason) +
                    "); its edges:</p><ul class=\"graph-edges\">";
  std::map<std::string, std::string> labels;
  for (const GraphNode& n : g.nodes) labels[n.id] = n.label.empty() ? n.id : n.label;
  auto name = [&](const std::string& id) { return escape_html(labels.count(id) ? labels[id] : id); };
  for (const GraphEdge& e : g.edges)
    out += "<li>" + name(e.from) + " &rarr; <em>" + escape_html(e.label) + "</em> &rarr; " + name(e.to) + "</li>";
  return out + "</ul>";
}

}  // namespace

std::string render_wait_graph(const Graph& g, const std::string& id_prefix,
                              const std::map<std::string, std::string>& links) {
  std::set<std::string> cycle_nodes(g.cycle.begin(), g.cycle.end());
  std::set<std::pair<std::string, std::string>> cycle_edges;
  for (std::size_t i = 0; i + 1 < g.cycle.size(); ++i) cycle_edges.emplace(g.cycle[i], g.cycle[i + 1]);

  g_graphviz_errors.clear();
  agseterrf(&collect_graphviz_error);
  agseterr(AGERR);
  GVC_t* gvc = gvContext();
  if (gvc == nullptr) return edge_list_fallback(g, "Graphviz did not start");
  Agraph_t* graph = agopen(const_cast<char*>("wait-for graph"), Agdirected, nullptr);
  set(graph, "id", id_prefix + "graph");  // Graphviz's default "graph0" would repeat on a page of graphs
  set(graph, "rankdir", "LR");
  set(graph, "bgcolor", "transparent");
  set(graph, "pad", "0.15");
  set(graph, "nodesep", "0.45");
  set(graph, "ranksep", "0.7");
  set(graph, "fontname", kFont);

  auto node_for = [&](const std::string& id, const GraphNode* info) {
    Agnode_t* n = agnode(graph, const_cast<char*>(id.c_str()), 1);
    std::string type = info != nullptr ? info->type : "";
    std::string label = info != nullptr && !info->label.empty() ? info->label : id;
    Shape sh = shape_for(type);
    bool in_cycle = cycle_nodes.count(id) != 0;
    set(n, "label", graphviz_text(label));
    set(n, "tooltip", graphviz_text(type.empty() ? label : type + ": " + label));
    set(n, "id", id_prefix + "n_" + id_token(id));
    set(n, "class", id_token(type.empty() ? "object" : type) + (in_cycle ? " cycle" : ""));
    set(n, "shape", sh.shape);
    set(n, "style", sh.style);
    set(n, "fillcolor", sh.fill);
    set(n, "color", in_cycle ? kCycleColor : sh.line);
    set(n, "penwidth", in_cycle ? "2.4" : "1.2");
    set(n, "fontname", kFont);
    set(n, "fontsize", "11");
    set(n, "margin", "0.12,0.06");
    if (auto it = links.find(id); it != links.end()) set(n, "href", it->second);
    return n;
  };
  std::map<std::string, Agnode_t*> nodes;
  for (const GraphNode& gn : g.nodes)
    if (nodes.count(gn.id) == 0) nodes[gn.id] = node_for(gn.id, &gn);
  for (std::size_t i = 0; i < g.edges.size(); ++i) {
    const GraphEdge& ge = g.edges[i];
    for (const std::string& end : {ge.from, ge.to})
      if (nodes.count(end) == 0) nodes[end] = node_for(end, nullptr);
    std::string name = "e" + std::to_string(i);  // distinct names keep parallel edges apart
    Agedge_t* e = agedge(graph, nodes[ge.from], nodes[ge.to], const_cast<char*>(name.c_str()), 1);
    bool in_cycle = cycle_edges.count({ge.from, ge.to}) != 0;
    set(e, "label", graphviz_text(ge.label));
    set(e, "id", id_prefix + "e" + std::to_string(i));
    set(e, "class", in_cycle ? "cycle" : "");
    set(e, "color", in_cycle ? kCycleColor : "#5f6368");
    set(e, "fontcolor", in_cycle ? "#b3261e" : "#3c4043");
    set(e, "penwidth", in_cycle ? "2.4" : "1.2");
    set(e, "fontname", kFont);
    set(e, "fontsize", "10");
    if (!in_cycle && ge.label.rfind("can ", 0) == 0) set(e, "style", "dashed");  // could act, does not
  }

  std::string svg;
  if (gvLayout(gvc, graph, "dot") == 0) {
    char* data = nullptr;
    unsigned int len = 0;
    if (gvRenderData(gvc, graph, "svg", &data, &len) == 0 && data != nullptr) svg = trim_svg(std::string(data, len));
    if (data != nullptr) gvFreeRenderData(data);
    gvFreeLayout(gvc, graph);
  }
  agclose(graph);
  gvFreeContext(gvc);
  if (svg.empty())
    return edge_list_fallback(g, g_graphviz_errors.empty() ? "Graphviz layout failed" : g_graphviz_errors);
  return svg;
}

}  // namespace fsan::reports
