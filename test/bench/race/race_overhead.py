#!/usr/bin/env python3
"""race_overhead: the race-detector overhead table of scripts/bench --race.

For each workload (kernel, pipeline, hashmap, skynet) it builds
  fsan plain    fsan-clang++ -O2                      workloads_fiber.cpp
  fsan race     fsan-clang++ -O2 -fsanitize=fiber     workloads_fiber.cpp
  thread plain  clang++-14 -O2 -pthread               workloads_thread.cpp
  thread tsan   clang++-14 -O2 -fsanitize=thread      workloads_thread.cpp
runs each (median wall time of --reps runs; peak RSS of the child from
wait4's rusage) and prints slowdown = instrumented/plain time and the memory
ratio = instrumented/plain peak RSS, ours next to ThreadSanitizer's, with
"ours <= TSan?". A run that fails or prints a wrong checksum is FAIL and the
exit status is 1.

  race_overhead.py --driver build/bench/bin/fsan-clang++ --out DIR [--quick] [--reps N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["kernel", "pipeline", "hashmap", "skynet"]


def build(cmd, what):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s does not build: %s" % (what, (r.stdout.strip().splitlines() or ["?"])[-1]))


GNU_TIME = "/usr/bin/time"


def run_once(binary, workload, quick, env, timeout, rss_file):
    """(wall seconds, peak RSS KiB) of one run, or raises RuntimeError.
    Peak RSS comes from /usr/bin/time -f %M: wait4's ru_maxrss of a child
    forked from this Python process would count the fork's copy of Python
    (tens of MiB) before exec, hiding small programs' footprints."""
    args = [binary, workload] + (["--quick"] if quick else [])
    if os.path.exists(GNU_TIME):
        args = [GNU_TIME, "-f", "%M", "-o", rss_file] + args
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid != 0:
            break
        if time.monotonic() > deadline:
            p.kill()
            os.wait4(p.pid, 0)
            raise RuntimeError("hung: killed after %ds" % timeout)
        time.sleep(0.005)
    wall = time.monotonic() - t0
    out = p.stdout.read().decode(errors="replace")
    err = p.stderr.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        last = (err.strip().splitlines() or out.strip().splitlines() or ["?"])[-1][:160]
        raise RuntimeError("exit status %d: %s" % (code, last))
    rss = ru.ru_maxrss
    if os.path.exists(GNU_TIME):
        with open(rss_file) as f:
            rss = int(f.read().strip().splitlines()[-1])
    return wall, rss


def measure(binary, workload, quick, reps, env, timeout):
    rss_file = binary + "." + workload + ".rss"
    runs = [run_once(binary, workload, quick, env, timeout, rss_file) for _ in range(reps)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver", required=True, help="fsan-clang++")
    ap.add_argument("--clang", default="clang++-14")
    ap.add_argument("--out", required=True, help="directory for binaries")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=900)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    fiber_src = os.path.join(HERE, "workloads_fiber.cpp")
    thread_src = os.path.join(HERE, "workloads_thread.cpp")
    common = ["-std=c++20", "-O2", "-g"]
    variants = {
        "fsan_plain": [args.driver] + common + [fiber_src],
        "fsan_race": [args.driver, "-fsanitize=fiber"] + common + [fiber_src],
        "thread_plain": [args.clang] + common + ["-pthread", thread_src],
        "thread_tsan": [args.clang, "-fsanitize=thread"] + common + ["-pthread", thread_src],
    }
    binaries, broken = {}, {}
    for name, cmd in variants.items():
        out = os.path.join(args.out, name)
        print("== build %s" % name, file=sys.stderr)
        try:
            build(cmd + ["-o", out], name)
            binaries[name] = out
        except RuntimeError as e:
            broken[name] = str(e)

    env = dict(os.environ)
    # Findings would change the exit status; the workloads are race-free, so
    # any report is a failure worth seeing. TSan: keep its defaults too.
    env.pop("FSAN_OPTIONS", None)
    env.pop("TSAN_OPTIONS", None)
    rows, failed = [], False
    for w in WORKLOADS:
        res = {}
        for name in variants:
            if name in broken:
                res[name] = broken[name]
                continue
            print("== run %s %s" % (name, w), file=sys.stderr)
            try:
                res[name] = measure(binaries[name], w, args.quick, args.reps, env, args.timeout)
            except RuntimeError as e:
                res[name] = str(e)
        rows.append((w, res))

    def ratio(res, inst, plain):
        a, b = res[inst], res[plain]
        if isinstance(a, str) or isinstance(b, str):
            return None, None
        return a[0] / b[0] if b[0] > 0 else float("inf"), a[1] / b[1] if b[1] > 0 else float("inf")

    print("race detector overhead (%s, median of %d run(s); time = wall, memory = peak RSS):" %
          ("quick" if args.quick else "full", args.reps))
    hdr = "%-9s | %9s %9s %9s %9s | %8s %8s %8s %8s | %s"
    print(hdr % ("workload", "fsan", "fsan+race", "thread", "tsan", "ours x", "tsan x", "ours mem", "tsan mem",
                 "ours <= TSan? (time, mem)"))
    print("-" * 118)
    for w, res in rows:
        def cell(name):
            r = res[name]
            return "FAIL" if isinstance(r, str) else "%.3fs" % r[0]
        ours_t, ours_m = ratio(res, "fsan_race", "fsan_plain")
        tsan_t, tsan_m = ratio(res, "thread_tsan", "thread_plain")
        f = lambda x: "n/a" if x is None else "%.2f" % x
        verdict = "n/a"
        if None not in (ours_t, ours_m, tsan_t, tsan_m):
            verdict = "%s, %s" % ("yes" if ours_t <= tsan_t else "NO", "yes" if ours_m <= tsan_m else "NO")
        print(hdr % (w, cell("fsan_plain"), cell("fsan_race"), cell("thread_plain"), cell("thread_tsan"),
                     f(ours_t), f(tsan_t), f(ours_m), f(tsan_m), verdict))
        for name, r in res.items():
            if isinstance(r, str):
                failed = True
                print("  %s %s: FAIL: %s" % (w, name, r))
    print("peak RSS KiB:", ", ".join("%s %s" % (w, "/".join(
        "-" if isinstance(res[n], str) else str(res[n][1]) for n in variants)) for w, res in rows),
        "(fsan, fsan+race, thread, tsan)")
    print("skynet, std::thread side: the first two levels are threads (111), the rest plain recursion"
          " (TSan allows 8,128 live threads; see workloads_thread.cpp)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
