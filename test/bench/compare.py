#!/usr/bin/env python3
"""Prints the fibersan / Go / Boost.Fiber comparison table from the results
directory scripts/bench fills:
  fsan_<BM>.json        Google Benchmark JSON of runtime_bench, one per workload
  nochecks_<BM>.json    the same on the runtime without its always-on checks
  sanitized_<BM>.json   the same built with fsan-clang++ -fsanitize=fiber
  go.jsonl              JSON lines of test/bench/go (fsanbench)
  boost.jsonl           JSON lines of boost_fiber_bench
  *_rss.jsonl           skynet run once in a fresh process (fsan, go, boost)
  switch.json           Google Benchmark JSON of switch_bench
  <key>.why             one line: why that result is missing ("n/a" reason)
Usage: compare.py RESULTS_DIR
"""
import json
import os
import sys

WORKLOADS = [
    # label, runtime_bench name, go/boost name
    ("spawn+join one fiber", "BM_SpawnJoin", "spawn_join"),
    ("unbuffered ping-pong round trip", "BM_PingPong", "pingpong_unbuffered"),
    ("buffered chan cap 128, per elem", "BM_ChanBuffered128", "chan_buffered_128"),
    ("select 2 ready chans (+refill)", "BM_SelectTwoReady", "select_two_ready"),
    ("skynet 1M leaves, whole run", "BM_Skynet", "skynet_1M"),
    ("context cancel tree, 10k ctxs", "BM_ContextCancelTree10k", "context_cancel_tree_10k"),
    ("1 ms Ticker + 1k fibers x 10 sleeps", "BM_Ticker1msSleepers1k", "ticker_1ms_1k_sleepers"),
    ("Mutex, 2 fibers contend, per lock+unlock", "BM_MutexContended2", "mutex_contended_2"),
    ("Mutex, 4 fibers contend, per lock+unlock", "BM_MutexContended4", "mutex_contended_4"),
    ("RWMutex 95% reads, 4 fibers, per op", "BM_RWMutexReadMostly4", "rwmutex_read_mostly_4"),
    ("WaitGroup fan-out 1k fibers, per fan-out", "BM_WaitGroupFanOut1k", "waitgroup_fanout_1k"),
]
# Workloads Boost.Fiber has no counterpart for (no context, no ticker).
NO_BOOST = {"context_cancel_tree_10k": "no context/cancellation tree",
            "ticker_1ms_1k_sleepers": "no ticker"}
# Workloads Boost.Fiber runs with a stand-in for a primitive it lacks.
BOOST_STANDIN = {"rwmutex_read_mostly_4": "no RWMutex, reads take fibers::mutex too",
                 "waitgroup_fanout_1k": "no WaitGroup, counter + fibers::mutex + condition_variable"}
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def why(d, key):
    p = os.path.join(d, key + ".why")
    if os.path.exists(p):
        with open(p) as f:
            lines = f.read().strip().splitlines()
        return lines[0] if lines else "unknown reason"
    return None


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_jsonl(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    out[rec.get("name")] = rec
    except OSError:
        pass
    return out


def gbench_ns(doc, prefix):
    """ns per iteration (real time) of the benchmark whose run_name starts with
    prefix: the median aggregate when repetitions were run, else the run.
    Returns (ns, error-string)."""
    if not doc:
        return None, None
    best = None
    for b in doc.get("benchmarks", []):
        name = b.get("run_name", b.get("name", ""))
        if not name.startswith(prefix):
            continue
        if b.get("error_occurred"):
            return None, b.get("error_message", "error")
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") != "median":
                continue
            best = b
        elif best is None:
            best = b
    if best is None:
        return None, None
    return best["real_time"] * UNIT_NS.get(best.get("time_unit", "ns"), 1.0), None


def fmt_time(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e9:
        return "%.2f s" % (ns / 1e9)
    if ns >= 1e6:
        return "%.1f ms" % (ns / 1e6)
    if ns >= 1e4:
        return "%.1f us" % (ns / 1e3)
    return "%.1f ns" % ns


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return "%.2fx" % (a / b)


def fmt_kb(kb):
    if kb is None:
        return "n/a"
    return "%.1f MiB" % (kb / 1024.0)


def table(rows, header):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(r)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    print(line(header))
    print(sep)
    for r in rows:
        print(line(r))


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    go = load_jsonl(os.path.join(d, "go.jsonl"))
    bf = load_jsonl(os.path.join(d, "boost.jsonl"))
    notes = []
    go_why = why(d, "go")
    bf_why = why(d, "boost")

    rows = []
    for label, bm, other in WORKLOADS:
        doc = load_json(os.path.join(d, "fsan_%s.json" % bm))
        f_ns, err = gbench_ns(doc, bm + "/")
        f_cell = fmt_time(f_ns)
        if f_ns is None:
            reason = err or why(d, "fsan_" + bm) or "no result"
            f_cell = "FAIL"
            notes.append("fibersan %s: %s" % (bm, reason))
        g_ns = go.get(other, {}).get("ns_per_op")
        b_ns = bf.get(other, {}).get("ns_per_op")
        if other in NO_BOOST:
            notes.append("Boost.Fiber n/a for %s: %s" % (label, NO_BOOST[other]))
        if other in BOOST_STANDIN and b_ns is not None:
            notes.append("Boost.Fiber %s: %s" % (label, BOOST_STANDIN[other]))
        rows.append([label, f_cell, fmt_time(g_ns), fmt_ratio(f_ns, g_ns), fmt_time(b_ns), fmt_ratio(f_ns, b_ns)])
    table(rows, ["workload", "fibersan", "Go", "fsan/Go", "Boost.Fiber", "fsan/Boost"])
    if go_why:
        notes.append("Go n/a: " + go_why)
    if bf_why:
        notes.append("Boost.Fiber n/a: " + bf_why)
    sched = next((r.get("scheduler") for r in bf.values() if r.get("scheduler")), None)
    if sched:
        notes.append("Boost.Fiber scheduler: %s; select is emulated (try_pop, random order), "
                     "buffered_channel(128) holds 127" % sched)
    brss = load_jsonl(os.path.join(d, "boost_rss.jsonl")).get("skynet_1M")
    if brss and brss.get("skynet_stack"):
        notes.append("Boost.Fiber skynet: fixedsize_stack of %d KiB per fiber, launch::post"
                     % (brss["skynet_stack"] // 1024))

    # What the checks cost: the plain build's always-on checks (on/off, same
    # run) and the -fsanitize=fiber build's bookkeeping (sanitized/plain).
    print()
    rows = []
    for label, bm, _ in WORKLOADS:
        on, _e = gbench_ns(load_json(os.path.join(d, "fsan_%s.json" % bm)), bm + "/")
        off, _e = gbench_ns(load_json(os.path.join(d, "nochecks_%s.json" % bm)), bm + "/")
        san, _e = gbench_ns(load_json(os.path.join(d, "sanitized_%s.json" % bm)), bm + "/")
        verdict = "n/a" if on is None or off is None else ("yes" if on <= off * 1.03 else "NO")
        rows.append([label, fmt_time(on), fmt_time(off), fmt_ratio(on, off), verdict, fmt_time(san), fmt_ratio(san, on)])
    table(rows, ["workload", "checks on", "checks off", "on/off", "<= 1.03x?", "-fsanitize=fiber", "san/plain"])
    for key in ("nochecks", "sanitized"):
        w = why(d, key)
        if w:
            notes.append("%s: %s" % (key, w))

    # Peak RSS of skynet, each in a fresh process.
    print()
    rss = {}
    for key in ("fsan", "go", "boost"):
        rec = load_jsonl(os.path.join(d, key + "_rss.jsonl")).get("skynet_1M")
        rss[key] = (rec or {}).get("peak_rss_kb")
        if rec is None:
            w = why(d, key + "_rss") or (go_why if key == "go" else bf_why if key == "boost" else None) or "no result"
            notes.append("skynet RSS %s n/a: %s" % (key, w))
        elif key == "fsan" and (rec.get("sum_ok") is False or rec.get("run_rc", 0) != 0):
            notes.append("skynet_rss (fsan): sum_ok=%s run_rc=%s" % (rec.get("sum_ok"), rec.get("run_rc")))
    table([["skynet 1M peak RSS", fmt_kb(rss["fsan"]), fmt_kb(rss["go"]), fmt_ratio(rss["fsan"], rss["go"]),
            fmt_kb(rss["boost"]), fmt_ratio(rss["fsan"], rss["boost"])]],
          ["memory (fresh process)", "fibersan", "Go", "fsan/Go", "Boost.Fiber", "fsan/Boost"])

    # Context switch.
    print()
    sw = load_json(os.path.join(d, "switch.json"))
    if sw is None:
        print("context switch: n/a: " + (why(d, "switch") or "no result"))
    else:
        per = {}
        for key in ("fsan", "boost_fcontext", "boost_fiber", "ucontext"):
            ns, err = gbench_ns(sw, "BM_ContextSwitch/" + key)
            per[key] = None if ns is None else ns / 2.0  # an iteration is a round trip = 2 switches
        rows = [
            ["fsan_switch_context", fmt_time(per["fsan"]), "1.00x"],
            ["boost::context jump_fcontext", fmt_time(per["boost_fcontext"]), fmt_ratio(per["fsan"], per["boost_fcontext"])],
            ["boost::context::fiber resume", fmt_time(per["boost_fiber"]), fmt_ratio(per["fsan"], per["boost_fiber"])],
            ["glibc swapcontext", fmt_time(per["ucontext"]), fmt_ratio(per["fsan"], per["ucontext"])],
        ]
        table(rows, ["context switch (one way)", "time/switch", "fsan/this"])

    if notes:
        print()
        for n in notes:
            print("note: " + n)


if __name__ == "__main__":
    main()
