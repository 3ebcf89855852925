# SPDX-License-Identifier: BSD-3-Clause
"""Effect of a change on this noisy machine: two revisions in one run.

Both revisions are built (revbuild.py: git archive, Release, no tests; one
bench driver for both), the generated enterprise/imix/64b captures are made
once, and each (mix, mode) is run alternately old, new, new, old, ... so
load on the shared host hits both alike. Per mix: the CPU-time Mpps of each
(median), the median of the per-pair ratios new/old, and callgrind
instructions per packet collected in gcp_engine_feed_burst() (and
gcp_engine_advance(), the final drain), which repeat exactly. Then the
records check: tests/golden/records_identical.sh of NEW_REV, when it has
one, on both gcprobe builds.

  bench/report/compare.sh OLD_REV NEW_REV [--pairs N] [--no-callgrind] ...
  (a revision may be "." = this checkout with its uncommitted changes)
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
import revbuild  # noqa: E402
import stages  # noqa: E402

MODES = ("flow", "full")
RECORDS_SCRIPT = "tests/golden/records_identical.sh"


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def gen_captures(b, tmp, packets):
    out = {}
    for name, args in report.MIX_SPECS.items():
        out[name] = os.path.join(tmp, name + ".pcap")
        report.run_json([os.path.join(b["build"], "bench", "gcp_gen"), "--out", out[name],
                         "--seed", "42", "--packets", str(packets), *args])
    return out


def pipeline(b, pcap, mode, loops):
    return report.run_json([os.path.join(b["build"], "bench", "gcp_bench_pipeline"), "--read",
                            pcap, "--loops", str(loops), "--mode", mode, "--json"])[0]


def timed(old, new, pcaps, a):
    """ABBA... pairs; returns {(mix, mode): {"old": [...], "new": [...], "ratio": [...]}}."""
    res = {(m, mo): {"old": [], "new": [], "ratio": []} for m in pcaps for mo in MODES}
    for i in range(a.pairs):
        log(f"timed pair {i + 1}/{a.pairs}")
        for (mix, mode), r in res.items():
            order = (("old", old), ("new", new)) if i % 2 == 0 else (("new", new), ("old", old))
            got = {k: pipeline(b, pcaps[mix], mode, a.loops)["mpps_per_core_cpu"] for k, b in order}
            r["old"].append(got["old"])
            r["new"].append(got["new"])
            r["ratio"].append(got["new"] / got["old"])
    return res


def instructions(old, new, pcaps, a, tmp):
    """Callgrind Ir/packet of each side, the two sides run side by side."""
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for mix in pcaps:
            for mode in MODES:
                for side, b in (("old", old), ("new", new)):
                    out = os.path.join(tmp, f"cg.{side}.{mix}.{mode}")
                    jobs[(mix, mode, side)] = ex.submit(
                        stages.callgrind_ir, os.path.join(b["build"], "bench"), pcaps[mix], mode,
                        a.cg_loops, out)
        return {k: f.result() for k, f in jobs.items()}


def records(old, new, root, a):
    script = os.path.join(new["src"], RECORDS_SCRIPT)
    if not a.records:
        return "not run (--no-records)", True
    if not os.path.exists(script):
        return f"skipped ({RECORDS_SCRIPT} is not in {revbuild.label(new)})", True
    corpus = a.corpus or os.path.normpath(os.path.join(root, "..", "shared", "corpus"))
    gc = [os.path.join(b["build"], "probe", "gcprobe") for b in (old, new)]
    log(f"records: {RECORDS_SCRIPT} {gc[0]} {gc[1]} {corpus}")
    p = subprocess.run(["bash", script, *gc, corpus], cwd=new["src"], capture_output=True,
                       text=True)
    tail = (p.stdout + p.stderr).strip().splitlines()[-5:]
    for line in tail:
        log(f"records: {line}")
    if p.returncode == 0:
        return "identical", True
    return f"DIFFER ({RECORDS_SCRIPT} exit {p.returncode})", False


def fmt_list(xs):
    return ", ".join(f"{x:.2f}" for x in xs)


def driver_note(old, new):
    if "own" in (old["driver"], new["driver"]):
        return "each revision's own bench/pipeline/pipeline.c (ratios include bench changes)"
    return "bench/pipeline/pipeline.c of this checkout for both"


def print_table(old, new, t, ir, a):
    print(f"old = {revbuild.label(old)}, new = {revbuild.label(new)}; "
          f"driver: {driver_note(old, new)}")
    cg = f"callgrind --loops {a.cg_loops}" if ir else "no callgrind"
    print(f"gcp_gen --packets {a.packets}; {a.pairs} pairs x --loops {a.loops}, CPU time; {cg}")
    print()
    print("| mix | mode | old Mpps/core | new Mpps/core | new/old (median of pairs) | pair ratios "
          "| old Ir/pkt | new Ir/pkt | Ir new/old |")
    print("|---|---|---:|---:|---:|---|---:|---:|---:|")
    for (mix, mode), r in t.items():
        io, inew = (ir.get((mix, mode, s)) for s in ("old", "new")) if ir else (None, None)
        cg = f"{io:,.0f} | {inew:,.0f} | {inew / io:.3f}" if io else " | | "
        print(f"| {mix} | {mode} | {statistics.median(r['old']):.3f} | "
              f"{statistics.median(r['new']):.3f} | **{statistics.median(r['ratio']):.3f}** | "
              f"{fmt_list(r['ratio'])} | {cg} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--pairs", type=int, default=5, help="old/new pairs per mix (default 5)")
    ap.add_argument("--loops", type=int, default=8, help="replay loops per timed run (default 8)")
    ap.add_argument("--packets", type=int, default=20000, help="gcp_gen --packets (default 20000)")
    ap.add_argument("--cg-loops", type=int, default=2, help="replay loops under callgrind")
    ap.add_argument("--no-callgrind", dest="callgrind", action="store_false")
    ap.add_argument("--no-records", dest="records", action="store_false")
    ap.add_argument("--corpus", help="records check corpus (default ../shared/corpus)")
    ap.add_argument("--own-driver", action="store_true",
                    help="each revision's own bench/pipeline/pipeline.c")
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    old = revbuild.build(a.root, a.old, a.own_driver)
    new = revbuild.build(a.root, a.new, a.own_driver)
    if old["sha"] == new["sha"] and old["sha"] != ".":
        log("same commit on both sides: one build, run as old and as new (an A/A test)")
    with tempfile.TemporaryDirectory(prefix="gcp-compare-") as tmp:
        pcaps = gen_captures(new, tmp, a.packets)
        t = timed(old, new, pcaps, a)
        ir = None
        if a.callgrind:
            log("callgrind")
            ir = instructions(old, new, pcaps, a, tmp)
    rec, rec_ok = records(old, new, a.root, a)
    print_table(old, new, t, ir, a)
    print()
    print(f"records: {rec}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"old": old, "new": new, "records": rec,
                       "timed": {f"{m} {mo}": r for (m, mo), r in t.items()},
                       "ir_per_pkt": {" ".join(k): v for k, v in (ir or {}).items()}}, fh, indent=1)
    sys.exit(0 if rec_ok else 1)


if __name__ == "__main__":
    main()
