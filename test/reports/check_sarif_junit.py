#!/usr/bin/env python3
"""check_sarif_junit: `fsan report` and `fsan gate` on real reports.

Builds fixtures/races/shared_counter.cpp, fixtures/deadlocks/ab_ba.cpp and
shared_counter.fixed.cpp with fsan-clang++ -fsanitize=fiber -g -O1, runs them
with FSAN_OPTIONS=report_dir=<work>/json, then checks:
  - `fsan report --sarif --junit`: exit 1, the summary line; the SARIF log
    validates against the official SARIF 2.1.0 schema (test/reports/data,
    python3-jsonschema), has one result per finding at the fixture lines the
    headers name (FSAN-EXPECT line=), relative to SRCROOT, with threadFlows;
    the JUnit XML parses and fails exactly the two buggy binaries' testcases,
    with the text report as the failure body, and passes the fixed one;
  - a truncated report among them: one error line naming the file and its
    position, the rest still rendered, exit 3 when no finding fails;
  - suppressions: suppressed results carry `suppressions` and still validate,
    and suppressing everything makes the exit status 0;
  - a GoogleTest binary (test/unit's fsan_test_fixture): a failing testcase
    per FSAN_TEST with findings, named Suite.Name;
  - `fsan gate`: exit 1 on findings, 0 on the fixed program, 0 when the
    findings are suppressed (the runtime's exit 66 is explained), and the
    command's own status when it fails without findings.

Exit status: 0 pass, 1 fail (the first line says why), 77 skip (no jsonschema).

  check_sarif_junit.py --fsan build/bin/fsan --driver build/bin/fsan-clang++ \
      --source-root . --testdir test/reports --workdir build/.../work/check_sarif_junit
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SKIP = 77
RUN_TIMEOUT = 120
BUGGY = {"races/shared_counter.cpp": "data_race", "deadlocks/ab_ba.cpp": "partial_deadlock"}
FIXED = "races/shared_counter.fixed.cpp"


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def run(cmd, env=None, cwd=None):
    try:
        return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure("timed out after %ds: %s" % (RUN_TIMEOUT, " ".join(cmd)))


def expected_lines(source):
    """The line= values of the fixture's FSAN-EXPECT header."""
    lines = set()
    with open(source, encoding="utf-8") as f:
        for raw in f:
            if "FSAN-EXPECT:" in raw:
                lines.update(int(n) for n in re.findall(r"\bline=(\d+)", raw))
    return lines


def build(args, rel):
    source = os.path.join(args.source_root, "fixtures", rel)
    exe = os.path.join(args.workdir, "bin", os.path.basename(rel)[: -len(".cpp")])
    p = run([args.driver, "-fsanitize=fiber", "-g", "-O1", source, "-o", exe])
    check(p.returncode == 0, "building %s failed:\n%s" % (rel, p.stderr))
    return exe


def run_fixture(exe, report_dir, want_status):
    env = dict(os.environ, FSAN_OPTIONS="report_dir=" + report_dir)
    p = run([exe], env=env, cwd=os.path.dirname(exe))
    check(p.returncode == want_status,
          "%s exited %d, expected %d:\n%s" % (exe, p.returncode, want_status, p.stderr[-2000:]))


def fsan(args, *argv, cwd=None):
    return run([args.fsan] + list(argv), cwd=cwd)


def validate_sarif(args, path):
    import jsonschema

    with open(os.path.join(args.testdir, "data", "sarif-schema-2.1.0.json"), encoding="utf-8") as f:
        schema = json.load(f)
    with open(path, encoding="utf-8") as f:
        log = json.load(f)
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    check(not errors, "%s does not validate against SARIF 2.1.0: %s at %s" %
          (path, errors[0].message if errors else "", list(errors[0].absolute_path) if errors else ""))
    return log


def check_sarif(args, log, want_kinds):
    check(log["version"] == "2.1.0", "SARIF version %r" % log["version"])
    run0 = log["runs"][0]
    rules = [r["id"] for r in run0["tool"]["driver"]["rules"]]
    check("data_race" in rules and "partial_deadlock" in rules, "rules lack the kinds: %s" % rules)
    check(run0["originalUriBaseIds"]["SRCROOT"]["uri"] == "file://" + os.path.abspath(args.source_root).rstrip("/") + "/",
          "SRCROOT is %r" % run0["originalUriBaseIds"]["SRCROOT"])
    results = run0["results"]
    check(sorted(r["ruleId"] for r in results) == sorted(want_kinds.values()),
          "SARIF results %s, expected %s" % ([r["ruleId"] for r in results], sorted(want_kinds.values())))
    for rel, kind in want_kinds.items():
        r = next(r for r in results if r["ruleId"] == kind)
        phys = r["locations"][0]["physicalLocation"]
        uri = phys["artifactLocation"]["uri"]
        check(uri == "fixtures/" + rel and phys["artifactLocation"].get("uriBaseId") == "SRCROOT",
              "%s result located at %r, expected fixtures/%s under SRCROOT" % (kind, phys["artifactLocation"], rel))
        lines = expected_lines(os.path.join(args.source_root, "fixtures", rel))
        check(phys["region"]["startLine"] in lines,
              "%s result at line %d, expected one of %s" % (kind, phys["region"]["startLine"], sorted(lines)))
        check(r["level"] == "error", "%s result level %r" % (kind, r["level"]))
        check(r["partialFingerprints"], "%s result has no partialFingerprints" % kind)
        flows = r["codeFlows"][0]["threadFlows"]
        check(len(flows) >= 2, "%s result has %d threadFlows, expected one per access/fiber" % (kind, len(flows)))
        flow_lines = {loc["location"]["physicalLocation"]["region"]["startLine"]
                      for flow in flows for loc in flow["locations"]
                      if loc["location"].get("physicalLocation", {}).get("artifactLocation", {}).get("uri") == uri}
        check(lines <= flow_lines, "%s threadFlows visit lines %s, expected %s" % (kind, sorted(flow_lines), sorted(lines)))


def check_junit(path, failing, passing):
    root = ET.parse(path).getroot()
    check(root.tag == "testsuites", "JUnit root is <%s>" % root.tag)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    check(sorted(suites) == sorted(list(failing) + list(passing)),
          "JUnit suites %s, expected %s" % (sorted(suites), sorted(list(failing) + list(passing))))
    for name, kind in failing.items():
        cases = suites[name].findall("testcase")
        check(len(cases) == 1 and cases[0].get("name") == name, "suite %s has cases %s" % (name, [c.get("name") for c in cases]))
        fail = cases[0].find("failure")
        check(fail is not None and fail.get("type") == kind, "testcase %s does not fail with type %s" % (name, kind))
        check(fail.text.startswith("==================\nWARNING: fibersan: ") and "SUMMARY: fibersan: " in fail.text,
              "failure body of %s is not the text report: %r" % (name, fail.text[:200]))
        check(suites[name].get("failures") == "1", "suite %s failures=%s" % (name, suites[name].get("failures")))
    for name in passing:
        cases = suites[name].findall("testcase")
        check(len(cases) == 1 and cases[0].find("failure") is None, "testcase %s should pass" % name)
    check(root.get("failures") == str(len(failing)), "testsuites failures=%s" % root.get("failures"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsan", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--testdir", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--gtest-fixture", required=True)
    args = ap.parse_args()
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        print("SKIP: python3-jsonschema is not installed (scripts/setup installs it)")
        return SKIP

    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(os.path.join(args.workdir, "bin"))
    json_dir = os.path.join(args.workdir, "json")
    exes = {rel: build(args, rel) for rel in list(BUGGY) + [FIXED]}
    for rel in BUGGY:
        run_fixture(exes[rel], json_dir, 66)
    run_fixture(exes[FIXED], json_dir, 0)
    names = {rel: os.path.basename(exes[rel]) for rel in exes}
    failing = {names[rel]: kind for rel, kind in BUGGY.items()}

    # The whole set.
    out = os.path.join(args.workdir, "out")
    os.makedirs(out)
    sarif, junit = os.path.join(out, "r.sarif"), os.path.join(out, "r.xml")
    p = fsan(args, "report", json_dir, "-o", "", "--sarif", sarif, "--junit", junit, "--source-root", args.source_root)
    check(p.returncode == 1, "fsan report exited %d, expected 1:\n%s%s" % (p.returncode, p.stdout, p.stderr))
    want = "fsan report: 2 findings (1 data_race, 1 partial_deadlock), 0 suppressed, 0 errors; wrote %s, %s\n" % (sarif, junit)
    check(p.stdout == want, "summary line %r, expected %r" % (p.stdout, want))
    check(p.stderr == "", "unexpected stderr: %s" % p.stderr)
    check_sarif(args, validate_sarif(args, sarif), BUGGY)
    check_junit(junit, failing, [names[FIXED]])

    # A truncated report beside them: one positioned error line, the rest rendered.
    broken = os.path.join(args.workdir, "broken")
    shutil.copytree(json_dir, broken)
    victim = sorted(f for f in os.listdir(broken) if f.endswith(".json"))[0]
    with open(os.path.join(broken, victim), "r+", encoding="utf-8") as f:
        text = f.read()
        f.seek(0)
        f.truncate()
        f.write(text[: len(text) // 2])
    p = fsan(args, "report", broken, "-o", "", "--sarif", sarif, "--fail-on", "none", "--source-root", args.source_root)
    check(p.returncode == 3, "with a truncated file fsan report exited %d, expected 3" % p.returncode)
    err = p.stderr.splitlines()
    check(len(err) == 1 and re.match(r"fsan report: error: %s:\d+:\d+: truncated JSON .*\(byte \d+\)$" %
                                     re.escape(os.path.join(broken, victim)), err[0]),
          "expected one error line naming %s and its position, got %r" % (victim, p.stderr))
    log = validate_sarif(args, sarif)
    check(len(log["runs"][0]["results"]) == 1, "the other report was not rendered beside the broken one")
    check(log["runs"][0]["invocations"][0]["executionSuccessful"] is False, "the broken file is not a notification")

    # Suppressions: one, then all.
    supp = os.path.join(args.workdir, "supp.txt")
    with open(supp, "w", encoding="utf-8") as f:
        f.write("# the counter is a known race\nrace:shared_counter.cpp\n")
    p = fsan(args, "report", json_dir, "-o", "", "--sarif", sarif, "--suppressions", supp)
    check(p.returncode == 1, "one finding left, yet exit %d" % p.returncode)
    check(", 1 suppressed," in p.stdout, "summary does not count the suppressed finding: %r" % p.stdout)
    log = validate_sarif(args, sarif)
    sup = [r for r in log["runs"][0]["results"] if r.get("suppressions")]
    check(len(sup) == 1 and sup[0]["ruleId"] == "data_race", "the race is not marked suppressed in SARIF")
    with open(supp, "a", encoding="utf-8") as f:
        f.write("deadlock:ab_ba.cpp\n")
    p = fsan(args, "report", json_dir, "-o", "", "--suppressions", supp)
    check(p.returncode == 0, "everything suppressed, yet exit %d: %s" % (p.returncode, p.stdout))

    # The gate.
    gate_dir = os.path.join(args.workdir, "gate")
    gate_junit = os.path.join(args.workdir, "gate.xml")
    p = fsan(args, "gate", "--report-dir", gate_dir, "-o", "", "--junit", gate_junit, "--", exes["races/shared_counter.cpp"])
    check(p.returncode == 1, "gate on the race exited %d, expected 1:\n%s%s" % (p.returncode, p.stdout, p.stderr))
    check("1 finding (1 data_race)" in p.stdout, "gate summary: %r" % p.stdout)
    check_junit(gate_junit, {names["races/shared_counter.cpp"]: "data_race"}, [])
    p = fsan(args, "gate", "--report-dir", gate_dir, "-o", "", "--", exes[FIXED])
    check(p.returncode == 0, "gate on the fixed program exited %d (stale reports kept?):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    p = fsan(args, "gate", "--report-dir", gate_dir, "-o", "", "--suppressions", supp, "--", exes["deadlocks/ab_ba.cpp"])
    check(p.returncode == 0, "gate with the deadlock suppressed exited %d:\n%s%s" % (p.returncode, p.stdout, p.stderr))
    p = fsan(args, "gate", "--report-dir", gate_dir, "-o", "", "--", "sh", "-c", "exit 5")
    check(p.returncode == 5, "gate on a command failing without findings exited %d, expected 5" % p.returncode)
    p = fsan(args, "gate", "--report-dir", gate_dir, "-o", "", "--", "sh", "-c", 'echo "$FSAN_OPTIONS"')
    check(p.stdout.startswith("report_dir=" + os.path.abspath(gate_dir) + "\n"), "FSAN_OPTIONS in the command: %r" % p.stdout)
    script = os.path.join(args.source_root, "scripts", "fsan-gate")
    p = run([script, "--report-dir", gate_dir, "-o", "", "--", exes["races/shared_counter.cpp"]],
            env=dict(os.environ, FSAN=args.fsan))
    check(p.returncode == 1 and "1 finding (1 data_race)" in p.stdout,
          "scripts/fsan-gate on the race exited %d: %s%s" % (p.returncode, p.stdout, p.stderr))
    p = fsan(args, "gate", "-o", "", exes[FIXED])
    check(p.returncode == 2 and "fsan gate: " in p.stderr, "gate without -- exited %d: %s" % (p.returncode, p.stderr))
    # A GoogleTest binary: one testcase per FSAN_TEST with findings, named by
    # the test, beside the binary's own (passing: its other tests ran clean).
    gtest_dir = os.path.join(args.workdir, "gtest-json")
    env = dict(os.environ, FSAN_OPTIONS="report_dir=" + gtest_dir)
    p = run([args.gtest_fixture], env=env, cwd=args.workdir)
    check(p.returncode != 0, "fsan_test_fixture passed, yet its FSAN_TESTs fail on purpose")
    gtest_junit = os.path.join(args.workdir, "gtest.xml")
    p = fsan(args, "report", gtest_dir, "-o", "", "--junit", gtest_junit)
    check(p.returncode == 1, "fsan report on fsan_test_fixture exited %d: %s%s" % (p.returncode, p.stdout, p.stderr))
    suite = ET.parse(gtest_junit).getroot().find("testsuite")
    cases = {(c.get("classname"), c.get("name")): c for c in suite.findall("testcase")}
    binary = os.path.basename(args.gtest_fixture)
    for test in ("GlobalDeadlockFails", "SendOnClosedChannelFails", "ExceptionEscapingAFiberFails", "LeakedFiberFails"):
        case = cases.get((binary + ".FixtureFindings", test))
        check(case is not None and case.find("failure") is not None,
              "no failing testcase for FixtureFindings.%s in %s" % (test, sorted(cases)))
    check((binary + ".FixtureClean", "ChannelPipelinePasses") not in cases or
          cases[(binary + ".FixtureClean", "ChannelPipelinePasses")].find("failure") is None,
          "the clean FSAN_TEST fails in JUnit")
    kinds = {c.find("failure").get("type") for c in cases.values() if c.find("failure") is not None}
    check({"global_deadlock", "panic", "fiber_leak"} <= kinds, "failure types %s" % sorted(kinds))

    print("ok: SARIF validates, JUnit fails %s, gate exits 1/0/0/5" % ", ".join(sorted(failing)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print("FAIL: %s" % e)
        sys.exit(1)
