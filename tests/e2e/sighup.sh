#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGHUP mid-run reloads the rules file: records made after the signal
# carry the new rule ids, records before it the old ones; nothing is lost.
# Live (AF_XDP on a veth made here, tcpreplay in two phases) so the
# moment of the signal is known: phase 1, SIGHUP, reload seen, phase 2.
set -uo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
ns_a="ghup_a$$" ns_b="ghup_b$$"
cleanup() {
	[ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 0; }

# --rules reaches every engine from the start, with --workers too.
python3 "$src/data/mkdemo.py" "$tmp/w.pcap" 50
echo 'id=1 field=host pattern=/example\.gov$/' >"$tmp/rules"
"$bin" --read "$tmp/w.pcap" --workers 2 --types http --rules "$tmp/rules" -o "$tmp/w.json" ||
	fail "--workers 2 --rules: exit $?"
python3 - "$tmp/w.json" <<'PY' || fail "--workers 2: records without the rule"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 100 and all(r.get("rules") == [1] for r in recs), recs[:2]
PY

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, AF_XDP)"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
"$bin" --help | grep -q -- --iface || skip "gcprobe built without AF_XDP"
ip netns add "$ns_a" 2>/dev/null && ip netns add "$ns_b" || skip "cannot create network namespaces"
for ns in "$ns_a" "$ns_b"; do
	ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6;
		echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' 2>/dev/null
done
ip link add hp0 netns "$ns_a" type veth peer name hp1 netns "$ns_b" || skip "cannot create a veth pair"
ip -n "$ns_a" link set hp0 up && ip -n "$ns_b" link set hp1 up

python3 "$src/data/mkdemo.py" "$tmp/part.pcap" 20   # 400 packets, 40 http records
echo 'id=1 field=host pattern=/example\.gov$/' >"$tmp/rules"
ip netns exec "$ns_a" sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"' sh \
	"$bin" --iface hp0 --xdp-mode copy --types http --rules "$tmp/rules" \
	-o "$tmp/out.json" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do grep -q "AF_XDP .* mode" "$tmp/err" && break; sleep 0.1; done
grep -q "AF_XDP .* mode" "$tmp/err" || skip "AF_XDP unavailable: $(head -3 "$tmp/err")"

# lines N: wait until the output file has N records (idle flushes it).
lines() {
	for _ in $(seq 100); do
		[ -f "$tmp/out.json" ] && [ "$(wc -l <"$tmp/out.json")" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "expected $1 records, have $(wc -l <"$tmp/out.json" 2>/dev/null)"
}
ip netns exec "$ns_b" tcpreplay -q -i hp1 --pps 2000 "$tmp/part.pcap" >/dev/null 2>&1
lines 40
echo 'id=2 field=host pattern=/example\.gov$/' >"$tmp/rules"
kill -HUP $pid
for _ in $(seq 100); do grep -q "reloaded 1 rule" "$tmp/err" && break; sleep 0.1; done
grep -q "reloaded 1 rule" "$tmp/err" || fail "no reload message: $(cat "$tmp/err")"
ip netns exec "$ns_b" tcpreplay -q -i hp1 --pps 2000 "$tmp/part.pcap" >/dev/null 2>&1
lines 80
kill -TERM $pid
wait $pid || fail "exit $? ($(cat "$tmp/err"))"
pid=
python3 - "$tmp/out.json" <<'PY' || fail "rule ids around the reload"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 80, len(recs)               # 2 http records per repetition, two phases
ids = [tuple(r.get("rules", [])) for r in recs]
assert all(i == (1,) for i in ids[:40]), ids[:40]
assert all(i == (2,) for i in ids[40:]), ids[40:]
print("SIGHUP: 40 records before the reload carry rule 1, 40 after carry rule 2")
PY
echo "sighup: ok"
