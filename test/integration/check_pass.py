#!/usr/bin/env python3
"""check_pass: compiles pass/sample.cpp and pass/sample.c with
`-fsanitize=fiber -S -emit-llvm -mllvm -fsan-stats` at -O0, -O1, -O2, -O3,
with and without -g, and checks the IR: every kind of hook is emitted, with
the right memory orders; FSAN_NO_SANITIZE and namespace-fsan code get none;
the module constructor calls __fsan_init; the skip counters are printed.
Prints one line per configuration; exit status 1 on any failure."""
import argparse
import os
import re
import subprocess
import sys

LEVELS = ["-O0", "-O1", "-O2", "-O3"]


def functions(ir):
    """name -> body text of every defined function."""
    out = {}
    for m in re.finditer(r"^define [^@]*@\"?([^\"( ]+)\"?\(.*?^}", ir, re.S | re.M):
        out[m.group(1)] = m.group(0)
    return out


def calls(body, hook):
    return len(re.findall(r"call [^@]*@%s\(" % re.escape(hook), body))


def stats(stderr):
    """description -> count, from the -fsan-stats table."""
    out = {}
    for line in stderr.splitlines():
        m = re.match(r"\s+(\d+)\s+(.*)$", line)
        if m:
            out[m.group(2)] = int(m.group(1))
    return out


def stat(table, prefix):
    for desc, n in table.items():
        if desc.startswith(prefix):
            return n
    raise KeyError(prefix)


class Checker:
    def __init__(self, label):
        self.label = label
        self.problems = []

    def expect(self, cond, what):
        if not cond:
            self.problems.append(what)


def check_common(c, ir, fns, st):
    c.expect("@fsan.module_ctor" in ir and re.search(r"@llvm.global_ctors = .*@fsan.module_ctor", ir),
             "fsan.module_ctor missing from llvm.global_ctors")
    c.expect("call void @__fsan_init()" in ir, "module constructor does not call __fsan_init")
    entries = len(re.findall(r"call void @__fsan_func_entry\(", ir))
    exits = len(re.findall(r"call void @__fsan_func_exit\(", ir))
    c.expect(entries > 0 and exits >= entries, "func_entry %d / func_exit %d" % (entries, exits))
    c.expect(stat(st, "functions marked FSAN_NO_SANITIZE") == 1, "FSAN_NO_SANITIZE counter is not 1")


def check_cxx(c, level, ir, fns, st):
    check_common(c, ir, fns, st)
    p = fns.get("plain_accesses", "")
    for hook in ["__fsan_read1", "__fsan_read2", "__fsan_read8", "__fsan_write4", "__fsan_write16",
                 "__fsan_write_range", "__fsan_unaligned_write4"]:
        c.expect(calls(p, hook) >= 1, "plain_accesses: no %s" % hook)
    a = fns.get("atomics", "")
    for hook, order in [("__fsan_atomic8_load", 2), ("__fsan_atomic16_store", 3), ("__fsan_atomic32_fetch_add", 4),
                        ("__fsan_atomic32_exchange", 0), ("__fsan_atomic_thread_fence", 5),
                        ("__fsan_atomic_signal_fence", 5)]:
        c.expect(re.search(r"call [^@]*@%s\(.*i32 %d\)" % (hook, order), a),
                 "atomics: no %s with order %d" % (hook, order))
    c.expect(re.search(r"call [^@]*@__fsan_atomic64_compare_exchange_val\(.*i32 5, i32 2\)", a),
             "atomics: no __fsan_atomic64_compare_exchange_val(seq_cst, acquire)")
    c.expect(not re.search(r"\b(load atomic|store atomic|atomicrmw|cmpxchg|fence)\b", a),
             "atomics: an atomic instruction was left in place")
    m = fns.get("memops", "")
    for hook in ["__fsan_memcpy", "__fsan_memmove", "__fsan_memset"]:
        c.expect(calls(m, hook) == 1, "memops: %s not called once" % hook)
    c.expect("@llvm.mem" not in m, "memops: a memory intrinsic was left in place")
    lo = fns.get("local_only", "")
    c.expect(not re.search(r"@__fsan_(read|write|unaligned)", lo), "local_only: a non-escaping local was instrumented")
    el = fns.get("escaping_local", "")
    if level != "-O0":
        c.expect(re.search(r"@__fsan_read4\(", el), "escaping_local: the escaped local's read is not instrumented")
    q = fns.get("quiet_fn", "")
    c.expect(q and "@__fsan_" not in q, "quiet_fn (FSAN_NO_SANITIZE) was instrumented")
    rt = fns.get("_ZN4fsan6sample12runtime_likeEPi", "")
    c.expect(rt and "@__fsan_" not in rt, "fsan::sample::runtime_like was instrumented")
    c.expect(calls(fns.get("uses_runtime_inline", ""), "__fsan_atomic32_fetch_add") == 0,
             "uses_runtime_inline: the runtime's inlined atomic was instrumented")
    c.expect("__fsan_atomic32_fetch_add" in ir and re.search(
        r"call [^@]*@__fsan_atomic32_fetch_add\(", fns.get("user_fetch_add", "") + "".join(
            body for name, body in fns.items() if name.startswith("_ZNSt") and not name.endswith(".fsan_rt"))),
        "user_fetch_add: the user's own std::atomic call was not instrumented")
    c.expect(re.search(r"@__fsan_write4\(.*@g_lambda_target", ir),
             "user lambda inlined through a runtime template was not instrumented")
    mt = fns.get("may_throw_caller", "")
    c.expect("landingpad" in mt and re.search(r"landingpad.*call void @__fsan_func_exit\(\).*resume", mt, re.S),
             "may_throw_caller: no __fsan_func_exit on the exceptional path")
    if level != "-O0":
        c.expect(stat(st, "vtable pointer loads") >= 1, "no vtable load skipped")
    c.expect(stat(st, "accesses to non-escaping allocas") >= 1, "no non-escaping alloca skipped")
    c.expect(stat(st, "reads of constant globals") >= 1, "no constant-global read skipped")
    # Every skip reason a source file can trigger portably is counted.
    c.expect(stat(st, "functions with disable_sanitizer_instrumentation") >= 1, "attr_quiet_fn not counted")
    aq = fns.get("attr_quiet_fn", "")
    c.expect(aq and "@__fsan_" not in aq, "attr_quiet_fn (disable_sanitizer_instrumentation) was instrumented")
    c.expect(stat(st, "reads followed by a write") >= 1, "read_then_write: covered read not counted")
    c.expect(not re.search(r"@__fsan_read8\(", fns.get("read_then_write", "")),
             "read_then_write: the covered read of g8 was instrumented")
    c.expect(stat(st, "functions without calls or instrumented accesses") >= 1, "leaf_pure not counted")
    c.expect("@__fsan_" not in fns.get("leaf_pure", "@__fsan_"), "leaf_pure got hooks")
    c.expect(stat(st, "memory intrinsics touching only non-escaping") >= 1, "local_memset not counted")
    c.expect(stat(st, "accesses outside address space 0") >= 1, "other_address_space not counted")
    c.expect(not re.search(r"@__fsan_(read|write)", fns.get("other_address_space", "")),
             "other_address_space: an addrspace(256) access was instrumented")
    c.expect(stat(st, "functions of namespace fsan") >= 1, "fsan::sample functions not counted")
    stat(st, "memory intrinsics of a kind with no hook")  # printed (KeyError otherwise)


def check_c(c, level, ir, fns, st):
    check_common(c, ir, fns, st)
    c.expect(calls(fns.get("c_plain", ""), "__fsan_read8") == 1, "c_plain: no __fsan_read8")
    c.expect(calls(fns.get("c_plain", ""), "__fsan_write4") >= 1, "c_plain: no __fsan_write4")
    a = fns.get("c_atomics", "")
    c.expect(re.search(r"@__fsan_atomic32_fetch_add\(.*i32 4\)", a), "c_atomics: no fetch_add(acq_rel)")
    c.expect(re.search(r"@__fsan_atomic32_load\(.*i32 2\)", a), "c_atomics: no load(acquire)")
    c.expect(re.search(r"@__fsan_atomic_thread_fence\(i32 5\)", a), "c_atomics: no thread fence(seq_cst)")
    m = fns.get("c_memops", "")
    c.expect(calls(m, "__fsan_memcpy") == 1 and calls(m, "__fsan_memset") == 1, "c_memops: mem hooks missing")
    q = fns.get("c_quiet_fn", "")
    c.expect(q and "@__fsan_" not in q, "c_quiet_fn (FSAN_NO_SANITIZE) was instrumented")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--opt", help="LLVM 14 opt, to run the IR verifier on every output")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    failed = False
    for src, driver, check in [("sample.cpp", args.cxx, check_cxx), ("sample.c", args.cc, check_c)]:
        for level in LEVELS:
            for debug in ([], ["-g"]):
                label = "%s %s%s" % (src, level, " -g" if debug else "")
                out = os.path.join(args.workdir, "%s%s%s.ll" % (src, level, "-g" if debug else ""))
                cmd = [driver, "-fsanitize=fiber", level] + debug + [
                    "-S", "-emit-llvm", "-mllvm", "-fsan-stats", os.path.join(args.srcdir, src), "-o", out]
                r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                if r.returncode != 0:
                    print("FAIL: %s: does not compile:\n%s" % (label, r.stderr))
                    failed = True
                    continue
                with open(out, encoding="utf-8") as f:
                    ir = f.read()
                fns = functions(ir)
                st = stats(r.stderr)
                c = Checker(label)
                if args.opt:
                    v = subprocess.run([args.opt, "-passes=verify", "-disable-output", out],
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                    c.expect(v.returncode == 0, "IR verifier: " + v.stdout.strip()[:500])
                try:
                    check(c, level, ir, fns, st)
                except KeyError as e:
                    c.problems.append("counter %s not printed by -fsan-stats" % e)
                n_calls = len(re.findall(r"call [^@]*@__fsan_", ir))
                if c.problems:
                    failed = True
                    print("FAIL: %s: %s" % (label, "; ".join(c.problems)))
                else:
                    print("ok   %-18s %4d __fsan_ calls, %2d skip counters non-zero" % (
                        label, n_calls, sum(1 for d, n in st.items() if n and not d.startswith(
                            ("aligned", "unaligned", "accesses of other", "atomic load", "fences", "memcpy",
                             "functions given")))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
