#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# AF_XDP live capture on a veth pair: tcpreplay'd corpus captures give the
# records of `gcprobe --read` on the same file; zero-copy on veth fails
# loudly; several workers give the same records.
# usage: live_afxdp.sh GCPROBE CORPUS_DIR
set -u
BIN=$1 CORPUS=$2
. "$(dirname "$0")/live_lib.sh"
"$BIN" --help | grep -q -- --iface || skip "gcprobe built without AF_XDP (GCP_WITH_AFXDP=OFF)"
live_require
live_netns
READY_RE='AF_XDP (copy|zero-copy) mode'
FAIL=0

# Can this kernel run XDP and AF_XDP here at all? (BPF may be locked down.)
if ! live_start probe --iface veth0 --duration 1; then
	if grep -qiE "not permitted|not implemented|not supported|No such file" "$TMP/probe.err"; then
		skip "AF_XDP/BPF unavailable: $(grep -m1 error "$TMP/probe.err")"
	fi
	echo "FAIL: gcprobe --iface did not start:"; cat "$TMP/probe.err"; exit 1
fi
wait "$PROBE_PID"; PROBE_PID=
grep -h "info:" "$TMP/probe.err"

# zc on veth: an explicit error, never a silent fallback to copy.
if ip netns exec "$NS_A" "$BIN" --iface veth0 --xdp-mode zc --duration 1 >/dev/null 2>"$TMP/zc.err"; then
	if grep -q "zero-copy mode" "$TMP/zc.err"; then
		echo "ok: zero-copy available on veth0 (driver has it)"
	else
		echo "FAIL: --xdp-mode zc succeeded without zero-copy:"; cat "$TMP/zc.err"; FAIL=1
	fi
elif grep -q "zero-copy AF_XDP is not supported" "$TMP/zc.err"; then
	echo "ok: --xdp-mode zc refused: $(grep error "$TMP/zc.err")"
else
	echo "FAIL: --xdp-mode zc: unclear error:"; cat "$TMP/zc.err"; FAIL=1
fi

for c in $LIVE_CASES; do
	live_case copy "$CORPUS/$c" -- --iface veth0 --xdp-mode copy
done
live_case generic "$CORPUS/http/zeek-http-methods.pcap" -- --iface veth0 --xdp-attach generic
live_case workers3 "$CORPUS/mail/zeek-smtp-starttls.pcap" -- --iface veth0 --workers 3
live_case workers3 "$CORPUS/ipv6/arkime-ipv6-http.pcap" -- --iface veth0 --workers 3
live_case busypoll "$CORPUS/dns/tcpdump-dns-edns-opts.pcap" -- --iface veth0 --busy-poll

[ "$FAIL" -eq 0 ] && echo "PASS: AF_XDP live capture"
exit $FAIL
