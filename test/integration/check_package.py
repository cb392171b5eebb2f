#!/usr/bin/env python3
"""check_package: fibersan from another CMake project.
  1. drop-in: CXX=<build>/bin/fsan-clang++ on a project that knows nothing of
     fibersan (the driver adds the include dir and libfsan); then the same
     project with CMAKE_CXX_FLAGS=-fsanitize=fiber.
  2. package: clang++-14 with find_package(fibersan) (-Dfibersan_DIR=<build>),
     fsan::fsan and fsan_sanitize(target), target_link_libraries in both
     signatures.
Plain programs are run; instrumented ones are checked for the pass's work
(__fsan_init linked, hooks called). Exit status 1 on any failure."""
import argparse
import os
import shutil
import subprocess
import sys

APP = r"""
#include <cstdio>
#include <fsan/fsan.hpp>
int shared_value;
int main() {
  return fsan::run([] {
    auto ch = fsan::make_chan<int>();
    fsan::go([ch] { shared_value = 41; ch.send(shared_value); });
    std::printf("package-ok %d\n", ch.recv().value_or(0) + 1);
  });
}
"""
DROP_IN = """cmake_minimum_required(VERSION 3.25)
project(dropin CXX)
set(CMAKE_CXX_STANDARD 20)
add_executable(app app.cpp)
"""
PACKAGE = """cmake_minimum_required(VERSION 3.25)
project(pkg CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(fibersan REQUIRED)
add_executable(app_plain app.cpp)
target_link_libraries(app_plain PRIVATE fsan::fsan)
add_executable(app_fiber app.cpp)
target_link_libraries(app_fiber fsan::fsan)  # the plain signature must stay usable
fsan_sanitize(app_fiber)
add_library(lib_fiber STATIC lib.cpp)
fsan_sanitize(lib_fiber)
add_executable(app_lib app_lib.cpp)
target_link_libraries(app_lib PRIVATE lib_fiber)
"""
LIB = "int lib_counter; int lib_bump() { return ++lib_counter; }\n"
APP_LIB = "int lib_bump(); int main() { return lib_bump() == 1 ? 0 : 1; }\n"


class Checks:
    failed = False

    def check(self, name, ok, detail=""):
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, "" if ok else ": " + detail.strip()[-3000:]))
        self.failed |= not ok


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def symbols(path):
    r = run(["nm", path])
    return r.stdout if r.returncode == 0 else ""


def configure_build(t, name, src, bld, cmake, generator, defs, env=None):
    shutil.rmtree(bld, ignore_errors=True)
    r = run([cmake, "-S", src, "-B", bld, "-G", generator] + ["-D" + d for d in defs], env=env)
    if r.returncode != 0:
        t.check(name + ": configure", False, r.stdout)
        return False
    r = run([cmake, "--build", bld])
    t.check(name + ": configure and build", r.returncode == 0, r.stdout)
    return r.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", required=True, help="the fibersan build tree")
    ap.add_argument("--cmake", required=True)
    ap.add_argument("--generator", default="Ninja")
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    t = Checks()
    build = os.path.abspath(args.build_dir)
    src = os.path.join(args.workdir, "src")
    os.makedirs(src, exist_ok=True)
    files = {"app.cpp": APP, "lib.cpp": LIB, "app_lib.cpp": APP_LIB}
    for name, text in files.items():
        with open(os.path.join(src, name), "w") as f:
            f.write(text)

    # 1. Drop-in driver.
    dropin = os.path.join(args.workdir, "dropin")
    os.makedirs(dropin, exist_ok=True)
    with open(os.path.join(dropin, "CMakeLists.txt"), "w") as f:
        f.write(DROP_IN)
    shutil.copy(os.path.join(src, "app.cpp"), dropin)
    env = dict(os.environ, CXX=os.path.join(build, "bin", "fsan-clang++"))
    bld = os.path.join(args.workdir, "build-dropin")
    if configure_build(t, "CXX=fsan-clang++ cmake (plain)", dropin, bld, args.cmake, args.generator, [], env):
        r = run([os.path.join(bld, "app")], timeout=60)
        t.check("drop-in plain program runs", r.returncode == 0 and "package-ok 42" in r.stdout, r.stdout)
    bld = os.path.join(args.workdir, "build-dropin-fiber")
    if configure_build(t, "CXX=fsan-clang++ cmake, CMAKE_CXX_FLAGS=-fsanitize=fiber", dropin, bld, args.cmake,
                       args.generator, ["CMAKE_CXX_FLAGS=-fsanitize=fiber"], env):
        syms = symbols(os.path.join(bld, "app"))
        t.check("drop-in instrumented program has __fsan_init and the hooks",
                " T __fsan_init" in syms and "__fsan_func_entry" in syms, syms[-500:])

    # 2. The package against the build tree.
    pkg = os.path.join(args.workdir, "package")
    os.makedirs(pkg, exist_ok=True)
    with open(os.path.join(pkg, "CMakeLists.txt"), "w") as f:
        f.write(PACKAGE)
    for name in files:
        shutil.copy(os.path.join(src, name), pkg)
    bld = os.path.join(args.workdir, "build-package")
    clangxx = shutil.which("clang++-14") or "clang++-14"
    if configure_build(t, "find_package(fibersan) with -Dfibersan_DIR=<build>", pkg, bld, args.cmake, args.generator,
                       ["fibersan_DIR=" + build, "CMAKE_CXX_COMPILER=" + clangxx]):
        r = run([os.path.join(bld, "app_plain")], timeout=60)
        t.check("fsan::fsan program runs", r.returncode == 0 and "package-ok 42" in r.stdout, r.stdout)
        syms = symbols(os.path.join(bld, "app_fiber"))
        t.check("fsan_sanitize(app_fiber): instrumented, __fsan_init linked",
                " T __fsan_init" in syms and "__fsan_write4" in syms, syms[-500:])
        t.check("fsan_sanitize(app_plain) not applied to app_plain",
                "__fsan_write4" not in symbols(os.path.join(bld, "app_plain")))
        t.check("fsan_sanitize(static library) links libfsan into its users",
                " T __fsan_init" in symbols(os.path.join(bld, "app_lib")))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
