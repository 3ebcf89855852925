# SPDX-License-Identifier: BSD-3-Clause
"""Release builds of git revisions for compare.py and stages.py.

A revision is exported with `git archive` (no worktree is registered in the
repository) into a cache folder keyed by its commit, and built there
(Release + -g, no tests, no BPF). The pipeline bench driver is taken from
the invoking checkout (bench/pipeline/pipeline.c) for every revision, so two
revisions are measured by the same driver and a ratio shows the library's
change, not the bench's; if that driver does not build against a revision,
the revision's own driver is used and this is reported. The revision "."
is the invoking checkout itself, uncommitted changes included."""
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys

DRIVER = "bench/pipeline/pipeline.c"
TARGETS = ("gcp_bench_pipeline", "gcp_gen", "gcprobe")
CMAKE_ARGS = ("-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_C_FLAGS=-g", "-DGCP_BUILD_TESTS=OFF",
              "-DGCP_WITH_BPF=OFF")


def log(msg):
    print(f"[revbuild] {msg}", file=sys.stderr, flush=True)


def cache_dir():
    return os.environ.get("GCP_COMPARE_DIR", "/tmp/gcp-compare")


def resolve(root, rev):
    """Full commit id of rev, or "." for the working tree."""
    if rev == ".":
        return "."
    p = subprocess.run(["git", "-C", root, "rev-parse", "--verify", "--quiet", rev + "^{commit}"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"revbuild: {rev!r} is not a commit of {root}")
    return p.stdout.strip()


def export(root, sha, src):
    """Extract the tree of sha into src once (a marker says it is complete)."""
    mark = os.path.join(src, ".gcp-exported")
    if os.path.exists(mark):
        return
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    arch = subprocess.Popen(["git", "-C", root, "archive", sha], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", src], stdin=arch.stdout, check=True)
    if arch.wait() != 0:
        raise SystemExit(f"revbuild: git archive {sha} failed")
    open(mark, "w").close()


def place_driver(src, text):
    """Write the driver only when it differs (keeps incremental builds)."""
    path = os.path.join(src, DRIVER)
    old = open(path).read() if os.path.exists(path) else None
    if old != text:
        with open(path, "w") as fh:
            fh.write(text)


def cmake_build(src, build, targets):
    if subprocess.run(["cmake", "-S", src, "-B", build, *CMAKE_ARGS], capture_output=True,
                      text=True).returncode != 0:
        return False
    p = subprocess.run(["cmake", "--build", build, "-j2", "--target", *targets],
                       capture_output=True, text=True)
    if p.returncode != 0:
        log("build failed:\n" + (p.stdout + p.stderr)[-3000:])
    return p.returncode == 0


def label(b):
    """'REV (commit)' or 'the working tree' for printing."""
    return "the working tree" if b["sha"] == "." else f"{b['rev']} ({b['sha'][:12]})"


def build(root, rev, own_driver=False, targets=TARGETS):
    """Build rev; returns {rev, sha, src, build, driver} (driver: current|own)."""
    sha = resolve(root, rev)
    if sha == ".":
        key = "worktree-" + hashlib.sha1(os.path.abspath(root).encode()).hexdigest()[:12]
        base = os.path.join(cache_dir(), key)
        os.makedirs(base, exist_ok=True)
        log(f"building the working tree of {root}")
        if not cmake_build(root, os.path.join(base, "build"), targets):
            raise SystemExit("revbuild: the working tree does not build")
        return {"rev": rev, "sha": ".", "src": root, "build": os.path.join(base, "build"),
                "driver": "current"}
    base = os.path.join(cache_dir(), sha)
    os.makedirs(base, exist_ok=True)
    src, bdir = os.path.join(base, "src"), os.path.join(base, "build")
    with open(os.path.join(base, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two compares of one commit share the build
        export(root, sha, src)
        shown = subprocess.run(["git", "-C", root, "show", f"{sha}:{DRIVER}"],
                               capture_output=True, text=True)
        if shown.returncode != 0:
            raise SystemExit(f"revbuild: {rev} has no {DRIVER} (older than the pipeline bench)")
        own, current = shown.stdout, open(os.path.join(root, DRIVER)).read()
        driver = "own" if own_driver or own == current else "current"
        log(f"building {rev} ({sha[:12]}) in {base}")
        place_driver(src, current if driver == "current" else own)
        ok = cmake_build(src, bdir, targets)
        if not ok and driver == "current":
            log(f"the current {DRIVER} does not build against {rev}: using the revision's own "
                "driver (ratios then include bench-driver changes)")
            driver = "own"
            place_driver(src, own)
            ok = cmake_build(src, bdir, targets)
        if not ok:
            raise SystemExit(f"revbuild: {rev} does not build")
    if own == current:
        driver = "same"
    return {"rev": rev, "sha": sha, "src": src, "build": bdir, "driver": driver}
