#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Tap pins and the clsact qdisc (docs/TAPS.md, "Pinning layout"; issue 14):
# two network namespaces with an interface of the same name are tapped at
# once and detached independently (by name, --all, by key from the other
# namespace), with nothing left; older name-keyed pins are reported and
# removable; detach removes the clsact qdisc the tap made, also after the
# attach was SIGKILLed before its meta file existed, and never one that
# was there before or that carries someone else's filter.
# usage: tap_pins.sh GCPROBE
set -u
BIN=$1
skip() { echo "SKIP: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root (netns, BPF)"
"$BIN" tap --help >/dev/null 2>&1 || skip "gcprobe built without eBPF taps (GCP_WITH_BPF=OFF)"
for tool in ip tc nsenter unshare strace bpftool; do
	command -v "$tool" >/dev/null || skip "$tool not installed"
done
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "needs python3 (frames)"

# A private mount namespace with its own bpffs and /run/gcprobe: the
# "nothing left" checks see this test's taps only.
if [ -z "${GCPT_PRIVATE_MNT:-}" ]; then
	GCPT_PRIVATE_MNT=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
PINS=/sys/fs/bpf/gcprobe/tap META=/run/gcprobe/tap
while mountpoint -q /sys/fs/bpf; do umount /sys/fs/bpf || { echo "FAIL: umount /sys/fs/bpf"; exit 1; }; done
mkdir -p /run/gcprobe && mount -t tmpfs gtp-run /run/gcprobe || { echo "FAIL: tmpfs"; exit 1; }

NSA=gtp$$a NSB=gtp$$b DEV=gtpv0 PEER=gtpv1
TMP=$(mktemp -d)
FAIL=0
cleanup() {
	for n in $NSA $NSB; do
		[ -e /run/netns/$n ] && nsenter --net=/run/netns/$n "$BIN" tap detach --all >/dev/null 2>&1
		ip netns del $n 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; FAIL=1; }
T0=$(date +%s.%N)
ok() { [ $FAIL -eq 0 ] && printf 'ok: %s (%.1f s)\n' "$*" "$(echo "$(date +%s.%N) - $T0" | bc)"; }

A() { nsenter --net=/run/netns/$NSA "$@"; } # network namespace only: our bpffs stays visible
B() { nsenter --net=/run/netns/$NSB "$@"; }
ino() { stat -L -c %i /run/netns/$1; }
ifx() { nsenter --net=/run/netns/$1 ip -o link show "$2" | cut -d: -f1; }

# Each namespace: DEV <-> PEER, no addresses, no IPv6, no multicast: only our frames.
for n in $NSA $NSB; do
	ip netns add $n || skip "cannot create network namespaces"
	nsenter --net=/run/netns/$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n $n link add $DEV type veth peer name $PEER || skip "cannot create veth pairs"
	for i in $DEV $PEER; do ip -n $n link set $i multicast off up; done
done
KA=$(ino $NSA):$(ifx $NSA $DEV) KB=$(ino $NSB):$(ifx $NSB $DEV)
[ "$KA" != "$KB" ] || { echo "FAIL: same key $KA in two namespaces"; exit 1; }

# N UDP frames sent on PEER of namespace NS: they reach DEV's ingress.
frames() { # NS N
	nsenter --net=/run/netns/$1 "$PY" - "$PEER" "$2" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((sys.argv[1], 0))
udp = struct.pack("!HHHH", 40000, 7777, 8 + 20, 0) + b"x" * 20
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                 bytes([10, 97, 0, 1]), bytes([10, 97, 0, 2]))
for _ in range(int(sys.argv[2])):
    s.send(b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + udp)
EOF
}
# UDP packets in one drained inventory record of DEV in namespace NS.
udp_pkts() { # NS
	nsenter --net=/run/netns/$1 "$BIN" tap inventory $DEV --interval 1 --count 1 |
		"$PY" -c 'import json,sys; r=json.loads(sys.stdin.readline()); print(sum(p["pkts"] for p in r["protocols"] if p["l4"] == "udp"))'
}
# The kernel frees a program after its last reference drops (deferred
# through RCU), so give it a moment: up to 3 s.
prog_freed() { # ID
	for _ in $(seq 30); do
		bpftool prog show id "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}
prog_ids() { sed -n 's/^prog_ids=//p' "$META/$1.meta" 2>/dev/null | tr ',' ' '; }
# gone NS KEY [IDS]: no clsact, filter, XDP program, pins, state files, loaded programs.
gone() {
	local n=$1 k=$2 id; shift 2
	nsenter --net=/run/netns/$n tc qdisc show dev $DEV | grep -q clsact && fail "$n: clsact qdisc left"
	nsenter --net=/run/netns/$n ip link show dev $DEV | grep -q prog/xdp && fail "$n: XDP program left"
	[ -e "$PINS/$k" ] && fail "$n: pins left: $(ls "$PINS/$k")"
	ls "$META/$k".* >/dev/null 2>&1 && fail "$n: state files left: $(ls "$META/$k".*)"
	for id in "$@"; do
		[ "$id" = 0 ] || prog_freed "$id" || fail "$n: program $id still loaded"
	done
	return 0
}
nothing_left() {
	[ -n "$(ls -A $PINS 2>/dev/null)" ] && fail "pins left: $(ls -A $PINS)"
	[ -n "$(ls -A $META 2>/dev/null)" ] && fail "state files left: $(ls -A $META)"
	return 0
}

# ---- 1. same-named interfaces of two namespaces, tapped at once ----
A "$BIN" tap attach $DEV 2>"$TMP/err" ||
	{ grep -qiE "not permitted|bpffs" "$TMP/err" && skip "BPF unavailable: $(cat "$TMP/err")"; fail "attach in A: $(cat "$TMP/err")"; }
B "$BIN" tap attach $DEV 2>"$TMP/err" || fail "attach in B (same name, other namespace): $(cat "$TMP/err")"
[ -e "$PINS/$KA/tap_cfg" ] && [ -e "$PINS/$KB/tap_cfg" ] && [ -e "$META/$KA.meta" ] && [ -e "$META/$KB.meta" ] ||
	fail "pins/meta not keyed by namespace and ifindex: $(ls $PINS $META 2>&1)"
IDS_A=$(prog_ids $KA) IDS_B=$(prog_ids $KB)
A "$BIN" tap list >"$TMP/list" 2>"$TMP/err"
[ "$(sed -n 1p "$TMP/list")" = "$DEV mode=tc monitor=- policy=none dims=- pkts=0 mirrored=0 overflow=0" ] &&
	[ "$(sed -n 2p "$TMP/list")" = "$DEV mode=tc monitor=- policy=none dims=- pkts=0 mirrored=0 overflow=0 netns=$(ino $NSB) key=$KB" ] &&
	[ "$(wc -l <"$TMP/list")" -eq 2 ] && [ ! -s "$TMP/err" ] || fail "list in A: $(cat "$TMP/list" "$TMP/err")"
frames $NSA 3 && frames $NSB 5
[ "$(udp_pkts $NSA)" = 3 ] || fail "inventory of A's $DEV is not its 3 frames"
[ "$(udp_pkts $NSB)" = 5 ] || fail "inventory of B's $DEV is not its 5 frames"
A "$BIN" tap attach $DEV 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -qx "gcprobe: tap: $DEV: already tapped (gcprobe tap detach $DEV first)" "$TMP/err" ||
	fail "second attach in A: rc $rc: $(cat "$TMP/err")"
ok "two namespaces, one name: both tapped, separate maps"

A "$BIN" tap detach $DEV || fail "detach in A"
gone $NSA $KA $IDS_A
B tc filter show dev $DEV ingress | grep -q tap_tc_ingress || fail "detach in A removed B's filter"
frames $NSB 2
[ "$(udp_pkts $NSB)" = 2 ] || fail "B's tap stopped counting after A's detach"
A "$BIN" tap detach $DEV 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -qx "gcprobe: tap: $DEV: no gcprobe tap (see gcprobe tap list)" "$TMP/err" ||
	fail "detach in A again: rc $rc: $(cat "$TMP/err")"
B "$BIN" tap detach $DEV || fail "detach in B"
gone $NSB $KB $IDS_B
nothing_left
ok "detached one by one, nothing left"

A "$BIN" tap attach $DEV --mode xdp && B "$BIN" tap attach $DEV || fail "attach xdp in A, tc in B"
IDS_A=$(prog_ids $KA) IDS_B=$(prog_ids $KB)
A "$BIN" tap detach --all || fail "detach --all in A"
gone $NSA $KA $IDS_A
[ -e "$PINS/$KB/tap_cfg" ] && B tc filter show dev $DEV ingress | grep -q tap_tc_ingress ||
	fail "detach --all in A removed B's tap"
# From A, by the key `tap list` shows: the detach enters B to unhook.
A "$BIN" tap detach "$KB" || fail "detach $KB from A"
gone $NSB $KB $IDS_B
nothing_left
ok "detach --all is this namespace's; a key detaches another namespace's tap"

# Renamed since attach: listed by its new name, still found by the old one.
A "$BIN" tap attach $DEV || fail "attach in A"
IDS_A=$(prog_ids $KA)
A ip link set $DEV down && A ip link set $DEV name gtpvx && A ip link set gtpvx up || fail "rename"
A "$BIN" tap list | grep -q "^gtpvx mode=tc " || fail "renamed tap not listed by its name: $(A "$BIN" tap list)"
A "$BIN" tap detach $DEV || fail "detach by the name at attach"
A tc filter show dev gtpvx ingress | grep -q tap_tc && fail "filter left on the renamed interface"
A ip link set gtpvx down && A ip link set gtpvx name $DEV && A ip link set $DEV up || fail "rename back"
gone $NSA $KA $IDS_A
nothing_left
ok "a renamed interface's tap: listed by the new name, detached by the old"

# ---- 2. pins of an older gcprobe (keyed by name) ----
mkdir -p "$PINS/$DEV" && bpftool map create "$PINS/$DEV/tap_cfg" type array key 4 value 24 entries 1 name tap_cfg &&
	printf 'dev=%s\nifindex=%s\nmode=tc\nmonitor=\nxdp_flags=0\ntc_created_qdisc=1\nprog_ids=0,0\n' \
		$DEV "$(ifx $NSA $DEV)" >"$META/$DEV.meta" || fail "cannot make name-keyed pins"
A "$BIN" tap list 2>"$TMP/err" >/dev/null
grep -q "^gcprobe: tap: $DEV: tapped by an older gcprobe (pins keyed by name in $PINS/$DEV)" "$TMP/err" ||
	fail "list does not report the name-keyed pins: $(cat "$TMP/err")"
A "$BIN" tap attach $DEV 2>"$TMP/err" && fail "attach over an older tap of the same interface"
grep -q "tapped by an older gcprobe" "$TMP/err" || fail "attach: $(cat "$TMP/err")"
A "$BIN" tap policy $DEV show 2>"$TMP/err" && fail "policy on an older tap"
A "$BIN" tap detach $DEV || fail "detach of the name-keyed pins"
[ -e "$PINS/$DEV" ] || [ -e "$META/$DEV.meta" ] && fail "name-keyed pins left"
nothing_left
ok "older name-keyed pins: reported, refused, removed"

# ---- 3. the clsact qdisc: ours goes, anyone else's stays ----
# SIGKILL at the attach's last step (moving the meta file into place):
# qdisc, filters and pins exist, the meta file does not.
killed_attach() { # NS
	# (a subshell: its shell, not ours, reports the kill, into /dev/null)
	(nsenter --net=/run/netns/$1 strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
		-e inject=rename,renameat,renameat2:signal=KILL "$BIN" tap attach $DEV; exit $?) 2>/dev/null
	[ $? -eq 137 ] || fail "attach was not SIGKILLed"
	[ -e "$META/$KA.meta" ] && fail "meta file exists after the SIGKILL"
	nsenter --net=/run/netns/$1 tc filter show dev $DEV egress | grep -q tap_tc_egress ||
		fail "no tap filter after the SIGKILLed attach"
}
foreign() { # the test's own cBPF filter on clsact ingress (prio 5), as another tool's
	A tc filter show dev $DEV ingress | grep -q "pref 5 bpf .*handle 0x7 .*bytecode '1,6 0 0 0'"
}
killed_attach $NSA
A tc qdisc show dev $DEV | grep -q clsact || fail "no clsact after the SIGKILLed attach"
IDS=$(bpftool prog show pinned "$PINS/$KA/prog_tc_ingress" 2>/dev/null | sed -n 's/^\([0-9]*\):.*/\1/p')
A "$BIN" tap detach $DEV || fail "detach after a SIGKILLed attach"
gone $NSA $KA $IDS
nothing_left
ok "SIGKILLed attach: detach removes our clsact qdisc, filters and pins"

A tc qdisc add dev $DEV clsact && A tc filter add dev $DEV ingress prio 5 handle 7 bpf bytecode "1,6 0 0 0," ||
	fail "cannot add a clsact qdisc with a filter"
A "$BIN" tap attach $DEV && A "$BIN" tap detach $DEV || fail "attach/detach on an existing clsact"
A tc qdisc show dev $DEV | grep -q clsact && foreign || fail "detach removed a clsact qdisc that was there before"
A tc filter show dev $DEV ingress | grep -q tap_tc && fail "tap filter left"
killed_attach $NSA
A "$BIN" tap detach $DEV || fail "detach after a SIGKILLed attach on an existing clsact"
A tc qdisc show dev $DEV | grep -q clsact && foreign ||
	fail "detach after a SIGKILLed attach removed a clsact qdisc that was there before"
A tc qdisc del dev $DEV clsact
A tc qdisc add dev $DEV clsact || fail "cannot add an empty clsact qdisc"
killed_attach $NSA
A "$BIN" tap detach $DEV || fail "detach after a SIGKILLed attach on an existing empty clsact"
A tc qdisc show dev $DEV | grep -q clsact || fail "detach removed an empty clsact qdisc that was there before"
[ -z "$(A tc filter show dev $DEV ingress)$(A tc filter show dev $DEV egress)" ] || fail "filters left"
A tc qdisc del dev $DEV clsact
nothing_left
ok "a clsact qdisc that was there before stays, with its filter (also after a SIGKILLed attach)"

A "$BIN" tap attach $DEV && A tc filter add dev $DEV ingress prio 5 handle 7 bpf bytecode "1,6 0 0 0," ||
	fail "attach, then a filter of someone else on the tap's qdisc"
A "$BIN" tap detach $DEV || fail "detach"
A tc qdisc show dev $DEV | grep -q clsact && foreign || fail "detach removed our qdisc with someone else's filter on it"
A tc filter show dev $DEV ingress | grep -q tap_tc && fail "tap filter left"
A tc qdisc del dev $DEV clsact
nothing_left
ok "our qdisc stays while it carries someone else's filter"

[ $FAIL -eq 0 ] && echo "PASS: tap pins"
exit $FAIL
