# SPDX-License-Identifier: BSD-3-Clause
# Shared by the live end-to-end tests (live_afxdp, live_dpdk, soak, books,
# sighup): a veth pair between two network namespaces made here, a chained
# cleanup, replay with tcpreplay, record compare. Sourced; expects BIN
# (gcprobe) and, for live_require and the cases, CORPUS.

# Captures used: Ethernet, every frame <= 1514 bytes (fits the veth MTU),
# covering HTTP, DNS (UDP, TCP), IPv4 fragments, GRE, VLAN, FTP, SMTP, TCP retransmits, IPv6.
LIVE_CASES="http/zeek-http-methods.pcap dns/tcpdump-dns-edns-opts.pcap dns/tcpdump-dns-tcp.pcap
frag/zeek-ipv6-fragmented-dns.pcap frag/zeek-ipv4-fragmented-3.pcap encap/zeek-gre-dns.pcap dns/zeek-dns-notify-vlan.pcap
ftp/zeek-ftp-ipv4-pasv-port.pcap mail/zeek-smtp-starttls.pcap tcp/zeek-tcp-reassembly-retrans.pcap
ipv6/arkime-ipv6-http.pcap"

skip() { echo "SKIP: $*"; exit 0; }

live_require() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
	command -v ip >/dev/null || skip "iproute2 (ip) not installed"
	command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
	command -v jq >/dev/null || skip "jq not installed"
	[ -d "$CORPUS" ] || skip "no corpus at $CORPUS"
}

# Cleanup at exit, chained: live_at_exit CMD adds CMD (a string, run with
# eval) to what live_cleanup runs, last added first; then the probe, the
# namespaces and TMP go. live_tmp makes TMP (unless it exists) and sets
# the trap; every script that sources this file leaves its EXIT trap here.
LIVE_AT_EXIT=()
live_at_exit() { LIVE_AT_EXIT+=("$*"); }
live_cleanup() {
	local i
	for ((i = ${#LIVE_AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${LIVE_AT_EXIT[i]}"
	done
	[ -n "${PROBE_PID:-}" ] && kill "$PROBE_PID" 2>/dev/null
	[ -n "${NS_A:-}" ] && ip netns del "$NS_A" 2>/dev/null
	[ -n "${NS_B:-}" ] && ip netns del "$NS_B" 2>/dev/null
	rm -rf "${TMP:-}"
}
live_tmp() {
	[ -d "${TMP:-}" ] || TMP=$(mktemp -d)
	trap live_cleanup EXIT
}

# live_netns [PREFIX [DEV_A DEV_B]]: namespaces NS_A=PREFIX_a<pid> (the
# probe's side, veth DEV_A) and NS_B=PREFIX_b<pid> (the sender, DEV_B);
# defaults gcpt, veth0, veth1. No addresses and no IPv6 on the link, so
# only replayed frames cross it (no ND, no ARP). Skips where it cannot.
# "${IN_A[@]}" CMD runs CMD in NS_A with a bpffs of its own (`ip netns
# exec` hides the host's); started with &, $! is CMD's own pid.
live_netns() {
	NS_A="${1:-gcpt}_a$$" NS_B="${1:-gcpt}_b$$" DEV_A=${2:-veth0} DEV_B=${3:-veth1}
	IN_A=(ip netns exec "$NS_A" sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"' sh)
	live_tmp
	ip netns add "$NS_A" 2>"$TMP/err" || skip "cannot create network namespace: $(cat "$TMP/err")"
	ip netns add "$NS_B" || skip "cannot create network namespace"
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	done
	ip link add "$DEV_A" netns "$NS_A" type veth peer name "$DEV_B" netns "$NS_B" 2>"$TMP/err" ||
		skip "cannot create a veth pair: $(cat "$TMP/err")"
	ip -n "$NS_A" link set "$DEV_A" up && ip -n "$NS_B" link set "$DEV_B" up || skip "veth up failed"
	# The probe side drops what it is sent (no addresses): nothing answers.
}

# live_wait_for RE FILE PID: 0 once FILE has a line matching RE (ERE); 1
# when PID is gone without it, or after 10 s.
live_wait_for() {
	for _ in $(seq 100); do
		grep -qE "$1" "$2" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -qE "$1" "$2" 2>/dev/null; return; }
		sleep 0.1
	done
	return 1
}

# Fields that depend on when packets arrive, not on their content:
# capture times, durations, the per-window connection count, flow ids.
live_norm() {
	jq -c 'del(.ts, .ingest_ts, .flow_id, .control_flow_id, .duration, .conn_count, .rtt, .rtt_ms, .latency, .latency_ms, .response_time)' "$1" | LC_ALL=C sort
}

# live_start NAME -- ARGS...: gcprobe in NS_A (IN_A), records to
# $TMP/NAME.json; waits for READY_RE.
live_start() {
	local name=$1; shift
	"${IN_A[@]}" "$BIN" "$@" --stats >"$TMP/$name.json" 2>"$TMP/$name.err" &
	PROBE_PID=$!
	live_wait_for "$READY_RE" "$TMP/$name.err" "$PROBE_PID" && { sleep 0.3; return 0; }
	kill -0 "$PROBE_PID" 2>/dev/null || wait "$PROBE_PID"
	return 1
}

# live_stop: SIGINT once the replay has drained; returns gcprobe's status.
live_stop() {
	sleep 1
	kill -INT "$PROBE_PID" 2>/dev/null
	wait "$PROBE_PID"; local rc=$?
	PROBE_PID=
	return $rc
}

live_replay() {
	ip netns exec "$NS_B" tcpreplay -q -i "$DEV_B" --pps "${PPS:-2000}" "$1" >"$TMP/replay.log" 2>&1
}

# live_case NAME FILE -- ARGS: replay FILE to a probe started with ARGS,
# compare with --read FILE. Sets FAIL=1 on a difference.
live_case() {
	local name=$1 f=$2; shift 3
	local n; n=$("$BIN" --read "$f" --stats 2>&1 >"$TMP/ref.json" | jq -r 'select(.pkts) | .pkts')
	if ! live_start "$name" "$@"; then
		echo "FAIL: $name: gcprobe did not start:"; cat "$TMP/$name.err"; FAIL=1; return
	fi
	live_replay "$f" || { echo "FAIL: $name: tcpreplay:"; cat "$TMP/replay.log"; FAIL=1; }
	if ! live_stop; then
		echo "FAIL: $name: gcprobe exited with an error:"; cat "$TMP/$name.err"; FAIL=1; return
	fi
	local got; got=$(grep '^{"pkts"' "$TMP/$name.err" | jq -r .pkts)
	if [ "$got" != "$n" ]; then
		echo "FAIL: $name: $(basename "$f"): engine saw ${got:-?} packets, file has $n"
		grep capture "$TMP/$name.err"; FAIL=1
	fi
	if cmp -s <(live_norm "$TMP/ref.json") <(live_norm "$TMP/$name.json"); then
		echo "ok: $name: $(basename "$f"): $n packets, $(wc -l <"$TMP/ref.json") records equal to --read"
	else
		echo "FAIL: $name: $(basename "$f"): records differ from --read:"
		diff <(live_norm "$TMP/ref.json") <(live_norm "$TMP/$name.json") | head -6 | cut -c1-300
		FAIL=1
	fi
}
