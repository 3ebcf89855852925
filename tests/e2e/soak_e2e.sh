#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Soak: a long live replay (tcpreplay --loop 0 --unique-ip, new flows every
# loop) onto a veth in a network namespace, gcprobe --iface (AF_XDP copy)
# with stats records every 5 s. Samples RSS, record and drop counters every
# 5 s and prints them as a table; after the warm-up (first third) RSS must
# not grow by more than max(512 kB, 0.5 %), records must keep coming in every
# sample, and at exit the books must balance with no packet dropped.
# usage: soak_e2e.sh GCPROBE MPCHECK SRC_DIR CORPUS_DIR [SECONDS]
#   SECONDS: default $GCP_SOAK_SECS or 60 (CI); 600 for the documented run.
#   GCP_SOAK_PPS: replay rate (default 2000 packets/s).
#   GCP_SOAK_LOG: also copy the sample table and the books there.
set -u
BIN=$1 SRC=$3 CORPUS=$4
SECS=${5:-${GCP_SOAK_SECS:-60}}
PPS=${GCP_SOAK_PPS:-2000}
STEP=5

. "$(dirname "$0")/live_lib.sh"
fail() { echo "FAIL: $*"; FAILED=1; }
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for c in ip tcpreplay jq python3; do command -v $c >/dev/null || skip "$c not installed"; done
"$BIN" --help | grep -q -- --iface || skip "gcprobe built without AF_XDP"
[ "$SECS" -ge 15 ] || { echo "FAIL: at least 15 seconds, got $SECS"; exit 1; }

PROBE_PID= REPLAY_PID=
live_at_exit '[ -n "$PROBE_PID" ] && kill -KILL "$PROBE_PID" 2>/dev/null'
live_at_exit '[ -n "$REPLAY_PID" ] && kill "$REPLAY_PID" 2>/dev/null'
live_netns gsoak sk0 sk1

# Replay input: generated HTTP/DNS/TLS sessions (unique ports) plus corpus
# captures; --unique-ip gives every loop new addresses, hence new flows.
python3 "$SRC/data/mkdemo.py" "$TMP/gen.pcap" 200
INPUTS="$TMP/gen.pcap"
for c in http/zeek-http-methods.pcap dns/tcpdump-dns-edns-opts.pcap tcp/zeek-tcp-reassembly-retrans.pcap; do
	[ -f "$CORPUS/$c" ] && INPUTS="$INPUTS $CORPUS/$c"
done

# Records as JSON lines on stdout; only the stats records are kept.
"${IN_A[@]}" "$BIN" --iface "$DEV_A" --xdp-mode copy --types tcp,http,dns,mail,ftp,stats \
	--stats-interval $STEP --stats \
	> >(grep --line-buffered '"type":"stats"' >"$TMP/stats.jsonl") 2>"$TMP/probe.err" &
PROBE_PID=$!
if ! live_wait_for "AF_XDP .* mode" "$TMP/probe.err" "$PROBE_PID"; then
	grep -qiE "not permitted|not supported|not implemented" "$TMP/probe.err" &&
		skip "AF_XDP unavailable: $(grep -m1 error "$TMP/probe.err")"
	echo "FAIL: gcprobe did not start:"; cat "$TMP/probe.err"; exit 1
fi

# -T nano: sleep between packets instead of spinning a core.
ip netns exec "$NS_B" tcpreplay -q -T nano -i "$DEV_B" --loop 0 --unique-ip --pps "$PPS" $INPUTS \
	>"$TMP/replay.log" 2>&1 &
REPLAY_PID=$!

# One sample: elapsed s, VmRSS/VmHWM from /proc, and the latest stats record.
sample() {
	local t=$1 rss hwm rec
	rss=$(awk '/^VmRSS:/ {print $2}' /proc/"$PROBE_PID"/status 2>/dev/null)
	hwm=$(awk '/^VmHWM:/ {print $2}' /proc/"$PROBE_PID"/status 2>/dev/null)
	rec=$(tail -n 1 "$TMP/stats.jsonl" 2>/dev/null)
	[ -n "$rec" ] || rec='{}'
	echo "$rec" | jq -r --arg t "$t" --arg rss "${rss:-0}" --arg hwm "${hwm:-0}" \
		'[$t, $rss, $hwm, (.books.pkts_received // 0), (.pkts // 0),
		  (.records_emitted // 0), (.flows_created // 0), (.flows_evicted // 0),
		  (.books.pkts_dropped.kernel // 0), (.books.pkts_dropped.rx_ring_full // 0),
		  (.books.sinks[0].dropped_full // 0)] | @tsv'
}

FAILED=0
# Sample mid-way between two stats records (they come every STEP s from start).
START=$(($(date +%s) + 2))
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' t_s rss_kb hwm_kb pkts_rx pkts_eng \
	records flows evicted drop_kern drop_ring sink_full >"$TMP/table.tsv"
for ((i = STEP; i <= SECS; i += STEP)); do
	sleep $((START + i - $(date +%s))) 2>/dev/null
	kill -0 "$PROBE_PID" 2>/dev/null || { fail "gcprobe died at ${i}s"; break; }
	kill -0 "$REPLAY_PID" 2>/dev/null || { fail "tcpreplay stopped at ${i}s"; cat "$TMP/replay.log"; break; }
	sample "$i" >>"$TMP/table.tsv"
done
kill "$REPLAY_PID" 2>/dev/null; wait "$REPLAY_PID" 2>/dev/null; REPLAY_PID=
sleep 1
kill -INT "$PROBE_PID"
wait "$PROBE_PID"; rc=$?; PROBE_PID=
[ "$rc" -eq 0 ] || { fail "gcprobe exited $rc"; cat "$TMP/probe.err"; }
column -t "$TMP/table.tsv"

# After the warm-up: RSS within max(512 kB, 0.5 %) of the first sample, records
# rising in every sample (the replay never stops making flows).
python3 - "$TMP/table.tsv" "$SECS" <<'PY' || FAILED=1
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
rows = [[int(x) for x in r] for r in rows]
secs = int(sys.argv[2])
warm = [r for r in rows if r[0] > secs // 3]
if len(warm) < 2:
    sys.exit("FAIL: too few samples after the warm-up: %d" % len(warm))
base = warm[0][1]
peak = max(r[1] for r in warm)
bound = max(512, base // 200)  # 0.5 %, at least 512 kB
print("soak: %d s at the replay rate, RSS after warm-up %d kB -> peak %d kB (+%d kB, bound %d kB)"
      % (secs, base, peak, peak - base, bound))
bad = 0
if peak - base > bound:
    print("FAIL: RSS grew by %d kB after the warm-up" % (peak - base)); bad = 1
for a, b in zip(warm, warm[1:]):
    if b[5] <= a[5]:
        print("FAIL: records did not increase between %ds and %ds" % (a[0], b[0])); bad = 1
rates = [(b[5] - a[5]) / (b[0] - a[0]) for a, b in zip(warm, warm[1:])]
print("soak: records/s after warm-up: min %.0f, max %.0f" % (min(rates), max(rates)))
sys.exit(bad)
PY

# The books at exit (--stats): balanced, and no packet dropped at this rate.
books=$(grep '^{"books"' "$TMP/probe.err")
echo "books: $books"
[ "$(echo "$books" | jq -r .books.balanced)" = true ] || fail "books do not balance"
drops=$(echo "$books" | jq '[.books.pkts_dropped[]] | add')
[ "${drops:-1}" -eq 0 ] || fail "$drops packet(s) dropped at $PPS packets/s"
[ -n "${GCP_SOAK_LOG:-}" ] && { column -t "$TMP/table.tsv"; echo "books: $books"; } >"$GCP_SOAK_LOG"
[ "$FAILED" -eq 0 ] && echo "PASS: soak $SECS s at $PPS packets/s"
exit $FAILED
