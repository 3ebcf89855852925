#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The module graph of probe/ (docs/ARCHITECTURE.md, "The gcprobe command").

Every #include "..." in probe/ names a file of its own module, of a module
lower in LAYERS, or of the library (lib/, bpf/, system). A lower module
that includes a higher one, or a file of probe/ that no module claims,
fails the check. Before looking at the tree the script proves on a copy of
it that an upward include is caught.

usage: check_probe_layers.py [SOURCE_DIR]   (default: the checkout above scripts/)
"""
import os
import re
import sys

# Lowest first. A module may include itself and anything listed before it.
# A file path names a file, a folder ("sink/") every file below it.
LAYERS = [
    ("base", ["log.h", "log.c", "ctx.h", "xdp.h", "readfile.h", "readfile.c"]),
    ("sink", ["sink/"]),
    ("rules", ["rules.h", "rules.c"]),
    ("tap", ["tap/"]),
    ("stats", ["stats_rec.h", "stats_rec.c"]),
    ("capture", ["capture/"]),          # the live backends
    ("workers", ["capture/workers.h", "capture/workers.c"]),
    ("options", ["options.h", "options.c"]),
    ("config", ["config.h", "config.c"]),
    ("run", ["run.h", "run.c"]),
    ("main", ["main.c"]),
]
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}
# Where the build looks for quoted includes besides the including file's folder.
SEARCH = ["probe", "probe/capture", "lib/src", "lib/include", "bpf"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(rel):
    """rel: a path below probe/; the module that owns it (longest match), or None."""
    best, best_len = None, -1
    for name, paths in LAYERS:
        for p in paths:
            if (rel == p or (p.endswith("/") and rel.startswith(p))) and len(p) > best_len:
                best, best_len = name, len(p)
    return best


def resolve(includer, name, exists):
    """The repository path an include names, or None (generated, system)."""
    for d in [os.path.dirname(includer)] + SEARCH:
        cand = os.path.normpath(os.path.join(d, name))
        if exists(cand):
            return cand
    return None


def check(files, exists):
    """files: {repo path: text} of probe/; returns the problems, one line each."""
    bad = []
    for path in sorted(files):
        mod = module_of(os.path.relpath(path, "probe"))
        if mod is None:
            bad.append("%s: belongs to no module (add it to LAYERS)" % path)
            continue
        for inc in INCLUDE.findall(files[path]):
            target = resolve(path, inc, exists)
            if not target or not target.startswith("probe/"):
                continue  # the library, the BPF skeleton, the system
            tmod = module_of(os.path.relpath(target, "probe"))
            if tmod is None or RANK[tmod] > RANK[mod]:
                bad.append('%s (%s) includes "%s" (%s): a lower module includes a higher one'
                           % (path, mod, inc, tmod or "no module"))
    return bad


def read_tree(src):
    files = {}
    for root, _, names in os.walk(os.path.join(src, "probe")):
        for n in names:
            if n.endswith((".c", ".h")):
                full = os.path.join(root, n)
                with open(full, encoding="utf-8", errors="replace") as f:
                    files[os.path.relpath(full, src)] = f.read()
    return files


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    files = read_tree(src)

    def exists(p):
        return p in files or os.path.isfile(os.path.join(src, p))

    # The check itself: an upward include planted in a copy must be caught.
    planted = dict(files)
    planted["probe/sink/sink.c"] = '#include "run.h"\n' + files.get("probe/sink/sink.c", "")
    if not any("probe/sink/sink.c" in b and "run.h" in b for b in check(planted, exists)):
        print("check_probe_layers: FAIL: an upward include (sink -> run) went unnoticed")
        return 1
    bad = check(files, exists)
    for b in bad:
        print("check_probe_layers: " + b)
    if bad:
        return 1
    print("check_probe_layers: ok: %d files of probe/ in %d layers, every include points down"
          % (len(files), len(LAYERS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
