# SPDX-License-Identifier: BSD-3-Clause
# Shared by live_afxdp.sh and live_dpdk.sh: a veth pair between two
# network namespaces made here, replay with tcpreplay, record compare.
# Sourced; expects BIN (gcprobe) and CORPUS.

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

NS_A="gcpt_a$$" NS_B="gcpt_b$$"
live_cleanup() {
	[ -n "${PROBE_PID:-}" ] && kill "$PROBE_PID" 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$TMP"
}

# Probe side: veth0 in NS_A; sender: veth1 in NS_B. No addresses and no
# IPv6 on the link, so only replayed frames cross it (no ND, no ARP).
live_netns() {
	TMP=$(mktemp -d)
	trap live_cleanup EXIT
	ip netns add "$NS_A" 2>"$TMP/err" || skip "cannot create network namespace: $(cat "$TMP/err")"
	ip netns add "$NS_B" || skip "cannot create network namespace"
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	done
	ip link add veth0 netns "$NS_A" type veth peer name veth1 netns "$NS_B" 2>"$TMP/err" ||
		skip "cannot create a veth pair: $(cat "$TMP/err")"
	ip -n "$NS_A" link set veth0 up && ip -n "$NS_B" link set veth1 up || skip "veth up failed"
	# The probe side drops what it is sent (no addresses): nothing answers.
}

# Fields that depend on when packets arrive, not on their content:
# capture times, durations, the per-window connection count, flow ids.
live_norm() {
	jq -c 'del(.ts, .ingest_ts, .flow_id, .duration, .conn_count, .rtt, .rtt_ms, .latency, .latency_ms, .response_time)' "$1" | LC_ALL=C sort
}

# live_start NAME -- ARGS...: gcprobe in NS_A (bpffs mounted: `ip netns
# exec` hides the host's), records to $TMP/NAME.json; waits for READY_RE.
live_start() {
	local name=$1; shift
	ip netns exec "$NS_A" sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"' sh \
		"$BIN" "$@" --stats >"$TMP/$name.json" 2>"$TMP/$name.err" &
	PROBE_PID=$!
	for _ in $(seq 100); do
		grep -qE "$READY_RE" "$TMP/$name.err" 2>/dev/null && { sleep 0.3; return 0; }
		kill -0 "$PROBE_PID" 2>/dev/null || { wait "$PROBE_PID"; return 1; }
		sleep 0.1
	done
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
	ip netns exec "$NS_B" tcpreplay -q -i veth1 --pps "${PPS:-2000}" "$1" >"$TMP/replay.log" 2>&1
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
