# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark report driver (run through report.sh): generate mixes, run the
pipeline, flow-table scale and micro benches, ndpiReader and tshark, write
PERFORMANCE.md + plots; --guard: fail when gcprobe falls below a fraction of
ndpiReader on the same captures (CI)."""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # write_doc is imported: no __pycache__ in the checkout
LINE = {"10G": 10e9, "40G": 40e9}
WIRE_EXTRA = 24  # FCS + preamble/SFD + IFG; pcap lengths exclude the FCS
# Flow-table scale points: 1 Mi and 4 Mi concurrent TCP flows (2^20, 2^22).
FLOWSCALE_N = (1 << 20, 1 << 22)
# CI guard: these (mix, mode) figures of gcprobe must stay above
# GUARD_FLOOR x ndpiReader's on the same capture, measured in the same run.
GUARD_SETS = (("64b", "flow"), ("enterprise", "full"))
GUARD_FLOOR = 0.5
# The generated mixes: name -> gcp_gen arguments (besides --out/--seed/--packets).
_PLAIN = ["--ipv6-share", "0", "--vlan-share", "0", "--vxlan-share", "0"]
MIX_SPECS = {"enterprise": ["--profile", "enterprise", "--flows", "2000"],
             "imix": ["--profile", "imix", "--flows", "2000"],
             "64b": ["--profile", "64b", "--flows", "4000", *_PLAIN]}


def log(msg):
    print(f"[report] {msg}", file=sys.stderr, flush=True)


def median(xs):
    return statistics.median(xs) if xs else None


def run_json(cmd):
    """Run a command that prints JSON lines; return the parsed objects."""
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def child_cpu(cmd, **kw):
    """Run cmd; return (CPU seconds of the child, wall seconds, stdout)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return cpu, wall, p.stdout + p.stderr


class Report:
    def __init__(self, a):
        self.a = a
        self.bin = os.path.join(a.build, "bench")
        self.tmp = tempfile.mkdtemp(prefix="gcp-bench-")
        self.nproc = os.cpu_count() or 1
        q = a.quick
        self.pkts = 20000 if q else 200000
        self.loops = 2 if q else 5
        self.reps = 1 if q else 3
        self.res = {"quick": q, "nproc": self.nproc, "machine": machine(),
                    "mixes": {}, "sizes": [], "workers": [], "micro": [],
                    "ndpi": {}, "tshark": {}, "flowscale": [], "guard": None,
                    "commands": []}

    def cmd(self, c):
        self.res["commands"].append(" ".join(c).replace(self.tmp, "$TMP")
                                    .replace(self.a.root + "/", ""))
        return c

    # ---- generation -----------------------------------------------------
    def gen(self, name, *args, packets=None):
        path = os.path.join(self.tmp, name + ".pcap")
        c = [os.path.join(self.bin, "gcp_gen"), "--out", path, "--seed", "42",
             "--packets", str(packets or self.pkts), *args]
        info = run_json(self.cmd(c))[0]
        info["path"] = path
        return info

    # ---- pipeline ---------------------------------------------------------
    def pipeline(self, path, mode, workers=1, loops=None):
        c = [os.path.join(self.bin, "gcp_bench_pipeline"), "--read", path,
             "--loops", str(loops or self.loops), "--mode", mode,
             "--workers", str(workers), "--json"]
        return run_json(self.cmd(c))[0]

    def median_run(self, path, mode, workers=1, reps=None, loops=None):
        runs = [self.pipeline(path, mode, workers, loops) for _ in range(reps or self.reps)]
        runs.sort(key=lambda r: r["mpps_per_core_cpu"])
        med = dict(runs[len(runs) // 2])
        med["spread_cpu"] = [r["mpps_per_core_cpu"] for r in runs]
        med["spread_wall"] = [r["mpps_per_core"] for r in runs]
        return med

    # ---- peers ------------------------------------------------------------
    def ndpi_sample(self, exe, path, npkts, hi):
        """One CPU-per-pass sample: (CPU of -l hi - CPU of -l 1) / (hi - 1),
        which removes ndpiReader's setup (protocol tables)."""
        c1, w1, out1 = child_cpu(self.cmd([exe, "-i", path, "-l", "1"]))
        c3, _, _ = child_cpu(self.cmd([exe, "-i", path, "-l", str(hi)]))
        per_pass = max((c3 - c1) / (hi - 1), 1e-9)
        return npkts / per_pass / 1e6, per_pass, w1, out1

    def ndpi(self, path, npkts, reps=None, hi=None):
        """ndpiReader's CPU-time rate: median of reps samples; also its own figure."""
        exe = shutil.which("ndpiReader")
        if not exe:
            return None
        hi = hi or (2 if self.a.quick else 3)
        samples = [self.ndpi_sample(exe, path, npkts, hi) for _ in range(reps or self.reps)]
        samples.sort(key=lambda x: x[0])
        mpps, per_pass, w1, out1 = samples[len(samples) // 2]
        m = re.search(r"nDPI throughput:\s+([\d.]+) (K|M)? ?pps", out1)
        own = None
        if m:
            own = float(m.group(1)) * (1e3 if m.group(2) == "K" else 1e6) / 1e6
        return {"mpps_cpu": mpps, "cpu_s_per_pass": per_pass, "spread_cpu": [x[0] for x in samples],
                "own_reported_mpps": own, "wall_l1_s": w1, "version": ndpi_version(out1)}

    def tshark(self, path, npkts):
        """tshark's CPU time for the capture, start-up included: median of reps runs."""
        exe = shutil.which("tshark")
        if not exe:
            return None
        runs = sorted(child_cpu(self.cmd([exe, "-r", path, "-q"]))[:2] for _ in range(self.reps))
        cpu, wall = runs[len(runs) // 2]
        return {"mpps_cpu": npkts / cpu / 1e6, "cpu_s": cpu, "wall_s": wall,
                "spread_cpu_s": [r[0] for r in runs]}

    # ---- flow-table scale ---------------------------------------------------
    def flowscale(self):
        exe = os.path.join(self.bin, "gcp_bench_flowscale")
        if not os.path.exists(exe):
            return
        for n in FLOWSCALE_N[:1] if self.a.quick else FLOWSCALE_N:
            log(f"flowscale {n} flows")
            self.res["flowscale"] += run_json(self.cmd([exe, "--flows", str(n), "--json"]))

    # ---- the run ------------------------------------------------------------
    def mixes(self):
        for name, args in MIX_SPECS.items():
            log(f"mix {name}")
            g = self.gen(name, *args)
            m = {"gen": g, "flow": self.median_run(g["path"], "flow"),
                 "full": self.median_run(g["path"], "full")}
            self.res["mixes"][name] = m
            quick_skip = self.a.quick and name != "enterprise"
            n = None if quick_skip else self.ndpi(g["path"], g["packets"])
            if n:
                self.res["ndpi"][name] = n

    def sizes(self):
        if self.a.quick:
            return
        pts = [("64b", self.res["mixes"]["64b"]["gen"]["path"])]
        for sz in (128, 256, 512, 1024, 1518):
            log(f"size {sz}")
            g = self.gen(f"size{sz}", "--profile", "size", "--size", str(sz), "--flows", "500",
                         "--ipv6-share", "0", "--vlan-share", "0", "--vxlan-share", "0",
                         packets=self.pkts // 2)
            pts.append((str(sz), g["path"]))
        for label, path in pts:
            r = {"label": label, "flow": self.median_run(path, "flow", reps=1),
                 "full": self.median_run(path, "full", reps=1)}
            self.res["sizes"].append(r)

    def workers(self):
        sets = (("enterprise", "full"),) if self.a.quick else (("enterprise", "full"), ("64b", "flow"))
        for name, mode in sets:
            path = self.res["mixes"][name]["gen"]["path"]
            for w in range(1, self.nproc + 1):
                log(f"workers {name} {mode} {w}")
                r = self.pipeline(path, mode, w)
                r["mix"] = name
                self.res["workers"].append(r)

    def micro(self):
        for b in ("decode", "http", "tls", "dns"):
            exe = os.path.join(self.bin, "gcp_bench_" + b)
            if os.path.exists(exe):
                self.res["micro"] += run_json(self.cmd([exe] + (["--quick"] if self.a.quick else [])))

    def peers_small(self):
        log("tshark (small capture)")
        g = self.gen("small", "--profile", "enterprise", "--flows", "200", packets=20000)
        ours = self.median_run(g["path"], "full", reps=self.reps)
        t = self.tshark(g["path"], g["packets"])
        n = None if self.a.quick else self.ndpi(g["path"], g["packets"])
        self.res["tshark"] = {"gen": g, "ours": ours, "tshark": t, "ndpi": n}

    # ---- CI guard -------------------------------------------------------------
    def guard(self):
        """gcprobe vs ndpiReader on the same capture, runs interleaved
        (gcprobe, ndpiReader, gcprobe, ...) so load on the shared host hits
        both sides alike; CPU time, median of 3 each. A ratio: a slow
        machine slows both. Returns False when a ratio is under the floor."""
        t0 = time.monotonic()
        exe = shutil.which("ndpiReader")
        out = {"floor": self.a.guard, "sets": [], "ok": False}
        self.res["guard"] = out
        if not exe:
            log("guard: ndpiReader not found (Debian libndpi-bin): cannot compare, failing")
            return False
        for name, mode in GUARD_SETS:
            g = self.res["mixes"][name]["gen"]
            # >= ~0.15 s of CPU per sample on either side at today's rates.
            ours, theirs = [], []
            for _ in range(3):
                ours.append(self.pipeline(g["path"], mode, loops=8)["mpps_per_core_cpu"])
                theirs.append(self.ndpi_sample(exe, g["path"], g["packets"], 5)[0])
            o, t = median(ours), median(theirs)
            ok = o >= self.a.guard * t
            out["sets"].append({"mix": name, "mode": mode, "gcprobe_mpps_cpu": o,
                                "ndpi_mpps_cpu": t, "ratio": o / t, "ok": ok,
                                "gcprobe_runs": ours, "ndpi_runs": theirs})
            log(f"guard: {name} {mode}: gcprobe {o:.3f} Mpps/core (CPU, median of "
                f"{', '.join(f'{x:.3f}' for x in ours)}), ndpiReader {t:.3f} Mpps/core (CPU per "
                f"pass, median of {', '.join(f'{x:.3f}' for x in theirs)}): ratio {o / t:.2f}x, "
                f"floor {self.a.guard}x: {'ok' if ok else 'FAIL'}")
        out["ok"] = all(x["ok"] for x in out["sets"])
        out["elapsed_s"] = time.monotonic() - t0
        log(f"guard: {out['elapsed_s']:.0f} s")
        return out["ok"]

    def run(self):
        t0 = time.monotonic()
        self.mixes()
        guard_ok = self.guard() if self.a.guard else True
        self.workers()
        self.sizes()
        self.flowscale()
        self.micro()
        self.peers_small()
        self.res["elapsed_s"] = time.monotonic() - t0
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.res, guard_ok


def machine():
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    keep = ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "L2 cache",
            "L3 cache", "Hypervisor vendor")
    info = {}
    for l in lscpu.splitlines():
        k, _, v = l.partition(":")
        if k.strip() in keep:
            info[k.strip()] = v.strip()
    info["kernel"] = os.uname().release
    try:
        info["load_avg_at_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def ndpi_version(out):
    m = re.search(r"nDPI ([\d.]+)", out)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--guard", type=float, nargs="?", const=GUARD_FLOOR, default=None,
                    metavar="FLOOR", help="fail unless gcprobe >= FLOOR x ndpiReader "
                    f"(default {GUARD_FLOOR}) for " +
                    ", ".join(f"{m} {mo}" for m, mo in GUARD_SETS))
    a = ap.parse_args()
    res, guard_ok = Report(a).run()
    print(json.dumps(res, indent=1))
    if not a.no_write:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import write_doc
        write_doc.write(a.root, res)
    if not guard_ok:
        log(f"guard FAILED: gcprobe below {a.guard}x ndpiReader (see the guard lines above)")
        sys.exit(1)
