#!/usr/bin/env python3
"""check_hooks: every runtime hook FsanPass can emit (it lists them with
-mllvm -fsan-print-hooks, built from its size tables) is defined in libfsan.a
(the ABI of runtime/race/race_abi.h). Exit status 1 names the missing ones."""
import argparse
import os
import re
import shutil
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--libfsan", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    src = os.path.join(args.workdir, "empty.cpp")
    with open(src, "w") as f:
        f.write("int fsan_hooks_probe;\n")
    r = subprocess.run([args.cxx, "-fsanitize=fiber", "-c", src, "-o", os.path.join(args.workdir, "empty.o"),
                        "-mllvm", "-fsan-print-hooks"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        print("FAIL: cannot list the pass's hooks: " + (r.stderr.strip().splitlines() or ["?"])[0])
        return 1
    hooks = sorted(set(l.strip() for l in r.stdout.splitlines() if l.strip().startswith("__fsan_")))
    if not hooks:
        print("FAIL: -fsan-print-hooks printed nothing")
        return 1
    nm = shutil.which("nm") or shutil.which("llvm-nm-14") or shutil.which("llvm-nm")
    if not nm:
        print("FAIL: no nm (binutils) to read libfsan.a")
        return 1
    n = subprocess.run([nm, "--defined-only", "-g", args.libfsan], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if n.returncode != 0:
        print("FAIL: nm %s: %s" % (args.libfsan, n.stderr.strip()))
        return 1
    defined = set()
    for line in n.stdout.splitlines():
        m = re.match(r"^[0-9a-fA-F]+\s+[TtWw]\s+(\S+)$", line.strip())
        if m:
            defined.add(m.group(1))
    missing = [h for h in hooks if h not in defined]
    if missing:
        print("FAIL: %d of %d hooks the pass emits are not defined in libfsan.a: %s" % (
            len(missing), len(hooks), " ".join(missing)))
        return 1
    print("PASS: all %d hooks the pass can emit are defined in %s" % (len(hooks), os.path.basename(args.libfsan)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
