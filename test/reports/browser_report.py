#!/usr/bin/env python3
"""browser_report: the HTML page of `fsan report`, checked in a real browser.

Builds a few fixtures (a partial deadlock, a data race, a panic, and the
first fixture expecting a fiber_leak when the tree has one) with fsan-clang++ -fsanitize=fiber -g -O1,
runs them with FSAN_OPTIONS=report_dir=<work>/json (they exit 66), renders
`fsan report <work>/json -o page.html`, loads the page in headless Chromium
(--dump-dom) with JavaScript on and again with it off, and checks the DOM:
  - one index row per distinct finding of the JSON, with the right kind,
    linking to a section of that kind;
  - the deadlock's inline SVG wait-for graph with its cycle highlighted;
  - Go-style fiber headers and stacks whose frames name the fixtures' lines
    (the FSAN-EXPECT line= values), each with a source snippet whose
    highlighted line is that source line;
  - the race's two accesses side by side;
  - with JS off (the page's scripts blocked, see dump_dom) everything is
    there and the JS-only filter bar stays hidden;
  - with JS on, clicking the Kind header sorts the index both ways and
    unticking a kind hides its rows and sections;
  - a truncated report file is one load error at the top of the page, and
    the readable files are still rendered.
Then takes a PNG screenshot of a page of the deadlock alone
(<work>/deadlock-page.png) for people to look at.

Exit status: 0 pass, 1 fail (the first line says why), 77 skip (no chromium).

  browser_report.py --fsan build/bin/fsan --driver build/bin/fsan-clang++ \
      --source-root . --testdir test/reports --workdir build/.../work/browser_report
"""
import argparse
import html.parser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

SKIP = 77
FIXTURES = ["deadlocks/ab_ba.cpp", "races/shared_counter.cpp", "panics/send_on_closed.cpp"]
RUN_TIMEOUT = 120
BROWSER_TIMEOUT = 180


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


# ---------------------------------------------------------------------------
# A small DOM: Chromium's --dump-dom output parsed into elements.

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []  # Elements and strings

    @property
    def classes(self):
        return set(self.attrs.get("class", "").split())

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        out = []
        for e in self.iter():
            if tag and e.tag != tag:
                continue
            if cls and not set(cls.split()) <= e.classes:
                continue
            if any(e.attrs.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(e)
        return out

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    def by_id(self, ident):
        for e in self.iter():
            if e.attrs.get("id") == ident:
                return e
        return None


class TreeBuilder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        e = Element(tag, [(k, v if v is not None else "") for k, v in attrs], self.cur)
        self.cur.children.append(e)
        if tag not in VOID:
            self.cur = e

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Element(tag, [(k, v if v is not None else "") for k, v in attrs], self.cur))

    def handle_endtag(self, tag):
        e = self.cur
        while e is not None and e.tag != tag:
            e = e.parent
        if e is not None and e.parent is not None:
            self.cur = e.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_dom(text):
    b = TreeBuilder()
    b.feed(text)
    b.close()
    return b.root


# ---------------------------------------------------------------------------
# Fixtures


def fixture_header(path):
    """(expectations, exit status, options) from a fixture's header
    (fixtures/README.md): expectations are [(kind, [line, ...])]."""
    expect, status, options = [], 66, []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            m = re.match(r"\s*//\s*FSAN-(EXPECT|EXIT|OPTIONS):\s*(.*)$", raw)
            if not m:
                continue
            name, value = m.group(1), m.group(2).strip()
            if name == "EXIT":
                status = int(value)
            elif name == "OPTIONS":
                options.append(value)
            elif value != "none":
                words = shlex.split(value)
                expect.append((words[0], [int(w[5:]) for w in words[1:] if w.startswith("line=")]))
    return expect, status, options


def leak_fixture(source_root):
    """The first fixture (not a fixed variant) that expects a fiber leak, or None."""
    found = []
    for d, _, files in os.walk(os.path.join(source_root, "fixtures")):
        for f in files:
            if f.endswith(".cpp") and not f.endswith(".fixed.cpp"):
                path = os.path.join(d, f)
                if any(k == "fiber_leak" and lines for k, lines in fixture_header(path)[0]):
                    found.append(path)
    return sorted(found)[0] if found else None


def build_and_run(driver, source, workdir, json_dir):
    name = os.path.splitext(os.path.basename(source))[0]
    exe = os.path.join(workdir, "bin", name)
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    r = subprocess.run([driver, "-fsanitize=fiber", "-g", "-O1", source, "-o", exe],
                       capture_output=True, text=True)
    check(r.returncode == 0, "compiling %s failed (exit %d):\n%s" % (source, r.returncode, (r.stdout + r.stderr)[-3000:]))
    _, status, options = fixture_header(source)
    env = dict(os.environ, FSAN_OPTIONS=":".join(["report_dir=" + json_dir] + options))
    try:
        r = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure("%s still running after %ds" % (name, RUN_TIMEOUT))
    check(r.returncode == status, "%s exited %d, expected %d:\n%s" % (name, r.returncode, status, r.stderr[-3000:]))


def distinct_findings(json_paths):
    """(kind, signature) of every distinct finding in the JSON files, first seen first."""
    seen = []
    for p in json_paths:
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
        for fd in doc["findings"]:
            key = (fd["kind"], fd["signature"])
            if key not in seen:
                seen.append(key)
    return seen


# ---------------------------------------------------------------------------
# Browser


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def chromium_args(chromium, workdir, profile, extra):
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--hide-scrollbars", "--user-data-dir=" + os.path.join(workdir, profile)] + extra


def dump_dom(chromium, page, workdir, scripts):
    """The DOM after load. JavaScript off: Chromium's own --dump-dom and
    --screenshot need JavaScript, so --blink-settings=scriptEnabled=false
    makes them print nothing; instead the page is loaded under a
    Content-Security-Policy of script-src 'none', which stops the page's
    scripts exactly as a browser with JavaScript off would."""
    if not scripts:
        with open(page, encoding="utf-8") as f:
            text = f.read()
        check("<head>" in text, "the page has no <head>")
        page = os.path.join(workdir, "page-no-scripts.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(text.replace("<head>", "<head><meta http-equiv=\"Content-Security-Policy\" "
                                           "content=\"script-src 'none'\">", 1))
    args = chromium_args(chromium, workdir, "profile-js" if scripts else "profile-nojs", ["--dump-dom"])
    try:
        r = subprocess.run(args + ["file://" + os.path.abspath(page)], capture_output=True, text=True,
                           timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure("chromium --dump-dom did not finish in %ds" % BROWSER_TIMEOUT)
    check(r.returncode == 0 and "<html" in r.stdout,
          "chromium --dump-dom failed (exit %d):\n%s" % (r.returncode, r.stderr[-2000:]))
    return r.stdout


def screenshot(chromium, page, png, workdir):
    args = chromium_args(chromium, workdir, "profile-shot", ["--screenshot=" + png, "--window-size=1280,2000"])
    if os.path.exists(png):
        os.remove(png)
    try:
        subprocess.run(args + ["file://" + os.path.abspath(page)], capture_output=True, text=True,
                       timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure("chromium --screenshot did not finish in %ds" % BROWSER_TIMEOUT)
    check(os.path.exists(png), "chromium wrote no screenshot to " + png)
    with open(png, "rb") as f:
        head = f.read(8)
    check(head == b"\x89PNG\r\n\x1a\n", png + " is not a PNG file")


# ---------------------------------------------------------------------------
# What the page must hold


def check_index(dom, expected):
    table = dom.by_id("findings")
    check(table is not None and table.tag == "table", "no <table id=findings> index")
    rows = [tr for tr in table.find_all("tr") if tr.parent.tag == "tbody"]
    check(len(rows) == len(expected), "index has %d rows, the JSON has %d distinct findings %s"
          % (len(rows), len(expected), [k for k, _ in expected]))
    kinds = sorted(r.attrs.get("data-kind", "") for r in rows)
    check(kinds == sorted(k for k, _ in expected), "index row kinds %s, expected %s"
          % (kinds, sorted(k for k, _ in expected)))
    sections = {}
    for r in rows:
        link = r.find("a")
        check(link is not None and link.attrs.get("href", "").startswith("#finding-"),
              "index row without a link to its finding: " + r.text()[:200])
        section = dom.by_id(link.attrs["href"][1:])
        check(section is not None, "index links to %s, which is not on the page" % link.attrs["href"])
        check(section.attrs.get("data-kind") == r.attrs.get("data-kind"),
              "row of kind %s links to a section of kind %s" % (r.attrs.get("data-kind"), section.attrs.get("data-kind")))
        check(r.find("td", cls="loc") is not None and r.find("td", cls="loc").text().strip(),
              "index row without a first location: " + r.text()[:200])
        sections.setdefault(r.attrs["data-kind"], []).append(section)
    return sections


def user_frame_lines(section):
    return [li for li in section.find_all("li", cls="frame user")]


def check_frames_name_lines(section, source, lines, what):
    """Each fixture line has a user frame `file:line` with a snippet highlighting that source line."""
    base = os.path.basename(source)
    with open(source, encoding="utf-8") as f:
        text = f.read().split("\n")
    frames = user_frame_lines(section)
    check(frames, "%s: no user frames" % what)
    for line in lines:
        want = "%s:%d" % (base, line)
        hits = [fr for fr in frames if fr.find("span", cls="loc") is not None
                and re.search(re.escape(want) + r"(:\d+)?$", fr.find("span", cls="loc").text().strip())]
        check(hits, "%s: no frame names %s; frames: %s" % (what, want,
                                                           [fr.find("summary").text() if fr.find("summary") else fr.text()
                                                            for fr in frames][:8]))
        source_line = text[line - 1].strip()
        ok = False
        for fr in hits:
            hl = fr.find("span", cls="src-line hl")
            if hl is None:
                continue
            number = hl.find("span", cls="ln")
            if number is not None and number.text().strip() == str(line) and source_line in hl.text():
                ok = True
        check(ok, "%s: the frame at %s has no snippet highlighting line %d (%r)" % (what, want, line, source_line))


def check_deadlock(sec, source, lines):
    svg = sec.find("svg", cls="wait-graph")
    check(svg is not None, "the deadlock section has no <svg class=wait-graph>")
    nodes = svg.find_all("g", cls="node")
    cyc_nodes = svg.find_all("g", cls="node cycle")
    fibers = svg.find_all("g", cls="node fiber cycle")
    mutexes = svg.find_all("g", cls="node mutex cycle")
    check(len(fibers) >= 2 and len(mutexes) >= 2,
          "graph cycle should hold 2 fibers and 2 mutexes, has %d and %d (of %d nodes)" % (len(fibers), len(mutexes), len(nodes)))
    edges = svg.find_all("g", cls="edge cycle")
    check(len(edges) >= 4, "graph cycle should have 4 edges, has %d" % len(edges))
    for e in edges + cyc_nodes:
        shapes = [s for s in e.iter() if s.tag in ("path", "polygon")]
        check(shapes and all(s.attrs.get("stroke") == "#d93025" for s in shapes),
              "a cycle element is not drawn in the highlight colour: " + e.find("title").text())
        check(any(s.attrs.get("stroke-width") for s in shapes), "a cycle element is not drawn bold")
    labels = [t.text() for t in svg.find_all("text")]
    check(any(l.startswith("waits (sync.Mutex.Lock)") for l in labels), "no 'waits (sync.Mutex.Lock)' edge label: %s" % labels)
    check("held by" in labels, "no 'held by' edge label: %s" % labels)
    headers = [h.text().strip() for h in sec.find_all("h3", cls="fiber-header")]
    check(len(headers) >= 2, "deadlock shows %d fibers, expected 2" % len(headers))
    for h in headers:
        check(re.match(r'^fiber \d+( ".*")? \[sync\.Mutex\.Lock(, [0-9.]+(us|ms|s| minutes?))?\]:', h),
              "fiber header is not Go-style: %r" % h)
    check(len(sec.find_all("details", cls="stack")) >= 4, "deadlock: expected a stack and a creation stack per fiber")
    check(any(s.find("summary").text().startswith("created by fiber") for s in sec.find_all("details", cls="stack")),
          "deadlock: no 'created by fiber N at:' stack")
    # Clicking a fiber in the graph goes to its stack.
    for a in svg.find_all("a"):
        href = a.attrs.get("xlink:href") or a.attrs.get("href")
        if href:
            check(sec.by_id(href[1:]) is not None, "graph link %s has no target" % href)
    check_frames_name_lines(sec, source, lines, "deadlock")


def check_race(sec, source, lines):
    box = sec.find("div", cls="accesses")
    check(box is not None, "race section has no side-by-side accesses")
    accesses = [c for c in box.children if not isinstance(c, str) and "access" in c.classes]
    check(len(accesses) == 2, "race shows %d accesses, expected 2" % len(accesses))
    titles = [a.find("h3").text().strip() for a in accesses]
    tail = r" of size \d+ at 0x[0-9a-f]+ by fiber \d+"
    check(re.match(r"^(Write|Read|Atomic write|Atomic read)" + tail, titles[0]), "first access title: %r" % titles[0])
    check(re.match(r"^Previous (atomic )?(write|read)" + tail, titles[1]), "second access title: %r" % titles[1])
    for a in accesses:
        check(a.find("details", cls="stack") is not None, "an access has no stack")
        check(a.find("div", cls="held") is not None, "an access does not list the locks held")
        check(any(s.find("summary").text().startswith("Fiber ") for s in a.find_all("details", cls="stack")),
              "an access has no 'Fiber N created by' stack")
    check(sec.find("div", cls="location") is not None, "race section has no location")
    check_frames_name_lines(sec, source, lines, "race")


def check_page(dom, expected, fixtures, scripts):
    html_el = dom.find("html")
    check(html_el is not None, "no <html> element")
    check(("js" in html_el.classes) == scripts,
          "html.js class is %s with JavaScript %s" % ("js" in html_el.classes, "on" if scripts else "off"))
    controls = dom.by_id("controls")
    check(controls is not None and ("hidden" in controls.attrs) != scripts,
          "the filter bar should be %s with JavaScript %s" % ("shown" if scripts else "hidden", "on" if scripts else "off"))
    if scripts:
        boxes = controls.find_all("input")
        check(sorted(b.attrs.get("data-kind") for b in boxes) == sorted(set(k for k, _ in expected)),
              "one kind filter per kind expected")
    for e in dom.iter():
        for attr in ("src", "href", "xlink:href"):
            v = e.attrs.get(attr, "")
            check(not re.match(r"^(https?:)?//", v), "the page refers to the network: %s=%s" % (attr, v))
    check(dom.find("link") is None, "the page has a <link> element")
    sections = check_index(dom, expected)
    for kind, lines, source in fixtures:
        check(kind in sections, "no %s section" % kind)
        # Several sections may share a kind (ab_ba may also leak its fibers):
        # the fixture's finding is one of them.
        errors = []
        for section in sections[kind]:
            try:
                if kind == "partial_deadlock":
                    check_deadlock(section, source, lines)
                elif kind == "data_race":
                    check_race(section, source, lines)
                else:
                    check_frames_name_lines(section, source, lines, kind)
                break
            except Failure as e:
                errors.append(str(e))
        else:
            raise Failure("; ".join(errors))


# Drives the page's own script as a reader would: sorts the index by kind
# (twice: ascending, then descending) and unticks the data_race filter,
# recording the row order after each sort on <body> for the DOM dump.
DRIVER_SCRIPT = """
<script>
(function () {
  var rows = function () {
    return Array.prototype.map.call(document.querySelectorAll("#findings tbody tr"),
                                    function (r) { return r.getAttribute("data-kind"); }).join(",");
  };
  var kind = Array.prototype.filter.call(document.querySelectorAll("#findings thead th"),
                                         function (th) { return th.textContent.trim().indexOf("Kind") === 0; })[0];
  kind.click();
  document.body.setAttribute("data-test-ascending", rows());
  kind.click();
  document.body.setAttribute("data-test-descending", rows());
  var box = document.querySelector('#controls input[data-kind="data_race"]');
  box.checked = false;
  box.dispatchEvent(new Event("change"));
})();
</script>
"""


def check_interaction(chromium, page, workdir, expected):
    """Sorting and filtering by the page's script, in Chromium."""
    with open(page, encoding="utf-8") as f:
        text = f.read()
    check("</body>" in text, "the page has no </body>")
    driven = os.path.join(workdir, "page-driven.html")
    with open(driven, "w", encoding="utf-8") as f:
        f.write(text.replace("</body>", DRIVER_SCRIPT + "</body>", 1))
    dom = parse_dom(dump_dom(chromium, driven, workdir, True))
    body = dom.find("body")
    kinds = [k for k, _ in expected]
    check(body.attrs.get("data-test-ascending") == ",".join(sorted(kinds)),
          "sorting by kind gave %s, expected %s" % (body.attrs.get("data-test-ascending"), sorted(kinds)))
    check(body.attrs.get("data-test-descending") == ",".join(sorted(kinds, reverse=True)),
          "sorting by kind again gave %s, expected the reverse" % body.attrs.get("data-test-descending"))
    for el in dom.find_all("tr", cls="finding-row") + dom.find_all("section", cls="finding"):
        hidden = "hidden" in el.attrs
        check(hidden == (el.attrs.get("data-kind") == "data_race"),
              "after unticking data_race, a %s %s is %s" % (el.attrs.get("data-kind"), el.tag,
                                                          "hidden" if hidden else "shown"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsan", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--testdir", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()

    chromium = find_chromium()
    if chromium is None:
        print("SKIP: chromium is not installed (scripts/setup installs Debian's chromium)")
        return SKIP

    shutil.rmtree(a.workdir, ignore_errors=True)
    json_dir = os.path.join(a.workdir, "json")
    os.makedirs(json_dir)

    sources = [os.path.join(a.source_root, "fixtures", f) for f in FIXTURES]
    leak = leak_fixture(a.source_root)
    if leak is not None and leak not in sources:
        sources.append(leak)
    fixtures = []  # (kind, lines, source) the page must show
    deadlock_json = None
    for src in sources:
        before = set(os.listdir(json_dir))
        build_and_run(a.driver, src, a.workdir, json_dir)
        new = sorted(set(os.listdir(json_dir)) - before)
        check(len(new) == 1, "%s wrote %d report files, expected 1" % (src, len(new)))
        if src.endswith("ab_ba.cpp"):
            deadlock_json = os.path.join(json_dir, new[0])
        for kind, lines in fixture_header(src)[0]:
            fixtures.append((kind, lines, src))
    expected = distinct_findings(sorted(os.path.join(json_dir, f) for f in os.listdir(json_dir)))

    page = os.path.join(a.workdir, "page.html")
    r = subprocess.run([a.fsan, "report", json_dir, "-o", page, "--fail-on", "none"], capture_output=True, text=True)
    check(r.returncode == 0, "fsan report exited %d:\n%s%s" % (r.returncode, r.stdout, r.stderr))
    check(os.path.exists(page), "fsan report wrote no page")

    for scripts in (True, False):
        dom = parse_dom(dump_dom(chromium, page, a.workdir, scripts))
        check_page(dom, expected, fixtures, scripts)
    check_interaction(chromium, page, a.workdir, expected)

    # A truncated report (a CI shard killed mid-write) is named in the load
    # errors at the top; the readable reports are still rendered.
    broken_dir = os.path.join(a.workdir, "json-broken")
    os.makedirs(broken_dir)
    shutil.copy(deadlock_json, broken_dir)
    with open(deadlock_json, encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(broken_dir, "fsan.truncated.json"), "w", encoding="utf-8") as f:
        f.write(text[: len(text) // 2])
    broken_page = os.path.join(a.workdir, "broken-page.html")
    r = subprocess.run([a.fsan, "report", broken_dir, "-o", broken_page, "--fail-on", "none"], capture_output=True,
                       text=True)
    check(r.returncode != 0 and os.path.exists(broken_page),
          "fsan report on a truncated file exited %d (expected non-zero) and wrote %s"
          % (r.returncode, "a page" if os.path.exists(broken_page) else "no page"))
    dom = parse_dom(dump_dom(chromium, broken_page, a.workdir, False))
    errors = dom.by_id("load-errors")
    check(errors is not None, "the page of a truncated report shows no load errors")
    items = [li.text() for li in errors.find_all("li")]
    check(len(items) == 1 and "fsan.truncated.json" in items[0] and "\n" not in items[0].strip(),
          "expected one load error naming fsan.truncated.json, got %s" % items)
    check(len([tr for tr in dom.find_all("tr", cls="finding-row")]) == 1,
          "the readable report's finding is missing from the page of a truncated report")

    deadlock_page = os.path.join(a.workdir, "deadlock-page.html")
    r = subprocess.run([a.fsan, "report", deadlock_json, "-o", deadlock_page, "--fail-on", "none",
                        "--title", "fibersan report: ab_ba"], capture_output=True, text=True)
    check(r.returncode == 0, "fsan report (deadlock page) exited %d:\n%s" % (r.returncode, r.stderr))
    png = os.path.join(a.workdir, "deadlock-page.png")
    screenshot(chromium, deadlock_page, png, a.workdir)
    print("PASS: %d findings checked in Chromium with JavaScript on and off; screenshot %s" % (len(expected), png))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print("FAIL: " + str(e))
        sys.exit(1)
