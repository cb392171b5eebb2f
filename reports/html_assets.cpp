// The page's inline CSS and JS: see html_assets.hpp. System font stacks only:
// the page must not fetch fonts.
#include "html_assets.hpp"

namespace fsan::reports {

const char* const kPageStyle = R"CSS(
:root {
  --fg: #202124; --muted: #5f6368; --faint: #80868b; --bg: #ffffff; --panel: #f8f9fa; --line: #dadce0;
  --accent: #1a73e8; --hl: #fff3c4; --hl-edge: #d93025; --code-bg: #f6f8fa;
  --race: #c5221f; --deadlock: #a142f4; --inversion: #e37400; --leak: #1e8e3e; --panic: #b31412; --other: #5f6368;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8eaed; --muted: #bdc1c6; --faint: #9aa0a6; --bg: #1f1f1f; --panel: #292a2d; --line: #3c4043;
          --accent: #8ab4f8; --hl: #4d3f12; --code-bg: #202124; }
  svg.wait-graph { background: #f8f9fa; border-radius: 6px; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.5 var(--sans); color: var(--fg); background: var(--bg); }
.page { max-width: 1280px; margin: 0 auto; padding: 24px 32px 64px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: var(--mono); font-size: 13px; }
h1 { font-size: 26px; margin: 0 0 4px; font-weight: 650; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 0 0 8px; font-weight: 620; }
h3 { font-size: 15px; margin: 16px 0 6px; font-weight: 620; }
h4 { font-size: 13px; margin: 12px 0 4px; font-weight: 620; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
header.top { border-bottom: 1px solid var(--line); padding-bottom: 16px; margin-bottom: 20px; }
.meta { color: var(--muted); margin: 2px 0; font-size: 14px; }
.totals { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
.total { display: inline-flex; align-items: baseline; gap: 6px; padding: 4px 12px; border-radius: 999px;
         border: 1px solid var(--line); background: var(--panel); font-size: 14px; }
.total .n { font-weight: 700; font-size: 16px; }
.total.none { color: var(--muted); }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 650;
         color: #fff; background: var(--other); white-space: nowrap; vertical-align: 2px; }
.k-data_race { background: var(--race); }
.k-global_deadlock, .k-partial_deadlock { background: var(--deadlock); }
.k-lock_order_inversion { background: var(--inversion); }
.k-fiber_leak, .k-timer_leak, .k-lost_cancel { background: var(--leak); }
.k-panic { background: var(--panic); }
.total .badge { vertical-align: 1px; }
.errors { border: 1px solid var(--hl-edge); border-left-width: 5px; background: #fce8e6; color: #3c0d0a;
          border-radius: 6px; padding: 10px 16px; margin: 0 0 20px; }
.errors h2 { color: #a50e0e; font-size: 16px; }
.errors ul { margin: 4px 0; padding-left: 20px; }
.errors li { font-family: var(--mono); font-size: 13px; white-space: pre-wrap; word-break: break-word; }
details.inputs { margin: 0 0 20px; }
details.inputs > summary { cursor: pointer; color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); font-weight: 650;
     background: var(--panel); white-space: nowrap; }
table.processes td { font-size: 13px; }
table.processes td code { word-break: break-all; }
table.processes td.time { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
#findings tbody tr:hover { background: var(--panel); }
#findings td.loc { font-family: var(--mono); font-size: 13px; white-space: nowrap; }
#findings td.summary { word-break: break-word; }
html.js th[data-sort] { cursor: pointer; user-select: none; }
html.js th[data-sort]::after { content: " \2195"; color: var(--faint); }
th[aria-sort=ascending]::after { content: " \2191" !important; color: var(--fg) !important; }
th[aria-sort=descending]::after { content: " \2193" !important; color: var(--fg) !important; }
tr.suppressed, section.suppressed { opacity: .55; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; margin: 8px 0 12px; font-size: 14px; }
.controls label { display: inline-flex; align-items: center; gap: 5px; cursor: pointer; }
.controls .spacer { flex: 1; }
.controls button { font: inherit; font-size: 13px; padding: 3px 10px; border: 1px solid var(--line); border-radius: 6px;
                   background: var(--panel); color: var(--fg); cursor: pointer; }
section.finding { border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px; margin: 28px 0; }
section.finding > h2 { display: flex; flex-wrap: wrap; align-items: baseline; gap: 10px; }
section.finding > h2 .summary { font-family: var(--mono); font-size: 14px; font-weight: 600; word-break: break-word;
                                flex: 1 1 40ch; }
section.finding > h2 .anchor { margin-left: auto; color: var(--faint); font-size: 14px; font-weight: 500; }
.message { margin: 4px 0 12px; padding: 8px 12px; background: var(--panel); border-radius: 6px; white-space: pre-wrap;
           word-break: break-word; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 12px; font-size: 13px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-word; }
details.about { margin: 0 0 12px; font-size: 14px; }
details.about > summary { cursor: pointer; color: var(--accent); font-size: 13px; }
details.about p { margin: 6px 0 0 16px; max-width: 90ch; }
figure.graph { margin: 12px 0 18px; padding: 12px; border: 1px solid var(--line); border-radius: 8px; background: #fff;
               overflow-x: auto; text-align: center; }
figure.graph figcaption { color: #5f6368; font-size: 12px; margin-top: 6px; }
svg.wait-graph { max-width: 100%; height: auto; }
svg.wait-graph text { font-family: var(--sans); }
svg.wait-graph a:hover text { text-decoration: underline; }
.graph-error { color: var(--hl-edge); }
.fiber { margin: 14px 0 18px; }
.fiber-header { margin: 0 0 4px; font-family: var(--mono); font-size: 14px; font-weight: 650; }
.fiber-header .tag { font-family: var(--sans); font-size: 11px; font-weight: 650; color: #fff; background: var(--hl-edge);
                     border-radius: 4px; padding: 1px 6px; margin-left: 8px; vertical-align: 1px; }
.fiber:target .fiber-header, .access:target h3 { background: var(--hl); }
details.stack { margin: 2px 0 8px; }
details.stack > summary { cursor: pointer; color: var(--muted); font-size: 13px; padding: 2px 0; }
details.stack > summary .count { color: var(--faint); }
ol.frames { list-style: none; margin: 2px 0 0; padding: 0 0 0 4px; border-left: 2px solid var(--line); }
li.frame { margin: 0; padding: 1px 0 1px 10px; }
.frame-line { font-family: var(--mono); font-size: 13px; line-height: 1.55; word-break: break-word; }
summary.frame-line { cursor: pointer; }
div.frame-line { padding-left: 15px; }
.frame .fno { color: var(--faint); display: inline-block; min-width: 2.2em; }
.frame.user .fn { font-weight: 700; }
.frame.user .loc { color: var(--accent); font-weight: 600; }
.frame .mod { color: var(--faint); }
.frame.runtime, .frame.system { color: var(--faint); }
.frame.runtime .fn, .frame.system .fn, .frame.runtime .loc, .frame.system .loc { font-weight: 400; color: var(--faint); }
.snippet, .disasm { margin: 4px 0 8px 16px; border: 1px solid var(--line); border-radius: 6px; overflow: hidden;
                    background: var(--code-bg); max-width: 100%; }
.snippet-path, .disasm-head { font-family: var(--mono); font-size: 11.5px; color: var(--muted); padding: 3px 10px;
                              border-bottom: 1px solid var(--line); word-break: break-all; }
.snippet pre, .disasm pre { margin: 0; padding: 4px 0; overflow-x: auto; color: var(--fg); tab-size: 4; }
.src-line, .insn { display: block; padding: 0 10px; white-space: pre; }
.src-line .ln { display: inline-block; color: var(--faint); margin-right: 14px; user-select: none; }
.src-line.hl { background: var(--hl); box-shadow: inset 3px 0 0 var(--hl-edge); font-weight: 600; }
.insn .addr { color: var(--faint); display: inline-block; min-width: 15ch; margin-right: 12px; }
.insn .bytes { color: var(--faint); display: inline-block; min-width: 24ch; margin-right: 12px; }
.insn.pc { background: var(--hl); box-shadow: inset 3px 0 0 var(--hl-edge); font-weight: 600; }
.insn.call { background: var(--panel); }
.insn .note { color: var(--hl-edge); margin-left: 12px; font-family: var(--sans); font-size: 12px; }
.disasm-error { margin: 2px 0 6px 16px; color: var(--muted); font-size: 12px; font-style: italic; }
.noframes { color: var(--faint); font-family: var(--mono); font-size: 13px; margin: 2px 0 6px 14px; }
.accesses { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 18px; margin: 8px 0 12px; }
.access { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 0; }
.access h3 { margin: 0 0 6px; font-family: var(--mono); font-size: 13.5px; }
.access.write h3 { color: var(--race); }
.held ul { margin: 2px 0; padding-left: 0; list-style: none; }
.held .none { color: var(--faint); font-size: 13px; margin: 2px 0; }
.location { border-top: 1px dashed var(--line); padding-top: 8px; }
.location p { margin: 4px 0; font-family: var(--mono); font-size: 13px; }
footer { margin-top: 40px; color: var(--faint); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
.clean { font-size: 17px; color: var(--leak); font-weight: 600; }
@media print { details > summary { list-style: none; } .controls { display: none !important; } }
)CSS";

const char* const kPageScript = R"JS(
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var controls = document.getElementById("controls");
  if (controls) controls.hidden = false;

  // Filter by kind: a kind unchecked hides its index rows and its sections.
  var boxes = Array.prototype.slice.call(document.querySelectorAll("#controls input[data-kind]"));
  function applyFilter() {
    var shown = {};
    boxes.forEach(function (b) { shown[b.getAttribute("data-kind")] = b.checked; });
    document.querySelectorAll("tr[data-kind], section[data-kind]").forEach(function (el) {
      el.hidden = shown[el.getAttribute("data-kind")] === false;
    });
  }
  boxes.forEach(function (b) { b.addEventListener("change", applyFilter); });

  // Sort the index by a column; numbers compare as numbers, ties keep order.
  var table = document.getElementById("findings");
  if (table && table.tBodies.length) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      if (!th.hasAttribute("data-sort")) return;
      th.tabIndex = 0;
      th.title = "Sort by " + th.textContent.trim().toLowerCase();
      var sort = function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
        var numeric = th.getAttribute("data-sort") === "num";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (r, i) { return [r, i]; });
        var key = function (r) {
          var c = r.cells[col];
          var v = c.hasAttribute("data-value") ? c.getAttribute("data-value") : c.textContent.trim();
          return numeric ? parseFloat(v) || 0 : v.toLowerCase();
        };
        rows.sort(function (a, b) {
          var x = key(a[0]), y = key(b[0]);
          if (x < y) return -dir;
          if (x > y) return dir;
          return a[1] - b[1];
        });
        rows.forEach(function (p) { body.appendChild(p[0]); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  }

  function setAll(open) {
    document.querySelectorAll("main details").forEach(function (d) { d.open = open; });
  }
  var expand = document.getElementById("expand-all"), collapse = document.getElementById("collapse-all");
  if (expand) expand.addEventListener("click", function () { setAll(true); });
  if (collapse) collapse.addEventListener("click", function () { setAll(false); });
})();
)JS";

}  // namespace fsan::reports
