#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# rotate: sink under SIGTERM: every visible file decodes whole, no .tmp is
# left, and the records in the files are exactly what --stats says was written.
set -uo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 "$src/data/mkdemo.py" "$tmp/big.pcap" 5000
mkdir "$tmp/out"
for workers in 1 2; do
	rm -f "$tmp/out"/* "$tmp/out"/.[!.]*
	"$bin" --read "$tmp/big.pcap" --workers $workers --stats \
		--sink "rotate:$tmp/out?max_bytes=65536&prefix=r" >/dev/null 2>"$tmp/err" &
	pid=$!
	# Signal once a few files are out (so the run is mid-way), at most after 30 s.
	for _ in $(seq 300); do
		[ "$(ls "$tmp/out" | wc -l)" -ge 3 ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM $pid 2>/dev/null
	wait $pid || fail "workers=$workers: exit $? ($(cat "$tmp/err"))"
	python3 - "$tmp/out" "$tmp/err" <<'PY' || fail "workers=$workers: files vs --stats"
import json, os, struct, sys
d, err = sys.argv[1], sys.argv[2]

def skip(b, i):
    """Index after the msgpack object at b[i]; IndexError if it is cut short."""
    t = b[i]; i += 1
    if t <= 0x7f or t >= 0xe0 or t in (0xc0, 0xc2, 0xc3): return i
    if 0x80 <= t <= 0x8f: n = (t & 15) * 2; return skip_n(b, i, n)
    if 0x90 <= t <= 0x9f: return skip_n(b, i, t & 15)
    if 0xa0 <= t <= 0xbf: return need(b, i + (t & 31))
    fixed = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8,
             0xca: 4, 0xcb: 8, 0xd4: 2, 0xd5: 3, 0xd6: 5, 0xd7: 9, 0xd8: 17}
    if t in fixed: return need(b, i + fixed[t])
    lens = {0xc4: 1, 0xc5: 2, 0xc6: 4, 0xd9: 1, 0xda: 2, 0xdb: 4, 0xc7: 1, 0xc8: 2, 0xc9: 4}
    if t in lens:
        w = lens[t]; n = int.from_bytes(b[i:need(b, i + w)], "big"); i += w
        return need(b, i + n + (1 if t in (0xc7, 0xc8, 0xc9) else 0))
    if t in (0xdc, 0xdd, 0xde, 0xdf):
        w = 2 if t in (0xdc, 0xde) else 4
        n = int.from_bytes(b[i:need(b, i + w)], "big") * (2 if t >= 0xde else 1)
        return skip_n(b, i + w, n)
    raise ValueError("bad msgpack byte 0x%02x" % t)

def skip_n(b, i, n):
    for _ in range(n): i = skip(b, i)
    return i

def need(b, i):
    if i > len(b): raise IndexError("cut short")
    return i

names = os.listdir(d)
assert not [n for n in names if n.startswith(".")], names  # no .tmp left
total = 0
for n in names:
    data = open(os.path.join(d, n), "rb").read()
    i = 0
    while i < len(data):
        assert 0x80 <= data[i] <= 0x8f or data[i] in (0xde, 0xdf), "%s: not a map at %d" % (n, i)
        i = skip(data, i)  # IndexError: a partial record
        total += 1
sinks = [json.loads(l) for l in open(err) if l.startswith('{"sinks"')]
assert len(sinks) == 1, open(err).read()
s = sinks[0]["sinks"][0]
assert s["written"] == total, (s, total)
assert s["written"] + s["dropped_full"] + s["dropped_error"] == s["produced"], s
print("sigterm: %d files, %d records, stats %s" % (len(names), total, s))
PY
done
echo "sink_sigterm: ok"
