# SPDX-License-Identifier: BSD-3-Clause
"""Per-stage cost of the packet path (issue 12), from callgrind.

For each mix the pipeline bench runs under callgrind, collecting only
inside gcp_engine_feed_burst() and gcp_engine_advance() (the timed part of
the replay). Each function's own instructions go to a stage chosen by
STAGE_RULES below (the one place that maps code to stages: function name,
then source file, then shared object). Functions of no stage (libc's
memcpy/malloc/snprintf, libcrypto, ...) are charged to their callers, in
proportion to the instructions each caller's calls cost (callgrind's call
edges), recursively: memcpy called by the reassembly counts as reassembly.
Instructions per packet are exact and repeatable; ns per packet is an
estimate: the stage's share of instructions x the CPU ns/packet measured
for the same mix in the same run (same IPC everywhere assumed; cache
misses make the flow lookup dearer than its share at large flow counts).

  bench/report/stages.sh [--rev REV] [--before FILE.json] [--json OUT.json]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (MIX_SPECS, run_json)
import revbuild  # noqa: E402

# (stage key, label) in table order.
STAGES = [
    ("decode", "decode (L2-L4, tunnels, IP fragments)"),
    ("flow_lookup", "flow key, hash, lookup/insert (+ inlined counter update)"),
    ("flow_update", "flow update, timers, expiry, conn_count"),
    ("engine", "burst loop, clock"),
    ("reasm", "TCP reassembly"),
    ("app", "app dispatch (stream to dissector, flow end)"),
    ("hsid", "Hyperscan identification"),
    ("http", "dissector: http"),
    ("tls", "dissector: tls"),
    ("dns", "dissector: dns"),
    ("mail", "dissector: smtp/pop3/imap"),
    ("ftp", "dissector: ftp"),
    ("ftpdata", "dissector: ftpdata"),
    ("rules", "content rules"),
    ("encode", "record building + MessagePack encoding"),
    ("subscriber", "subscriber callback (bench: counts records)"),
    ("other", "other (no stage found)"),
]

# The mapping: first match wins; kind is fn (function name, recursion
# suffix 'N removed), file (source path of the function) or obj (shared
# object). Anything unmatched is charged to its callers.
STAGE_RULES = [
    # gcp_flow_packet is the whole per-packet flow step: lookup with the
    # counter update inlined (tcp_facts and timer relinks stay apart).
    ("fn", r"^(gcp_flow_lookup|gcp_flow_hash|hash_bytes|build_key|idx_\w+|can_shift|"
           r"flow_create|flow_ref|new_id|is_reuse|sender_\w+|is_service_port|cmp_port|"
           r"gcp_flow_lookup_\w+|\w*bucket\w*|gcp_flow_packet|gcp_flow_probe_init|"
           r"gcp_flow_prefetch_\w+|lookup_miss|lookup|take_free|key_eq|sig_match)$",
     "flow_lookup"),
    ("fn", r"^(hs_step|hs_release|hs_pending)$", "hsid"),
    # flow.h's inline key build and hash run inside the decode pass.
    ("file", r"lib/src/flow\.h$", "flow_lookup"),
    ("file", r"lib/src/(decode|ipfrag)\.c$", "decode"),
    ("file", r"lib/src/flow\.c$", "flow_update"),
    ("file", r"lib/src/engine\.c$", "engine"),
    ("file", r"lib/src/reasm\.c$", "reasm"),
    ("file", r"lib/src/(app|expect)\.c$", "app"),
    ("file", r"lib/src/hsid\.c$", "hsid"),
    ("file", r"lib/src/rules\.c$", "rules"),
    ("file", r"lib/src/(record|emit|json)\.c$", "encode"),
    ("file", r"dissectors/http2?/", "http"),
    ("file", r"dissectors/(tls|quic)/", "tls"),
    ("file", r"dissectors/dns/", "dns"),
    ("file", r"dissectors/(smtp|pop3|imap)/", "mail"),
    ("file", r"dissectors/ftp/", "ftp"),
    ("file", r"dissectors/ftpdata/", "ftpdata"),
    ("file", r"/bench/(pipeline|flowscale)/", "subscriber"),
    ("obj", r"/libhs[^/]*$", "hsid"),
    ("obj", r"/libmsgpack[^/]*$", "encode"),
    ("obj", r"/libz\.so[^/]*$", "http"),  # only HTTP bodies are inflated
]
_RULES = [(k, re.compile(p), s) for k, p, s in STAGE_RULES]

# (mix, mode) pairs measured; the first figure of issue 12 is 64b flow.
SETS = (("enterprise", "full"), ("imix", "full"), ("64b", "full"), ("64b", "flow"))


def log(msg):
    print(f"[stages] {msg}", file=sys.stderr, flush=True)


# ---- callgrind output ---------------------------------------------------------

class Profile:
    """Self cost per function and inclusive cost per call edge (first event)."""

    def __init__(self):
        self.self_cost = {}   # (ob, fl, fn) -> Ir
        self.edges = {}       # (caller key, callee key) -> Ir
        self.total = 0


def _name(tab, kind, val):
    """Resolve callgrind's name compression "(id) name" / "(id)"."""
    m = re.match(r"\((\d+)\)(?: (.*))?$", val)
    if not m:
        return val
    if m.group(2) is not None:
        tab[(kind, m.group(1))] = m.group(2)
    return tab.get((kind, m.group(1)), val)


def parse_callgrind(path):
    prof, tab = Profile(), {}
    ob = fl = fn = None
    src = None  # file of the cost lines: fl, or an inlined one (fi=/fe=)
    cob = cfl = cfn = None
    in_call = False
    kinds = {"ob": "o", "cob": "o", "fl": "f", "fi": "f", "fe": "f", "cfi": "f", "cfl": "f",
             "fn": "n", "cfn": "n"}
    with open(path) as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or line[0] == "#":
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if in_call:
                    callee = (cob or ob, cfl or fl, cfn)
                    k = ((ob, fl, fn), callee)
                    prof.edges[k] = prof.edges.get(k, 0) + cost
                    in_call, cob, cfl, cfn = False, None, None, None
                else:
                    # Inlined code is charged by its own file (flow.h's key
                    # build inside the burst loop counts as flow lookup).
                    k = (ob, src if src and src != fl and _file_stage(src) else fl, fn)
                    prof.self_cost[k] = prof.self_cost.get(k, 0) + cost
                continue
            key, _, val = line.partition("=")
            if key in kinds and _:
                name = _name(tab, kinds[key], val)
                if key == "ob":
                    ob = name
                elif key == "fl":
                    fl = src = name
                elif key in ("fi", "fe"):
                    src = name
                elif key == "fn":
                    fn = name
                    src = fl
                elif key == "cob":
                    cob = name
                elif key in ("cfi", "cfl"):
                    cfl = name
                elif key == "cfn":
                    cfn = name
            elif key == "calls":
                in_call = True
            elif line.startswith(("summary:", "totals:")):
                prof.total = max(prof.total, int(line.split(":")[1].split()[0]))
    return prof


def _file_stage(path):
    """The stage a file rule gives path, or None."""
    for kind, rx, stage in _RULES:
        if kind == "file" and rx.search(path):
            return stage
    return None


def stage_of(key):
    ob, fl, fn = key
    base = re.sub(r"'\d+$", "", fn or "")
    for kind, rx, stage in _RULES:
        s = {"fn": base, "file": fl or "", "obj": ob or ""}[kind]
        if rx.search(s):
            return stage
    return None


def attribute(prof, rounds=500):
    """Instructions per stage: own cost by rule, stage-less code by callers.

    A stage-less function's cost is split over its callers by the cost of
    their calls to it, and so on upwards until a function with a stage is
    reached: an absorbing walk up the call graph, solved by iteration (the
    graph has cycles: recursion in libc and libcrypto). What never reaches
    a stage stays "other"."""
    callers = {}
    for (g, f), c in prof.edges.items():
        if c > 0 and g != f:
            callers.setdefault(f, []).append((g, c))
    fixed = {f: {stage_of(f): 1.0} for f in prof.self_cost if stage_of(f)}
    free = [f for f in prof.self_cost if f not in fixed]
    weights = {f: [(g, c / sum(x for _, x in callers.get(f, [])))
                   for g, c in callers.get(f, [])] for f in free}
    dist = dict(fixed)
    for _ in range(rounds):
        change = 0.0
        for f in free:
            d = {}
            for g, w in weights[f]:
                for st, x in dist.get(g, {}).items():
                    d[st] = d.get(st, 0) + w * x
            old = dist.get(f, {})
            change = max([change] + [abs(d.get(k, 0) - old.get(k, 0)) for k in set(d) | set(old)])
            dist[f] = d
        if change < 1e-12:
            break
    out = {k: 0.0 for k, _ in STAGES}
    for f, c in prof.self_cost.items():
        d = dist.get(f, {})
        for st, w in d.items():
            out[st] += c * w
        out["other"] += c * max(0.0, 1.0 - sum(d.values()))
    return out


# ---- runs --------------------------------------------------------------------------

def callgrind(bench_bin, pcap, mode, loops, outfile):
    """Run the pipeline under callgrind; returns (Profile, packets)."""
    cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=gcp_engine_feed_burst",
           "--toggle-collect=gcp_engine_advance", f"--callgrind-out-file={outfile}",
           os.path.join(bench_bin, "gcp_bench_pipeline"), "--read", pcap, "--loops", str(loops),
           "--mode", mode, "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    res = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")][0]
    return parse_callgrind(outfile), res["packets"], cmd


def callgrind_ir(bench_bin, pcap, mode, loops, outfile):
    """Collected instructions per packet (compare.py)."""
    prof, pkts, _ = callgrind(bench_bin, pcap, mode, loops, outfile)
    return prof.total / pkts


def measure(b, a, tmp):
    """Stage table data for build b: {set: {ir_per_pkt, ns_per_pkt, stages}}."""
    bench = os.path.join(b["build"], "bench")
    out = {}
    pcaps = {}
    for name, args in report.MIX_SPECS.items():
        if any(name == m for m, _ in a.sets):
            pcaps[name] = os.path.join(tmp, name + ".pcap")
            report.run_json([os.path.join(bench, "gcp_gen"), "--out", pcaps[name], "--seed", "42",
                             "--packets", str(a.packets), *args])
    for mix, mode in a.sets:
        log(f"{mix} {mode}: callgrind")
        prof, pkts, cmd = callgrind(bench, pcaps[mix], mode, a.cg_loops,
                                    os.path.join(tmp, f"cg.{mix}.{mode}"))
        runs = [report.run_json([os.path.join(bench, "gcp_bench_pipeline"), "--read", pcaps[mix],
                                 "--loops", str(a.loops), "--mode", mode, "--json"])[0]
                ["ns_per_pkt_cpu"] for _ in range(a.reps)]
        ns = statistics.median(runs)
        st = attribute(prof)
        tot = sum(st.values())
        if abs(tot - prof.total) > 0.01 * max(prof.total, 1):
            log(f"warning: stages sum to {tot:.0f} of {prof.total} instructions")
        out[f"{mix} {mode}"] = {
            "packets": pkts, "ir_total": prof.total, "ir_per_pkt": prof.total / pkts,
            "ns_per_pkt_cpu": ns, "ns_runs": runs,
            "stages": {k: v / pkts for k, v in st.items()},
            "command": " ".join(cmd).replace(tmp, "$TMP")}
    return out


# ---- tables ------------------------------------------------------------------------

def fmt(x, nd=0):
    return "" if x is None else f"{x:,.{nd}f}"


def _ns(d, k):
    return d["stages"].get(k, 0) / d["ir_per_pkt"] * d["ns_per_pkt_cpu"]


def _cell(d, k):
    if d is None:
        return "n/a"
    if k == "total":
        return f"**{fmt(d['ir_per_pkt'])}** ({fmt(d['ns_per_pkt_cpu'])} measured)"
    return f"{fmt(d['stages'].get(k, 0))} ({fmt(_ns(d, k))})"


def table(res, before=None):
    """One table, stages x (mix, mode); cells 'Ir/pkt (ns/pkt est.)'. With
    before: a before and an after column per (mix, mode)."""
    sets = list(res["sets"])
    labels = dict(STAGES)
    used = {k for d in list(res["sets"].values()) + list((before or {}).get("sets", {}).values())
            for k, v in d["stages"].items() if v >= 0.5}
    keys = [k for k, _ in STAGES if k in used] + sorted(used - set(labels))
    if before:
        head = " | ".join(f"{n}: before | {n}: after" for n in sets)
        rule = "|---|" + "---:|" * (2 * len(sets))
    else:
        head = " | ".join(sets)
        rule = "|---|" + "---:|" * len(sets)
    out = [f"| stage, Ir/pkt (est. ns/pkt) | {head} |", rule]
    for k in keys + ["total"]:
        cells = []
        for n in sets:
            if before:
                cells.append(_cell(before["sets"].get(n), k))
            cells.append(_cell(res["sets"][n], k))
        out.append(f"| {'**total**' if k == 'total' else labels.get(k, k)} | {' | '.join(cells)} |")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--rev", default=".", help="git revision to measure (default: the checkout)")
    ap.add_argument("--before", help="JSON of an earlier run: print before/after columns")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--packets", type=int, default=20000, help="gcp_gen --packets (default 20000)")
    ap.add_argument("--cg-loops", type=int, default=2, help="replay loops under callgrind")
    ap.add_argument("--loops", type=int, default=10, help="replay loops of the timed runs")
    ap.add_argument("--reps", type=int, default=3, help="timed runs per mix (median)")
    a = ap.parse_args()
    a.sets = SETS
    b = revbuild.build(a.root, a.rev)
    with tempfile.TemporaryDirectory(prefix="gcp-stages-") as tmp:
        res = {"rev": a.rev, "sha": b["sha"], "driver": b["driver"], "packets": a.packets,
               "cg_loops": a.cg_loops, "sets": measure(b, a, tmp)}
    before = json.load(open(a.before)) if a.before else None
    what = revbuild.label(b)
    if before:
        what = f"before = {revbuild.label(before)}, after = {what}"
    print(f"Per-stage cost, {what}: callgrind instructions per packet collected in "
          f"gcp_engine_feed_burst/gcp_engine_advance (gcp_gen --packets {a.packets}, --loops "
          f"{a.cg_loops}); in parentheses ns/pkt = the stage's share x the measured CPU ns/pkt "
          f"(median of {a.reps} runs, --loops {a.loops}).")
    print()
    print("\n".join(table(res, before)))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
