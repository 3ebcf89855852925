#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Attack traffic end to end: for each adversarial capture made by
# gcp_attack (bench/gen/attack.c), gcprobe with small caps must
#  - stay within its memory budget: max RSS <= RSS on an empty capture
#    + the engine's mem_budget (from --stats);
#  - raise the counter that the attack targets;
#  - spend at most 2x the CPU per packet of normal traffic (gcp_gen
#    enterprise profile; user+sys, best of GCP_ATTACK_RUNS runs that
#    alternate with runs of the normal capture, less the empty
#    capture's start-up time);
#  - still write the record of every legitimate HTTP transaction and DNS
#    query interleaved through the attack.
# Prints one table row per attack. Sizes (env): GCP_ATTACK_PKTS (100000
# packets per attack), GCP_TINY_PKTS (300000 one-packet flows; 1000000
# for the full "millions of tiny flows" run), GCP_ATTACK_RUNS (3).
# usage: attack_e2e.sh GCPROBE GCP_ATTACK GCP_GEN
set -euo pipefail

PROBE=${1:?usage: attack_e2e.sh GCPROBE GCP_ATTACK GCP_GEN}
ATTACK=${2:?gcp_attack path}
GEN=${3:?gcp_gen path}
PKTS=${GCP_ATTACK_PKTS:-100000}
TINY=${GCP_TINY_PKTS:-300000}
RUNS=${GCP_ATTACK_RUNS:-3}
LEGIT=600 # sessions: 300 HTTP (even ids) + 300 DNS (odd ids)
MAX_FLOWS=16384
SEED=${GCP_ATTACK_SEED:-7}

for t in "$PROBE" "$ATTACK" "$GEN"; do
	[ -x "$t" ] || { echo "attack_e2e: error: $t is not executable" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "attack_e2e: error: /usr/bin/time (Debian package time) is missing" >&2; exit 2; }

W=$(mktemp -d /tmp/gcp_attack.XXXXXX)
trap 'rm -rf "$W"' EXIT

# Caps small enough that every attack reaches the one it aims at.
cat >"$W/limits.conf" <<'EOF'
[limits]
reasm_total_bytes = 4M
max_frag_datagrams = 256
app_mem_bytes = 32M
hs_streams = 1024
EOF

fail=0
bad() { echo "FAIL: $*"; fail=1; }

# stat NAME FILE: a counter from the --stats line.
stat() { grep -o "\"$1\":[0-9]*" "$2" | head -1 | cut -d: -f2; }

# once NAME PCAP: one run; sets T (user+sys, ms) and M (max RSS, KiB).
# Records and stats stay in $W/NAME.json and $W/NAME.stats. A failed run
# ends the test.
once() {
	local name=$1 pcap=$2 u s
	if ! /usr/bin/time -f "TIME %U %S %M" -o "$W/$name.time" \
		"$PROBE" --config "$W/limits.conf" --read "$pcap" --max-flows $MAX_FLOWS \
		--stats >"$W/$name.json" 2>"$W/$name.stats"; then
		echo "FAIL: $name: gcprobe exited non-zero: $(head -c 300 "$W/$name.stats")"
		exit 1
	fi
	read -r _ u s M < <(grep '^TIME' "$W/$name.time")
	T=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1000 + 0.5 }')
}

# run NAME PCAP [REF REFPCAP]: RUNS runs; sets MS (best T) and RSS (highest
# M). With a reference, its runs alternate with NAME's (REF_MS: its best),
# so that load from elsewhere on the machine hits both alike.
run() {
	local i
	MS=999999999 RSS=0 REF_MS=999999999
	for ((i = 0; i < RUNS; i++)); do
		if [ $# -gt 2 ]; then
			once "$3" "$4"
			((T < REF_MS)) && REF_MS=$T
		fi
		once "$1" "$2"
		((T < MS)) && MS=$T
		((M > RSS)) && RSS=$M
	done
	return 0
}

# Captures: normal traffic, an empty one (baseline RSS), the attacks.
"$GEN" --profile enterprise --packets "$PKTS" --seed 1 --out "$W/normal.pcap" >/dev/null
head -c 24 "$W/normal.pcap" >"$W/empty.pcap"
ATTACKS="synflood fragflood overlap ooo httphuge dnsloop tinyflows"
for a in $ATTACKS; do
	n=$PKTS
	[ "$a" = tinyflows ] && n=$TINY
	"$ATTACK" --attack "$a" --packets "$n" --legit $LEGIT --seed "$SEED" \
		--out "$W/$a.pcap" >/dev/null
done

# Start-up (Hyperscan database, table set-up) is not per-packet work:
# the empty capture's CPU time is taken off every run.
run empty "$W/empty.pcap"
base_rss=$RSS
base_ms=$MS
run normal "$W/normal.pcap"
norm_ms=$((MS > base_ms ? MS - base_ms : 1))
norm_rss=$RSS
norm_pkts=$(stat pkts "$W/normal.stats")
norm_ns=$((norm_ms * 1000000 / norm_pkts))
budget=$(stat mem_budget "$W/empty.stats")
[ "${budget:-0}" -gt 0 ] || { echo "attack_e2e: error: no mem_budget in --stats" >&2; exit 1; }
limit_kb=$((base_rss + budget / 1024))

# The counter each attack must raise.
declare -A COUNTER=(
	[synflood]=flows_evicted [fragflood]=frags_dropped [overlap]=frags_overlap
	[ooo]=reasm_limit_hits [httphuge]=dissector_errors [dnsloop]=dissector_errors
	[tinyflows]=flows_evicted)

FMT='%-10s %8s %10s %10s %-17s %10s %8s %8s %6s %8s\n'
printf "$FMT" attack pkts "maxRSS KiB" "limit KiB" counter value "ns/pkt" "normal" ratio legit
printf "$FMT" normal "$norm_pkts" "$norm_rss" "$limit_kb" - - "$norm_ns" "$norm_ns" 1.00 -
for a in $ATTACKS; do
	run "$a" "$W/$a.pcap" normal "$W/normal.pcap"
	ms=$((MS > base_ms ? MS - base_ms : 0))
	norm_ms=$((REF_MS > base_ms ? REF_MS - base_ms : 1))
	norm_ns=$((norm_ms * 1000000 / norm_pkts))
	rss=$RSS
	st="$W/$a.stats"
	pkts=$(stat pkts "$st")
	ns=$((ms * 1000000 / pkts))
	ratio=$(awk -v a="$ns" -v b="$norm_ns" 'BEGIN { printf "%.2f", a / b }')
	c=${COUNTER[$a]}
	cv=$(stat "$c" "$st")
	http=$(grep '"type":"http"' "$W/$a.json" | grep -o '"host":"legit-[0-9]*[02468]\.example"' |
		sort -u | wc -l)
	dns=$(grep '"type":"dns"' "$W/$a.json" | grep -o '"qname":"legit-[0-9]*[13579]\.example"' |
		sort -u | wc -l)
	found=$((http + dns))
	printf "$FMT" "$a" "$pkts" "$rss" "$limit_kb" "$c" "$cv" "$ns" "$norm_ns" "$ratio" \
		"$found/$LEGIT"
	((rss <= limit_kb)) || bad "$a: max RSS $rss KiB > empty-capture RSS $base_rss + budget $((budget / 1024)) KiB"
	((cv > 0)) || bad "$a: $c did not rise"
	awk -v r="$ratio" 'BEGIN { exit !(r <= 2.0) }' || bad "$a: $ns ns/pkt is $ratio x normal ($norm_ns)"
	((found == LEGIT)) || bad "$a: $found of $LEGIT legitimate records (http $http, dns $dns)"
	((pkts >= 100000 || PKTS < 100000)) || bad "$a: only $pkts packets"
done
mem_hits=$(stat mem_limit_hits "$W/ooo.stats")
echo "ooo: mem_limit_hits=$mem_hits (reassembly pool refusals turned into gaps)"

# The application pool's cap holds when it is what runs out: one-packet
# flows each keep probe bytes; with 1 MiB the pool refuses (counted) and
# RSS stays under that engine's own budget. Legitimate records are lost
# here by design (no memory for their state), so they are not checked.
sed -i 's/^app_mem_bytes = .*/app_mem_bytes = 1M/' "$W/limits.conf"
run starved_empty "$W/empty.pcap"
s_base=$RSS
run starved "$W/tinyflows.pcap"
s_budget=$(stat mem_budget "$W/starved.stats")
s_hits=$(stat mem_limit_hits "$W/starved.stats")
s_limit=$((s_base + s_budget / 1024))
echo "tinyflows with app_mem_bytes=1M: max RSS $RSS KiB, limit $s_limit KiB, mem_limit_hits $s_hits"
((RSS <= s_limit)) || bad "starved: max RSS $RSS KiB > $s_limit KiB"
((s_hits > 0)) || bad "starved: mem_limit_hits did not rise"
[ "$fail" = 0 ] && echo "attack_e2e: OK (budget $budget bytes, baseline RSS $base_rss KiB)"
exit $fail
