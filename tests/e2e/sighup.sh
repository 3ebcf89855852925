#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGHUP mid-run reloads the rules file: records made after the signal
# carry the new rule ids, records before it the old ones; nothing is lost.
set -uo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 "$src/data/mkdemo.py" "$tmp/long.pcap" 5000
echo 'id=1 field=host pattern=/example\.gov$/' >"$tmp/rules"
"$bin" --read "$tmp/long.pcap" --types http --rules "$tmp/rules" >"$tmp/out.json" 2>"$tmp/err" &
pid=$!
for _ in $(seq 300); do
	[ "$(wc -l <"$tmp/out.json")" -ge 50 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
kill -0 $pid 2>/dev/null || { echo "SKIP: run ended before the signal could be sent"; exit 0; }
echo 'id=2 field=host pattern=/example\.gov$/' >"$tmp/rules"
kill -HUP $pid
wait $pid || fail "exit $? ($(cat "$tmp/err"))"
grep -q "reloaded 1 rule" "$tmp/err" || fail "no reload message: $(cat "$tmp/err")"
python3 - "$tmp/out.json" <<'PY' || fail "rule ids around the reload"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 10000, len(recs)            # 2 http records per repetition
ids = [tuple(r.get("rules", [])) for r in recs]
assert ids[0] == (1,), ids[0]
assert ids[-1] == (2,), ids[-1]
switch = ids.index((2,))
assert all(i == (1,) for i in ids[:switch]) and all(i == (2,) for i in ids[switch:]), "mixed ids"
print("SIGHUP: rules switched after %d of %d records" % (switch, len(recs)))
PY
echo "sighup: ok"
