#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGHUP mid-run reloads the rules file: records made after the signal
# carry the new rule ids, records before it the old ones; nothing is lost.
# Live (AF_XDP on a veth made here, tcpreplay in two phases) so the
# moment of the signal is known: phase 1, SIGHUP, reload seen, phase 2.
set -uo pipefail
bin=$1 src=$2
. "$(dirname "$0")/live_lib.sh"
live_tmp
live_at_exit '[ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null'
fail() { echo "FAIL: $*" >&2; exit 1; }

# --rules reaches every engine from the start, with --workers too.
python3 "$src/data/mkdemo.py" "$TMP/w.pcap" 50
echo 'id=1 field=host pattern=/example\.gov$/' >"$TMP/rules"
"$bin" --read "$TMP/w.pcap" --workers 2 --types http --rules "$TMP/rules" -o "$TMP/w.json" ||
	fail "--workers 2 --rules: exit $?"
python3 - "$TMP/w.json" <<'PY' || fail "--workers 2: records without the rule"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 100 and all(r.get("rules") == [1] for r in recs), recs[:2]
PY

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, AF_XDP)"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
"$bin" --help | grep -q -- --iface || skip "gcprobe built without AF_XDP"
live_netns ghup hp0 hp1

python3 "$src/data/mkdemo.py" "$TMP/part.pcap" 20   # 400 packets, 40 http records
echo 'id=1 field=host pattern=/example\.gov$/' >"$TMP/rules"
"${IN_A[@]}" "$bin" --iface "$DEV_A" --xdp-mode copy --types http --rules "$TMP/rules" \
	-o "$TMP/out.json" 2>"$TMP/err" &
pid=$!
live_wait_for "AF_XDP .* mode" "$TMP/err" $pid || skip "AF_XDP unavailable: $(head -3 "$TMP/err")"

# lines N: wait until the output file has N records (idle flushes it).
lines() {
	for _ in $(seq 100); do
		[ -f "$TMP/out.json" ] && [ "$(wc -l <"$TMP/out.json")" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "expected $1 records, have $(wc -l <"$TMP/out.json" 2>/dev/null)"
}
ip netns exec "$NS_B" tcpreplay -q -i "$DEV_B" --pps 2000 "$TMP/part.pcap" >/dev/null 2>&1
lines 40
echo 'id=2 field=host pattern=/example\.gov$/' >"$TMP/rules"
kill -HUP $pid
for _ in $(seq 100); do grep -q "reloaded 1 rule" "$TMP/err" && break; sleep 0.1; done
grep -q "reloaded 1 rule" "$TMP/err" || fail "no reload message: $(cat "$TMP/err")"
ip netns exec "$NS_B" tcpreplay -q -i "$DEV_B" --pps 2000 "$TMP/part.pcap" >/dev/null 2>&1
lines 80
kill -TERM $pid
wait $pid || fail "exit $? ($(cat "$TMP/err"))"
pid=
python3 - "$TMP/out.json" <<'PY' || fail "rule ids around the reload"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 80, len(recs)               # 2 http records per repetition, two phases
ids = [tuple(r.get("rules", [])) for r in recs]
assert all(i == (1,) for i in ids[:40]), ids[:40]
assert all(i == (2,) for i in ids[40:]), ids[40:]
print("SIGHUP: 40 records before the reload carry rule 1, 40 after carry rule 2")
PY
echo "sighup: ok"
