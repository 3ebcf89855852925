#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# No-loss books with a stalled sink: gcprobe writes to a unix-socket sink
# whose peer reads a little then stops (its bounded queue fills) and to a
# file sink beside it. The books (--stats, and the final stats record)
# must balance exactly: received = processed + dropped (per reason);
# produced = to sinks + lost; for every sink written + dropped_full +
# dropped_error = to sinks. The stalled sink has dropped_full > 0, the
# file sink none, and its file decodes to exactly `written` records.
# Runs: --read with --workers 2 (and with --count), then live AF_XDP on a
# veth with tcpreplay at a rate, flat out into a small UMEM (kernel drops),
# and frames left in the RX ring at SIGTERM (processed, not lost).
# usage: books_e2e.sh GCPROBE MPCHECK SRC_DIR CORPUS_DIR
set -u
BIN=$1 MPCHECK=$2 SRC=$3
. "$(dirname "$0")/live_lib.sh"
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
for c in jq python3; do command -v $c >/dev/null || skip "$c not installed"; done

live_tmp
STALL_PID=
live_at_exit '[ -n "$STALL_PID" ] && kill "$STALL_PID" 2>/dev/null'
python3 "$SRC/data/mkdemo.py" "$TMP/big.pcap" 5000   # 100000 packets, 25000 records
python3 "$SRC/data/mkdemo.py" "$TMP/live.pcap" 1000  # 20000 packets

# The stalled peer: accepts, reads 64 KiB, then never reads again.
stall_start() {
	rm -f "$TMP/sock" "$TMP/stalled"
	python3 - "$TMP/sock" "$TMP/stalled" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
c, _ = s.accept()
got = 0
while got < 65536:
    b = c.recv(65536 - got)
    if not b:
        break
    got += len(b)
open(sys.argv[2], "w").write(str(got))
time.sleep(600)
PY
	STALL_PID=$!
	for _ in $(seq 50); do [ -S "$TMP/sock" ] && return; sleep 0.1; done
}
stall_stop() { kill "$STALL_PID" 2>/dev/null; wait "$STALL_PID" 2>/dev/null; STALL_PID=; }

# Sinks of run NAME: the stalled socket, a msgpack file, a JSON file.
sinks() {
	SK=(--sink "unix:$TMP/sock?queue_bytes=65536&close_ms=300"
	    --sink "file:$TMP/$1.mp?format=msgpack&exists=truncate"
	    --sink "file:$TMP/$1.json?format=json&exists=truncate")
}

# check NAME [EXPECT_RECEIVED [STALL_FULL]]: the books of $TMP/NAME.err and
# the files of run NAME; STALL_FULL=no when too few records to fill the queue.
check() {
	local name=$1 want=${2:-} full=${3:-yes} books
	books=$(grep '^{"books"' "$TMP/$name.err") || { fail "$name: no books line"; cat "$TMP/$name.err"; return; }
	echo "$name: $books"
	echo "$books" | jq -e '.books | .balanced
		and .pkts_received == .pkts_processed + ([.pkts_dropped[]] | add)
		and .records_produced == .records_to_sinks + .records_lost.no_memory
		and all(.sinks[]; .written + .dropped_full + .dropped_error == $b.books.records_to_sinks
			and .queued == 0)' --argjson b "$books" >/dev/null ||
		fail "$name: books do not balance"
	[ "$full" = no ] || echo "$books" | jq -e '.books.sinks[0].dropped_full > 0 and .books.sinks[0].written > 0' >/dev/null ||
		fail "$name: the stalled sink should have written some and dropped_full > 0"
	echo "$books" | jq -e '.books.sinks[1:] | all(.dropped_full == 0 and .dropped_error == 0)' >/dev/null ||
		fail "$name: a file sink lost records"
	[ -z "$want" ] || [ "$(echo "$books" | jq .books.pkts_received)" -eq "$want" ] ||
		fail "$name: received $(echo "$books" | jq .books.pkts_received), the capture has $want"
	local chk n w
	chk=$("$MPCHECK" "$TMP/$name.mp") || fail "$name: file sink output: $chk"
	n=$(echo "$chk" | jq .records)
	w=$(echo "$books" | jq .books.sinks[1].written)
	[ "$n" -eq "$w" ] && [ "$(echo "$chk" | jq .torn_tail)" -eq 0 ] ||
		fail "$name: file holds $n records ($chk), sink says written $w"
	# The final stats record carries the books as they stood then (the
	# stalled sink may still hold records: queued).
	[ "$(jq -c 'select(.type == "stats" and .final)' "$TMP/$name.json" | wc -l)" -eq 1 ] ||
		fail "$name: not one final stats record"
	jq -e 'select(.type == "stats" and .final) | .books | .balanced
		and .pkts_received == .pkts_processed + ([.pkts_dropped[]] | add)
		and all(.sinks[]; .written + .dropped_full + .dropped_error + .queued
			== $p.records_to_sinks)' --argjson p "$(jq -c 'select(.type == "stats" and .final) | .books' "$TMP/$name.json")" \
		"$TMP/$name.json" >/dev/null || fail "$name: final stats record's books do not balance"
}

# 1. Capture file, two workers (software distributor).
stall_start
sinks file2
"$BIN" --read "$TMP/big.pcap" --workers 2 --types tcp,http,dns,stats --stats "${SK[@]}" \
	>/dev/null 2>"$TMP/file2.err" || fail "file2: exit $?: $(cat "$TMP/file2.err")"
stall_stop
check file2 100000

# 2. Same with --count: the packets read past the limit are dropped with a reason.
stall_start
sinks count
"$BIN" --read "$TMP/big.pcap" --workers 2 --count 30000 --types tcp,http,dns,stats --stats \
	"${SK[@]}" >/dev/null 2>"$TMP/count.err" || fail "count: exit $?"
stall_stop
check count
grep '^{"books"' "$TMP/count.err" |
	jq -e '.books.pkts_processed == 30000 and .books.pkts_dropped.count_limit > 0' >/dev/null || fail "count: processed != 30000 or no count_limit drop"

# 3. Live AF_XDP on a veth (root, namespaces, XDP): at a rate, then flat out.
if [ "$(id -u)" -ne 0 ] || ! command -v tcpreplay >/dev/null || ! "$BIN" --help | grep -q -- --iface; then
	echo "books: live part not run (needs root, tcpreplay and AF_XDP)"
	[ "$FAILED" -eq 0 ] && echo "PASS: books balance (capture file)"
	exit $FAILED
fi
live_netns gbook bk0 bk1

# live NAME TCPREPLAY_RATE_ARGS EXPECT_RECEIVED STALL_FULL -- GCPROBE_ARGS
live() {
	local name=$1 rate=$2 want=$3 full=$4; shift 5
	stall_start
	sinks "$name"
	"${IN_A[@]}" "$BIN" --iface "$DEV_A" --xdp-mode copy --types tcp,http,dns,stats --stats \
		"$@" "${SK[@]}" >/dev/null 2>"$TMP/$name.err" &
	local pid=$!
	live_wait_for "AF_XDP .* mode" "$TMP/$name.err" $pid ||
		{ kill -KILL $pid; stall_stop; skip "AF_XDP unavailable: $(head -3 "$TMP/$name.err")"; }
	ip netns exec "$NS_B" tcpreplay -q -T nano -i "$DEV_B" $rate "$TMP/live.pcap" >"$TMP/replay.log" 2>&1 ||
		fail "$name: tcpreplay: $(cat "$TMP/replay.log")"
	sleep 0.5
	kill -INT $pid
	wait $pid || fail "$name: exit $?: $(cat "$TMP/$name.err")"
	stall_stop
	check "$name" "$want" "$full"
}
# At a rate every frame sent reaches the probe; flat out into 64 UMEM
# frames most are dropped by the kernel (XDP_STATISTICS), and counted.
live live_rate "--pps 10000" 20000 yes -- --workers 2
live live_flat "--topspeed" "" no -- --workers 2 --umem-frames 64
grep '^{"books"' "$TMP/live_flat.err" | jq -e '.books | .pkts_dropped.kernel + .pkts_dropped.rx_ring_full > 0
	and .pkts_received <= 20000' >/dev/null || fail "live_flat: no kernel drop counted, or more received than sent"

# Packets the kernel already put in the RX ring when the stop signal comes
# were captured: they are processed, not lost. The probe is frozen
# (SIGSTOP) while 1000 frames arrive, then gets SIGTERM and resumes.
python3 "$SRC/data/mkdemo.py" "$TMP/ring.pcap" 50   # 1000 packets
rm -f "$TMP/ring.json"
"${IN_A[@]}" "$BIN" --iface "$DEV_A" --xdp-mode copy --types tcp,http,dns --stats \
	-o "$TMP/ring.json" 2>"$TMP/ring.err" &
pid=$!
live_wait_for "AF_XDP .* mode" "$TMP/ring.err" $pid
kill -STOP $pid
ip netns exec "$NS_B" tcpreplay -q -i "$DEV_B" --pps 5000 "$TMP/ring.pcap" >/dev/null 2>&1
sleep 0.3
kill -TERM $pid
kill -CONT $pid
wait $pid || fail "ring: exit $?: $(cat "$TMP/ring.err")"
books=$(grep '^{"books"' "$TMP/ring.err")
echo "ring: $books"
echo "$books" | jq -e '.books | .balanced and .pkts_received == 1000 and .pkts_processed == 1000' \
	>/dev/null || fail "ring: frames queued in the RX ring at SIGTERM were not all processed"

[ "$FAILED" -eq 0 ] && echo "PASS: books balance with a stalled sink (file, --count, live AF_XDP, ring at stop)"
exit $FAILED
