#!/usr/bin/env python3
"""check_driver: the fsan-clang / fsan-clang++ drivers. Checks the flags each
kind of invocation gets (FSAN_DRIVER_VERBOSE=1 prints the final command),
the one-line error for incompatible sanitizers, and that plain and
instrumented programs, C and C++, compile and link (a plain one also runs).
Prints one line per check; exit status 1 on any failure."""
import argparse
import os
import shlex
import subprocess
import sys

CXX_PROGRAM = r"""
#include <cstdio>
#include <fsan/fsan.hpp>
int main() {
  return fsan::run([] {
    auto ch = fsan::make_chan<int>();
    fsan::go([ch] { ch.send(41); });
    std::printf("driver-ok %d\n", ch.recv().value_or(0) + 1);
  });
}
"""
C_PROGRAM = r"""
#include <stdio.h>
int counter;
int main(void) { counter++; printf("c-ok %d\n", counter); return 0; }
"""


class Run:
    def __init__(self, workdir):
        self.workdir = workdir
        self.failed = False

    def check(self, name, ok, detail=""):
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, "" if ok else ": " + detail))
        self.failed |= not ok

    def driver(self, driver, args, verbose=True):
        env = dict(os.environ)
        if verbose:
            env["FSAN_DRIVER_VERBOSE"] = "1"
        r = subprocess.run([driver] + args, cwd=self.workdir, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        cmd = []
        for line in r.stderr.splitlines():
            if line.startswith(os.path.basename(driver) + ": ") and not line.startswith(
                    os.path.basename(driver) + ": error"):
                cmd = shlex.split(line.split(": ", 1)[1])
        return r, cmd


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--libfsan", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    args.cc, args.cxx = os.path.abspath(args.cc), os.path.abspath(args.cxx)
    os.makedirs(args.workdir, exist_ok=True)
    t = Run(args.workdir)
    with open(os.path.join(args.workdir, "prog.cpp"), "w") as f:
        f.write(CXX_PROGRAM)
    with open(os.path.join(args.workdir, "prog.c"), "w") as f:
        f.write(C_PROGRAM)
    lib = os.path.realpath(args.libfsan)
    has_lib = lambda cmd: any(os.path.realpath(a) == lib for a in cmd if a.endswith(".a"))
    has_plugin = lambda cmd: any(a.startswith("-fpass-plugin=") for a in cmd)

    r, _ = t.driver(args.cxx, ["--version"], verbose=False)
    t.check("--version passes through", r.returncode == 0 and "clang version 14" in r.stdout, r.stderr)

    for combo in (["-fsanitize=fiber,address"], ["-fsanitize=thread", "-fsanitize=fiber"],
                  ["-fsanitize=fiber", "-fsanitize=memory"]):
        r, _ = t.driver(args.cxx, combo + ["-c", "prog.cpp", "-o", "x.o"])
        lines = r.stderr.strip().splitlines()
        t.check("%s is a one-line error" % " ".join(combo),
                r.returncode != 0 and len(lines) == 1 and "cannot be combined" in lines[0], r.stderr)
    r, _ = t.driver(args.cxx, ["-fsanitize=address", "-fno-sanitize=address", "-fsanitize=fiber", "-c",
                               "prog.cpp", "-o", "x.o"])
    t.check("-fno-sanitize=address lifts the conflict", r.returncode == 0, r.stderr)

    r, cmd = t.driver(args.cxx, ["-fsanitize=fiber", "-g", "-O1", "-c", "prog.cpp", "-o", "prog.o"])
    t.check("-fsanitize=fiber -c: plugin, frame pointers, FSAN_SANITIZE, no link flags",
            r.returncode == 0 and has_plugin(cmd) and "-fno-omit-frame-pointer" in cmd
            and "-DFSAN_SANITIZE=1" in cmd and "-fsanitize=fiber" not in cmd and not has_lib(cmd),
            r.stderr + " ".join(cmd))
    r, cmd = t.driver(args.cxx, ["prog.o", "-o", "prog_inst"])
    t.check("linking instrumented objects (no -fsanitize at link) pulls libfsan last",
            r.returncode == 0 and has_lib(cmd) and cmd[-3:] == [cmd[-3], "-lpthread", "-ldl"] and has_lib(cmd[-3:]),
            r.stderr + " ".join(cmd))
    r, cmd = t.driver(args.cxx, ["-fsanitize=fiber", "-E", "prog.cpp", "-o", "prog.ii"])
    t.check("-E: include dir and FSAN_SANITIZE, no plugin, no link flags",
            r.returncode == 0 and "-DFSAN_SANITIZE=1" in cmd and not has_plugin(cmd) and not has_lib(cmd)
            and any(a.startswith("-I") and a.endswith("/include") for a in cmd), r.stderr)
    for flag in ("-S", "-fsyntax-only", "-M"):
        r, cmd = t.driver(args.cxx, ["-fsanitize=fiber", flag, "prog.cpp"] + (["-o", "prog.s"] if flag == "-S" else []))
        t.check("%s: no link flags" % flag, r.returncode == 0 and not has_lib(cmd), r.stderr)
    r, cmd = t.driver(args.cxx, ["-fsanitize=fiber,undefined", "-c", "prog.cpp", "-o", "ub.o"])
    t.check("other -fsanitize values pass through", r.returncode == 0 and "-fsanitize=undefined" in cmd,
            r.stderr + " ".join(cmd))
    r, cmd = t.driver(args.cxx, ["-std=c++20", "-Wall", "-Werror", "-c", "prog.cpp", "-o", "plain.o"])
    t.check("plain -c: include dir, no plugin, user flags unchanged, no -std added",
            r.returncode == 0 and not has_plugin(cmd) and cmd.count("-std=c++20") == 1
            and "-Werror" in cmd and not has_lib(cmd), r.stderr + " ".join(cmd))
    r, cmd = t.driver(args.cxx, ["-fPIC", "-shared", "prog.c", "-o", "libx.so"])
    t.check("-shared: no libfsan", r.returncode == 0 and not has_lib(cmd), r.stderr + " ".join(cmd))

    r, cmd = t.driver(args.cxx, ["-g", "-O2", "prog.cpp", "-o", "prog_plain"])
    ran = subprocess.run([os.path.join(args.workdir, "prog_plain")], stdout=subprocess.PIPE, text=True, timeout=60) \
        if r.returncode == 0 else None
    t.check("plain C++ program builds (C++20 by default) and runs",
            ran is not None and ran.returncode == 0 and "driver-ok 42" in ran.stdout, r.stderr)
    r, _ = t.driver(args.cxx, ["-fsanitize=fiber", "-g", "-O1", "prog.cpp", "-o", "prog_fiber"])
    t.check("instrumented C++ program builds", r.returncode == 0, r.stderr)

    r, cmd = t.driver(args.cc, ["-O2", "prog.c", "-o", "prog_c"])
    ran = subprocess.run([os.path.join(args.workdir, "prog_c")], stdout=subprocess.PIPE, text=True, timeout=60) \
        if r.returncode == 0 else None
    t.check("plain C program builds and runs", ran is not None and ran.returncode == 0 and "c-ok 1" in ran.stdout,
            r.stderr)
    for level in ("-O0", "-O2"):
        r, cmd = t.driver(args.cc, ["-fsanitize=fiber", level, "prog.c", "-o", "prog_c_fiber"])
        t.check("instrumented C program builds at %s (libfsan + libstdc++)" % level,
                r.returncode == 0 and "-lstdc++" in cmd, r.stderr)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
