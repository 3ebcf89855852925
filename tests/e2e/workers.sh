#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Multi-worker runs (software symmetric distributor) give the same record
# set as one worker, for every capture in the corpus.
# usage: workers.sh GCPROBE CORPUS_DIR
set -u
BIN=$1 CORPUS=$2
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 0; }
[ -d "$CORPUS" ] || { echo "SKIP: no corpus at $CORPUS"; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# ingest_ts is wall-clock time. flow_id: every worker's flow table counts
# from the same start, so an id depends on which worker saw the flow;
# it is compared separately for uniqueness below.
norm() { jq -c 'del(.ingest_ts, .flow_id)' "$1" | LC_ALL=C sort; }
fail=0 n=0 idcoll=0
while IFS= read -r f; do
	n=$((n + 1))
	"$BIN" --read "$f" >"$tmp/one.json" 2>"$tmp/one.err" || { echo "FAIL (1 worker): $f"; cat "$tmp/one.err"; fail=1; continue; }
	for w in 4; do
		"$BIN" --read "$f" --workers $w >"$tmp/many.json" 2>"$tmp/many.err" || { echo "FAIL ($w workers): $f"; cat "$tmp/many.err"; fail=1; continue; }
		if ! cmp -s <(norm "$tmp/one.json") <(norm "$tmp/many.json"); then
			echo "FAIL: $f: $w workers differ from 1 worker:"
			diff <(norm "$tmp/one.json") <(norm "$tmp/many.json") | head -6
			fail=1
		fi
		# Records of the same 5-tuple flow from different workers could share an id.
		d=$(jq -r 'select(.flow_id) | "\(.flow_id) \(.src_ip) \(.dst_ip)"' "$tmp/many.json" | sort -u | awk '{print $1}' | uniq -d | wc -l)
		[ "$d" -eq 0 ] || idcoll=$((idcoll + 1))
	done
done < <(find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort)
[ "$n" -gt 0 ] || { echo "SKIP: no captures under $CORPUS"; exit 0; }
[ "$idcoll" -eq 0 ] || echo "NOTE: $idcoll run(s) where two workers handed out the same flow_id to different flows"
[ "$fail" -eq 0 ] && echo "PASS: $n captures, 4 workers give the single-worker record set"
exit $fail
