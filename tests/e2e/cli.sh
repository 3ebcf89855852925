#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# gcprobe CLI contract: records on the bundled capture, one clear error
# line and a non-zero exit for bad input, truncated captures keep records.
set -uo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

expect_error() { # expected-rc pattern args...
	local want=$1 pat=$2; shift 2
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ "$rc" -eq "$want" ] || fail "$* exited $rc, want $want"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$*: want one error line, got: $(cat "$tmp/err")"
	grep -q "^gcprobe: error: .*$pat" "$tmp/err" || fail "$*: error line lacks '$pat': $(cat "$tmp/err")"
}

# Records: every line is JSON; the demo has tcp, http, https and dns.
"$bin" --read "$src/data/demo.pcap" >"$tmp/demo.json" || fail "demo run"
python3 - "$tmp/demo.json" <<'PY' || fail "demo records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
types = sorted(r["type"] for r in recs)
assert types == ["dns", "http", "http", "tcp", "tcp"], types
http = [r for r in recs if r["type"] == "http" and r["scheme"] == "http"][0]
assert http["host"] == "www.example.gov" and http["status"] == 200, http
assert http["real_ip"] == "203.0.113.7" and http["method"] == "GET", http
tls = [r for r in recs if r.get("scheme") == "https"][0]
assert tls["host"] == "portal.example.gov", tls
assert tls["tls"]["ja3"] == "22a872373cd3e030f2c061e58d03d9f8", tls  # tshark's value
for r in recs:
    for k in ("ts", "ingest_ts", "engine", "node_name", "node_type", "src_ip", "dst_ip", "flow_id"):
        assert k in r, (k, r)
PY

# msgpack: same number of records, each a map (fixmap 0x80-0x8f or map16 0xde).
"$bin" --read "$src/data/demo.pcap" --format msgpack --output "$tmp/demo.mp" || fail "msgpack run"
python3 - "$tmp/demo.mp" <<'PY' || fail "msgpack output"
import sys
b = open(sys.argv[1], "rb").read()
assert b and (0x80 <= b[0] <= 0x8f or b[0] in (0xde, 0xdf)), b[:4]
PY

# Options and identity.
"$bin" --version | grep -q "^gcprobe [0-9]" || fail "--version"
"$bin" --help | grep -q -- "--read" || fail "--help"
"$bin" --read "$src/data/demo.pcap" --node-name n1 --node-type virtual --agent-ip 192.0.2.1 \
	--types tcp | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    assert r["type"] == "tcp" and r["node_name"] == "n1" and r["node_type"] == "virtual" and r["agent_ip"] == "192.0.2.1", r
' || fail "node options"

# Bad arguments and files: one error line, non-zero exit.
expect_error 2 "unknown option" --bogus
expect_error 2 "cores" --read "$src/data/demo.pcap" --cores 0,x
expect_error 2 "body-cap" --read "$src/data/demo.pcap" --body-cap 200000
# Pinned workers (CPU 0 exists everywhere) give the same records.
[ "$("$bin" --read "$src/data/demo.pcap" --workers 2 --cores 0 | wc -l)" -eq 5 ] || fail "--cores with workers"
[ "$("$bin" --read "$src/data/demo.pcap" --cores 0 | wc -l)" -eq 5 ] || fail "--cores single"
expect_error 2 "format" --read "$src/data/demo.pcap" --format xml
expect_error 1 "No such file" --read "$tmp/missing.pcap"
expect_error 1 "not a pcap" --read "$src/README.md"
"$bin" >/dev/null 2>&1 && fail "no arguments must fail"

# Truncated last packet: warning, exit 0, records before it kept.
head -c 1500 "$src/data/demo.pcap" >"$tmp/trunc.pcap"
"$bin" --read "$tmp/trunc.pcap" >"$tmp/trunc.json" 2>"$tmp/err" || fail "truncated capture exit"
grep -q "truncated" "$tmp/err" || fail "no truncation warning"
[ "$(wc -l <"$tmp/trunc.json")" -ge 3 ] || fail "records lost before truncation"

# SIGTERM mid-run: every record already written stays whole, and the
# flush at shutdown writes the tcp record of every flow that had one.
python3 "$src/data/mkdemo.py" "$tmp/big.pcap" 5000
"$bin" --read "$tmp/big.pcap" >"$tmp/sig.json" 2>"$tmp/sig.err" &
pid=$!
# Signal once records flow (so the run is mid-way), at most after 30 s.
for _ in $(seq 300); do
	[ "$(wc -l <"$tmp/sig.json")" -ge 100 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
kill -TERM $pid 2>/dev/null
wait $pid
rc=$?
[ "$rc" -eq 0 ] || fail "SIGTERM: exit $rc ($(cat "$tmp/sig.err"))"
python3 - "$tmp/sig.json" <<'PY' || fail "SIGTERM flush"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]  # a partial line would not parse
tcp = {r["flow_id"] for r in recs if r["type"] == "tcp"}
app = [r for r in recs if r["type"] == "http"]
lost = [r["flow_id"] for r in app if r["flow_id"] not in tcp]
assert not lost, "flows without tcp record after SIGTERM: %d" % len(lost)
print("SIGTERM: %d records kept" % len(recs))
PY
echo "cli: ok"
