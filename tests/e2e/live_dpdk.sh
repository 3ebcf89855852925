#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# DPDK live capture with vdevs: net_pcap reading a capture, and
# net_af_packet / net_af_xdp / net_pcap on a veth pair fed by tcpreplay.
# Records must equal those of `gcprobe --read` on the same file.
# usage: live_dpdk.sh GCPROBE CORPUS_DIR
set -u
BIN=$1 CORPUS=$2
. "$(dirname "$0")/live_lib.sh"
"$BIN" --help | grep -q -- --dpdk || skip "gcprobe built without DPDK (GCP_WITH_DPDK=OFF)"
live_require
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
EAL="--no-huge -m 512 --no-pci -l 0 --log-level=lib.eal:warning"
READY_RE='DPDK port 0'
FAIL=0 seq=0

# Is DPDK usable here at all (EAL init without hugepages)?
f0="$CORPUS/http/zeek-http-methods.pcap"
if ! "$BIN" --dpdk "$EAL --file-prefix gcpt$$x --vdev=net_null0" --duration 1 >/dev/null 2>"$TMP/eal.err"; then
	grep -q "EAL init" "$TMP/eal.err" && skip "DPDK EAL cannot start here: $(grep -m1 error "$TMP/eal.err")"
	echo "FAIL: DPDK net_null:"; cat "$TMP/eal.err"; exit 1
fi

# net_pcap reading the file itself: exact packet count, no namespaces needed.
pcap_case() {
	local f=$1; shift
	seq=$((seq + 1))
	local n; n=$("$BIN" --read "$f" --stats 2>&1 >"$TMP/ref.json" | grep '^{"pkts"' | jq -r .pkts)
	if [ -n "${REF_LIVE:-}" ]; then
		# Reference: the same live run with one worker (this capture has
		# timing-dependent records: with live timestamps, repeated mDNS
		# queries seconds apart in the file arrive together).
		timeout 60 "$BIN" --dpdk "$EAL --file-prefix gcpt$$_r$seq --vdev=net_pcap0,rx_pcap=$f" \
			--count "$n" >"$TMP/ref.json" 2>"$TMP/ref.err" || { echo "FAIL: reference run"; FAIL=1; }
	fi
	if ! timeout 60 "$BIN" --dpdk "$EAL --file-prefix gcpt$$_$seq --vdev=net_pcap0,rx_pcap=$f" \
		--count "$n" --stats "$@" >"$TMP/dp.json" 2>"$TMP/dp.err"; then
		echo "FAIL: net_pcap $*: $(basename "$f"):"; grep -v '^EAL' "$TMP/dp.err"; FAIL=1; return
	fi
	if cmp -s <(live_norm "$TMP/ref.json") <(live_norm "$TMP/dp.json"); then
		echo "ok: net_pcap,rx_pcap $*: $(basename "$f"): $n packets, $(wc -l <"$TMP/ref.json") records equal to ${REF_LIVE:+the 1-worker run, not }--read"
	else
		echo "FAIL: net_pcap,rx_pcap $*: $(basename "$f"): records differ:"
		diff <(live_norm "$TMP/ref.json") <(live_norm "$TMP/dp.json") | head -6 | cut -c1-300
		FAIL=1
	fi
}
for c in $LIVE_CASES; do
	pcap_case "$CORPUS/$c"
done
REF_LIVE=1 pcap_case "$CORPUS/mixed/zeek-var-services-std-ports.pcap" --workers 3
pcap_case "$CORPUS/ipv6/arkime-ipv6-http.pcap" --workers 2

# vdevs on a veth pair in namespaces, fed by tcpreplay from the peer.
rm -rf "$TMP"
live_netns
dq() { seq=$((seq + 1)); echo "$EAL --file-prefix gcpt$$_$seq --vdev=$1"; }
for c in http/zeek-http-methods.pcap dns/tcpdump-dns-edns-opts.pcap frag/zeek-ipv6-fragmented-dns.pcap \
	 mail/zeek-smtp-starttls.pcap; do
	live_case af_packet "$CORPUS/$c" -- --dpdk "$(dq net_af_packet0,iface=veth0)"
done
for c in http/zeek-http-methods.pcap encap/zeek-gre-dns.pcap; do
	live_case af_xdp "$CORPUS/$c" -- --dpdk "$(dq net_af_xdp0,iface=veth0,start_queue=0,queue_count=1)"
	# libpcap's socket buffer is small: slower, so a loaded machine does not drop
	PPS=300 live_case pcap_iface "$CORPUS/$c" -- --dpdk "$(dq net_pcap0,iface=veth0)"
done
live_case af_packet_workers2 "$CORPUS/ipv6/arkime-ipv6-http.pcap" -- \
	--dpdk "$(dq net_af_packet0,iface=veth0)" --workers 2

[ "$FAIL" -eq 0 ] && echo "PASS: DPDK live capture"
exit $FAIL
