#!/usr/bin/env python3
"""check_fixture: builds one fixture with the fibersan driver, runs it with
FSAN_OPTIONS=report_dir=<tmp>, and checks the JSON report (REPORTS.md schema)
against the expectations in the fixture's header (fixtures/README.md).

Exit status: 0 pass, 1 fail (first line of output says why), 2 a broken
fixture header.

  check_fixture.py --driver build/bin/fsan-clang++ --source fixtures/x.cpp \
                   --workdir build/test/integration/work/x [--flags "-fsanitize=fiber -g -O1"]
"""
import argparse
import glob
import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys

SKIP = 77
DIRECTIVE_PREFIX = "FSAN-"
KNOWN_KEYS = ("line", "wait", "message")
SCHEMA = "fibersan-report/1"


class HeaderError(Exception):
    pass


class Expectation:
    def __init__(self, kind, lines, waits, messages, text):
        self.kind = kind
        self.lines = lines
        self.waits = waits
        self.messages = messages
        self.text = text

    def __str__(self):
        return self.text


class Fixture:
    def __init__(self, path):
        self.path = path
        self.expect = []  # list of Expectation
        self.expect_none = False
        self.exit = None
        self.options = []
        self.allow = set()
        self._parse()

    def _parse(self):
        with open(self.path, encoding="utf-8") as f:
            for number, raw in enumerate(f, 1):
                line = raw.strip()
                if not line.startswith("//"):
                    continue
                body = line[2:].strip()
                if not body.startswith(DIRECTIVE_PREFIX) or ":" not in body:
                    continue
                name, _, value = body.partition(":")
                value = value.strip()
                where = "%s:%d" % (os.path.basename(self.path), number)
                if name == "FSAN-EXPECT":
                    self._parse_expect(value, where)
                elif name == "FSAN-EXIT":
                    try:
                        self.exit = int(value)
                    except ValueError:
                        raise HeaderError("%s: FSAN-EXIT wants a number, got %r" % (where, value))
                elif name == "FSAN-OPTIONS":
                    # %S: the fixture's directory (as in lit), for files
                    # such as suppressions= that sit next to the fixture.
                    self.options.append(value.replace("%S", os.path.dirname(os.path.abspath(self.path))))
                elif name == "FSAN-ALLOW":
                    self.allow.update(value.replace(",", " ").split())
                else:
                    raise HeaderError("%s: unknown directive %s" % (where, name))
        if self.expect_none and self.expect:
            raise HeaderError("%s: FSAN-EXPECT: none together with other expectations" % self.path)
        if not self.expect_none and not self.expect:
            raise HeaderError("%s: no FSAN-EXPECT line (use 'FSAN-EXPECT: none' for a clean run)" % self.path)
        if self.exit is None:
            self.exit = 66 if self.expect else 0

    def _parse_expect(self, value, where):
        try:
            words = shlex.split(value)
        except ValueError as e:
            raise HeaderError("%s: FSAN-EXPECT: %s" % (where, e))
        if not words:
            raise HeaderError("%s: empty FSAN-EXPECT" % where)
        if words == ["none"]:
            self.expect_none = True
            return
        kind, lines, waits, messages = words[0], [], [], []
        for w in words[1:]:
            key, eq, val = w.partition("=")
            if not eq or key not in KNOWN_KEYS:
                raise HeaderError("%s: FSAN-EXPECT: bad item %r (keys: %s)" % (where, w, ", ".join(KNOWN_KEYS)))
            if key == "line":
                try:
                    lines.append(int(val))
                except ValueError:
                    raise HeaderError("%s: FSAN-EXPECT: line=%r is not a number" % (where, val))
            elif key == "wait":
                waits.append(val)
            else:
                messages.append(val)
        self.expect.append(Expectation(kind, lines, waits, messages, value))

    def is_race_fixture(self):
        parts = os.path.normpath(self.path).split(os.sep)
        return "races" in parts or any(e.kind == "data_race" for e in self.expect)


# --- matching -----------------------------------------------------------------


def same_file(frame_file, fixture_path):
    if not frame_file:
        return False
    if os.path.isabs(frame_file):
        return os.path.realpath(frame_file) == os.path.realpath(fixture_path)
    norm = os.path.normpath(frame_file)
    return os.path.realpath(fixture_path).endswith(os.sep + norm) or os.path.basename(fixture_path) == norm


def stacks_of(finding):
    """Every stack of a finding: each fiber's stack and each access's, then
    where a leaked object was made (the location of a timer_leak or
    lost_cancel)."""
    out = []
    for fiber in finding.get("fibers") or []:
        out.append(fiber.get("stack") or [])
    for access in finding.get("accesses") or []:
        out.append(access.get("stack") or [])
    location = finding.get("location") or {}
    if finding.get("kind") in ("timer_leak", "lost_cancel") and location.get("alloc_stack"):
        out.append(location["alloc_stack"])
    return out


def fixture_line(stack, fixture_path):
    """The line of the first frame of `stack` in the fixture, or None."""
    for frame in stack:
        if isinstance(frame, dict) and same_file(frame.get("file"), fixture_path):
            return frame.get("line")
    return None


def matches(exp, finding, fixture_path):
    if finding.get("kind") != exp.kind:
        return False
    if exp.waits:
        reasons = {f.get("wait_reason") for f in finding.get("fibers") or []}
        if not all(w in reasons for w in exp.waits):
            return False
    text = "%s\n%s" % (finding.get("message") or "", finding.get("summary") or "")
    if not all(m in text for m in exp.messages):
        return False
    if exp.lines:
        # Each line= needs its own stack.
        lines = [fixture_line(s, fixture_path) for s in stacks_of(finding)]
        if len(lines) < len(exp.lines):
            return False
        if not any(all(lines[i] == want for i, want in zip(perm, exp.lines))
                   for perm in itertools.permutations(range(len(lines)), len(exp.lines))):
            return False
    return True


def assign(expectations, findings, fixture_path):
    """An injective expectation -> finding assignment, or None."""
    candidates = [[j for j, f in enumerate(findings) if matches(e, f, fixture_path)] for e in expectations]

    def solve(i, used):
        if i == len(expectations):
            return []
        for j in candidates[i]:
            if j not in used:
                rest = solve(i + 1, used | {j})
                if rest is not None:
                    return [j] + rest
        return None

    return solve(0, frozenset())


def describe(finding, fixture_path):
    lines = [fixture_line(s, fixture_path) for s in stacks_of(finding)]
    waits = sorted({f.get("wait_reason") for f in finding.get("fibers") or [] if f.get("wait_reason")})
    return "%s: %s (fixture lines %s%s)" % (
        finding.get("kind"), finding.get("summary") or finding.get("message") or "",
        ",".join(str(l) for l in lines if l is not None) or "none",
        "; waits " + ", ".join(repr(w) for w in waits) if waits else "")


# --- running -------------------------------------------------------------------


def fail(message, details=""):
    print("FAIL: " + message)
    if details:
        print(details.rstrip())
    return 1


def load_reports(report_dir):
    """All findings of every fsan.<pid>.json in report_dir, or raises ValueError."""
    findings = []
    paths = sorted(glob.glob(os.path.join(report_dir, "fsan.*.json")))
    for path in paths:
        name = os.path.basename(path)
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise ValueError("malformed report %s: %s" % (name, e))
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise ValueError("malformed report %s: schema is %r, want %r" % (
                name, doc.get("schema") if isinstance(doc, dict) else type(doc).__name__, SCHEMA))
        items = doc.get("findings")
        if not isinstance(items, list) or not all(isinstance(x, dict) and "kind" in x for x in items):
            raise ValueError("malformed report %s: 'findings' is not a list of findings" % name)
        findings.extend(items)
    return paths, findings


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--flags", default="-fsanitize=fiber -g -O1")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds the fixture may run")
    args = ap.parse_args()

    try:
        fixture = Fixture(args.source)
    except (OSError, HeaderError) as e:
        print("FAIL: bad fixture header: %s" % e)
        return 2

    os.makedirs(args.workdir, exist_ok=True)
    binary = os.path.join(args.workdir, "fixture")
    report_dir = os.path.join(args.workdir, "reports")
    shutil.rmtree(report_dir, ignore_errors=True)
    if os.path.exists(binary):
        os.remove(binary)

    compile_cmd = [args.driver] + shlex.split(args.flags) + [os.path.abspath(args.source), "-o", binary]
    print("build: " + " ".join(shlex.quote(c) for c in compile_cmd))
    built = subprocess.run(compile_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if built.returncode != 0:
        first = next((l for l in built.stdout.splitlines() if "error" in l), "exit status %d" % built.returncode)
        print("FAIL: fixture does not build: " + first.strip())
        print(built.stdout.rstrip())
        return 1

    env = dict(os.environ)
    env["FSAN_OPTIONS"] = ":".join(["report_dir=" + report_dir] + fixture.options)
    print("run: FSAN_OPTIONS=%s %s" % (env["FSAN_OPTIONS"], binary))
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace")
    try:
        output, _ = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        # SIGQUIT makes the runtime print every fiber (like Go); then kill.
        proc.send_signal(signal.SIGQUIT)
        try:
            output, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        return fail("fixture still running after %gs (hung; expected exit %d); output and SIGQUIT dump follow" % (
            args.timeout, fixture.exit), output)
    ran = subprocess.CompletedProcess(proc.args, proc.returncode, output)

    try:
        paths, findings = load_reports(report_dir)
    except ValueError as e:
        return fail(str(e), output)
    if fixture.expect and not paths:
        return fail("no report written to %s (expected %d finding(s), exit status %d)" % (
            report_dir, len(fixture.expect), ran.returncode), output)

    problems = []
    if ran.returncode != fixture.exit:
        problems.append("exit status %d, expected %d" % (ran.returncode, fixture.exit))
    matched = assign(fixture.expect, findings, args.source)
    if matched is None:
        for exp in fixture.expect:
            if not any(matches(exp, f, args.source) for f in findings):
                problems.append("no finding matches: %s" % exp)
        if not any(p.startswith("no finding matches") for p in problems):
            problems.append("expectations cannot each get their own finding")
    for f in findings:
        if f.get("kind") in fixture.allow:
            continue
        if not any(matches(exp, f, args.source) for exp in fixture.expect):
            problems.append("unexpected finding: " + describe(f, args.source))

    if problems:
        details = ["findings reported (%d):" % len(findings)]
        details += ["  " + describe(f, args.source) for f in findings]
        details += ["program output:", output]
        return fail("; ".join(problems), "\n".join(details))
    print("PASS: exit status %d, %d finding(s) as expected%s" % (
        ran.returncode, len(findings),
        "".join("\n  " + describe(f, args.source) for f in findings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
