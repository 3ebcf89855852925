#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `gcprobe tap` on veth pairs in namespaces made here: attach/list/policy/
# inventory/detach with exact counts, runtime policy changes, a --tap run
# ended by SIGTERM leaves nothing attached, and an xdp tap feeds
# `gcprobe --iface` through its xsks map (no libxdp program).
# usage: tap_cli.sh GCPROBE
set -u
BIN=$1
skip() { echo "SKIP: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root (netns, BPF)"
"$BIN" tap --help >/dev/null 2>&1 || skip "gcprobe built without eBPF taps (GCP_WITH_BPF=OFF)"
# The system interpreter: a version-manager shim costs seconds per start.
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "needs python3 (traffic generator)"

# Pins are global (/sys/fs/bpf/gcprobe/tap/NETNS:IFINDEX, the network
# namespace's inode and the interface's index): names carry the pid anyway.
ID=$$
NS_H=gtc${ID}h NS_A=gtc${ID}a NS_B=gtc${ID}b
TAPDEV=gtc${ID}t MON0=gtc${ID}m MON1=gtc${ID}n PEERB=gtc${ID}p
TMP=$(mktemp -d)
PIDS=""
FAIL=0

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for d in "$TAPDEV" "$MON1"; do
		nsenter --net=/run/netns/$NS_H "$BIN" tap detach "$d" >/dev/null 2>&1
	done
	for n in $NS_H $NS_A $NS_B; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

FAILS=0 SEEN=0
fail() { echo "FAIL: $*"; FAIL=1; FAILS=$((FAILS + 1)); }
T0=$(date +%s.%N)
ok() { [ $FAILS -eq $SEEN ] && printf 'ok: %s (%.1f s)\n' "$*" "$(echo "$(date +%s.%N) - $T0" | bc)"; SEEN=$FAILS; }
H() { nsenter --net=/run/netns/$NS_H "$@"; }   # network namespace only: bpffs stays visible
G() { H "$BIN" "$@"; }
# Pin directory name of DEV in H (docs/TAPS.md, "Pinning layout").
key() { echo "$(stat -L -c %i /run/netns/$NS_H):$(H ip -o link show "$1" | cut -d: -f1)"; }

# Host namespace H: TAPDEV <-> eth0 of A, PEERB <-> eth0 of B, one bridge;
# MON0 <-> MON1 is the monitor pair the tc tap clones into. IPv6 off: exact counts.
ip netns add $NS_H && ip netns add $NS_A && ip netns add $NS_B || skip "cannot create network namespaces"
for n in $NS_H $NS_A $NS_B; do
	nsenter --net=/run/netns/$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n $NS_H link add br0 type bridge mcast_snooping 0
ip -n $NS_H link set br0 multicast off   # its own IGMP (224.0.0.106) would be counted
ip -n $NS_H link add $TAPDEV type veth peer name eth0 netns $NS_A
ip -n $NS_H link add $PEERB type veth peer name eth0 netns $NS_B
ip -n $NS_H link add $MON0 type veth peer name $MON1
for i in br0 $TAPDEV $PEERB $MON0 $MON1; do ip -n $NS_H link set $i up; done
ip -n $NS_H link set $TAPDEV master br0
ip -n $NS_H link set $PEERB master br0
# No IGMP reports from the VMs either, static ARP: no noise in the exact counts.
ip -n $NS_A link set eth0 multicast off && ip -n $NS_B link set eth0 multicast off
ip -n $NS_A addr add 10.91.0.1/24 dev eth0 && ip -n $NS_A link set eth0 up
ip -n $NS_B addr add 10.91.0.2/24 dev eth0 && ip -n $NS_B link set eth0 up
mac() { ip -n "$1" -o link show eth0 2>/dev/null | sed 's/.*link\/ether \([^ ]*\).*/\1/'; }
ip -n $NS_A neigh add 10.91.0.2 lladdr "$(mac $NS_B)" dev eth0
ip -n $NS_B neigh add 10.91.0.1 lladdr "$(mac $NS_A)" dev eth0

# B: a TCP server on 8080 answering one HTTP request per connection; UDP sink.
nsenter --net=/run/netns/$NS_B "$PY" - >/dev/null 2>&1 <<'EOF' &
import socket, threading
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.91.0.2", 5353))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u2.bind(("10.91.0.2", 6000))  # no ICMP unreachable
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("10.91.0.2", 8080)); t.listen(8)
while True:
    c, _ = t.accept(); c.recv(4096)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"); c.close()
EOF
PIDS="$PIDS $!"

# A: N UDP datagrams of 100 bytes to B:PORT, then (with http) one HTTP request.
send() { # PORT N [http]
	nsenter --net=/run/netns/$NS_A "$PY" - "$@" <<'EOF'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(n): u.sendto(b"x" * 100, ("10.91.0.2", port))
if len(sys.argv) > 3:
    for _ in range(50):
        try: c = socket.create_connection(("10.91.0.2", 8080), timeout=2); break
        except OSError: time.sleep(0.1)
    c.sendall(b"GET /tap HTTP/1.1\r\nHost: b\r\n\r\n"); c.recv(4096); c.close()
EOF
}
rx_pkts() { ip -n $NS_H -s link show "$1" 2>/dev/null | awk '/RX:/{getline; print $2; exit}'; }
json() { # FILE CODE [ARGS]: CODE sees the records as r
	local f=$1 code=$2
	shift 2
	"$PY" -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; $code" "$f" "$@"
}

# ---- attach, list, usage errors ----
G tap attach $TAPDEV --monitor $MON0 --local 10.91.0.0/24 2>"$TMP/err" ||
	{ grep -qiE "not permitted|bpffs" "$TMP/err" && skip "BPF unavailable: $(cat "$TMP/err")"; fail "attach: $(cat "$TMP/err")"; }
G tap list | grep -qx "$TAPDEV mode=tc monitor=$MON0 policy=all dims=- pkts=0 mirrored=0 overflow=0" ||
	fail "list: $(G tap list | grep "$TAPDEV")"
KEY=$(key $TAPDEV)
[ -e "/sys/fs/bpf/gcprobe/tap/$KEY/tap_cfg" ] && [ -e "/run/gcprobe/tap/$KEY.meta" ] ||
	fail "no pins or meta file under $KEY: $(ls /sys/fs/bpf/gcprobe/tap /run/gcprobe/tap)"
H tc filter show dev $TAPDEV ingress | grep -q "handle 0x6763 tap_tc_ingress" || fail "no ingress filter"
H tc filter show dev $TAPDEV egress | grep -q "handle 0x6763 tap_tc_egress" || fail "no egress filter"
G tap attach $TAPDEV 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -qx "gcprobe: tap: $TAPDEV: already tapped (gcprobe tap detach $TAPDEV first)" "$TMP/err" ||
	fail "second attach: rc $rc: $(cat "$TMP/err")"
for args in "policy $TAPDEV add mac 1" "policy $TAPDEV add cidr 10.0.0.0/33" "policy $TAPDEV add port tcp/x" \
	    "attach $TAPDEV --mode foo" "frob"; do
	G tap $args 2>"$TMP/err"; rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "^gcprobe: tap: " "$TMP/err" ||
		fail "tap $args: rc $rc, stderr: $(cat "$TMP/err")"
done
G tap attach nosuch0 2>"$TMP/err"; [ $? -eq 1 ] || fail "attach nosuch0 did not fail with 1"
# Run options: one error line, exit 2, nothing attached.
for args in "--tap $TAPDEV:foo" "--tap-monitor $MON0 --read x.pcap" "--tap $MON0 --inventory-top 0" \
	    "--tap $MON0 --tap-local 10.0.0.0/40" "--tap $MON0 --tap-policy some" "--tap $MON0 --tap $MON0"; do
	G $args 2>"$TMP/err"; rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "^gcprobe: error: " "$TMP/err" ||
		fail "gcprobe $args: rc $rc, stderr: $(cat "$TMP/err")"
done
printf '[probe]\ninventory_interval = 5s\ninventory_top = 10\n[capture]\ntap = %s:tc\ntap = %s:xdp\ntap_monitor = %s\ntap_policy = all\ntap_local = 10.91.0.0/24\n' \
	$TAPDEV $MON1 $MON0 >"$TMP/ok.conf"
G --check-config "$TMP/ok.conf" | grep -qx ok || fail "config with tap keys not ok"
printf '[capture]\ntap = %s\ntap_policy = some\n' $TAPDEV >"$TMP/bad.conf"
G --check-config "$TMP/bad.conf" 2>"$TMP/err"
grep -qx "gcprobe: error: $TMP/bad.conf:3: --tap-policy: 'some' is not all or none" "$TMP/err" ||
	fail "bad tap_policy in config: $(cat "$TMP/err")"
G tap list | grep -q "^$MON0 \|^$MON1 " && fail "a rejected run attached a tap"
ok "attach, list, usage errors"

# ---- policy at runtime: only UDP to 10.91.0.2:5353 is cloned ----
G tap policy $TAPDEV add cidr 10.91.0.2/32 && G tap policy $TAPDEV add port udp/5353 || fail "policy add"
G tap policy $TAPDEV show >"$TMP/show"
grep -qx "policy match" "$TMP/show" && grep -qx "dims cidr,port" "$TMP/show" &&
	grep -qx "cidr 10.91.0.2/32" "$TMP/show" && grep -qx "port udp/5353" "$TMP/show" &&
	grep -qx "local 10.91.0.0/24" "$TMP/show" || fail "policy show: $(cat "$TMP/show")"
mon_before=$(rx_pkts $MON1)
send 5353 5 && send 6000 3 http
sleep 0.3
G tap inventory $TAPDEV --interval 1 --count 1 >"$TMP/inv1.json" || fail "tap inventory"
mon_after=$(rx_pkts $MON1)
json "$TMP/inv1.json" '
r = r[0]; P = {(p["l4"], p["ip_version"]): p for p in r["protocols"]}
S = {(p["l4"], p["port"]): p for p in r["service_ports"]}
assert r["type"] == "inventory" and r["tap"] == sys.argv[2] and r["tap_mode"] == "tc", r
assert set(P) == {("udp", 4), ("tcp", 4)}, P
assert P["udp", 4]["pkts"] == 8 and P["udp", 4]["bytes"] == 8 * 128, P
assert {p["ip"] for p in r["src_ips"]} == {"10.91.0.1", "10.91.0.2"}, r["src_ips"]
assert {p["ip"] for p in r["dst_ips"]} == {"10.91.0.1", "10.91.0.2"}, r["dst_ips"]
assert set(S) == {("udp", 5353), ("udp", 6000), ("tcp", 8080)}, S
assert S["udp", 5353]["pkts"] == 5 and S["udp", 6000]["pkts"] == 3, S
D = {(d["direction"], d["locality"]) for d in r["directions"]}
assert D == {("ingress", "east-west"), ("egress", "east-west")}, D
assert r["mirrored_pkts"] == 5 and r["policy_hits"] == 5 and r["overflow"] == 0, r
' "$TAPDEV" 2>"$TMP/py" || fail "inventory record: $(tail -1 "$TMP/py")"
[ $((mon_after - mon_before)) -eq 5 ] || fail "monitor got $((mon_after - mon_before)) packets, want 5"
ok "runtime policy: 5 of 8 UDP cloned, inventory exact"

G tap policy $TAPDEV del port udp/5353 || fail "policy del"
G tap policy $TAPDEV show | grep -qx "dims cidr" || fail "dims after del"
G tap policy $TAPDEV del port udp/5353 2>"$TMP/err"; [ $? -eq 1 ] || fail "del of a missing entry"
G tap policy $TAPDEV clear && G tap policy $TAPDEV show | grep -qx "policy none" || fail "clear"
G tap policy $TAPDEV match 2>/dev/null && fail "match with no entries accepted"
mon_before=$(rx_pkts $MON1)
send 5353 4
G tap inventory $TAPDEV --interval 1 --count 1 >"$TMP/inv2.json"
json "$TMP/inv2.json" 'assert r[0]["mirrored_pkts"] == 0 and r[0]["protocols"][0]["pkts"] == 4, r' ||
	fail "policy none still mirrors"
[ "$(rx_pkts $MON1)" -eq "$mon_before" ] || fail "monitor got packets under policy none"
ok "del, clear, none"

# ---- detach leaves nothing ----
G tap detach $TAPDEV || fail "detach"
H tc qdisc show dev $TAPDEV | grep -q clsact && fail "clsact left on $TAPDEV"
[ -e "/sys/fs/bpf/gcprobe/tap/$KEY" ] && fail "pins left"
[ -e "/run/gcprobe/tap/$KEY.meta" ] && fail "meta left"
G tap list | grep -q "^$TAPDEV " && fail "still listed"
ok "detach"

# ---- a run with --tap, ended by SIGTERM ----
# nsenter execs gcprobe: $! is gcprobe itself, which the SIGTERM must reach.
nsenter --net=/run/netns/$NS_H "$BIN" --tap $TAPDEV --tap-monitor $MON0 --tap-local 10.91.0.0/24 \
	--inventory-interval 30 -o "$TMP/run.json" 2>"$TMP/run.err" &
RUN=$!
PIDS="$PIDS $RUN"
for _ in $(seq 50); do G tap list | grep -q "^$TAPDEV " && break; sleep 0.1; done
send 6000 7
sleep 0.3
kill -TERM $RUN; wait $RUN; rc=$?
[ $rc -eq 0 ] || fail "--tap run exit $rc: $(cat "$TMP/run.err")"
json "$TMP/run.json" '
assert len(r) == 1 and r[0]["type"] == "inventory", r
p = r[0]["protocols"]; assert p == [{"l4": "udp", "ip_version": 4, "pkts": 7, "bytes": 896}], p
assert r[0]["mirrored_pkts"] == 7, r
' 2>"$TMP/py" || fail "--tap run record: $(tail -1 "$TMP/py")"
H tc qdisc show dev $TAPDEV | grep -q clsact && fail "--tap run: clsact left after SIGTERM"
[ -e "/sys/fs/bpf/gcprobe/tap/$KEY" ] && fail "--tap run: pins left after SIGTERM"
ok "--tap run: final interval drained, nothing left after SIGTERM"

# ---- XSKMAP: tc tap clones to MON0, xdp tap on MON1 feeds gcprobe --iface MON1 ----
G tap attach $TAPDEV --monitor $MON0 && G tap attach $MON1 --mode xdp || fail "attach tc + xdp"
G tap list | grep -q "^$MON1 mode=xdp monitor=- policy=all" || fail "xdp tap list: $(G tap list)"
G tap detach $MON1 || fail "detach xdp"
# A tc tap pins an xsks map too; --iface must not take it for an xdp tap's.
G tap attach $MON1 || fail "attach tc on $MON1"
nsenter --net=/run/netns/$NS_H "$BIN" --iface $MON1 --duration 20 -o "$TMP/tc.json" 2>"$TMP/tc.err" &
RUN=$!
PIDS="$PIDS $RUN"
for _ in $(seq 100); do grep -q "AF_XDP copy mode" "$TMP/tc.err" && break; sleep 0.1; done
send 6000 1 http
for _ in $(seq 100); do grep -q '"type":"http"' "$TMP/tc.json" 2>/dev/null && break; sleep 0.1; done
kill -TERM $RUN; wait $RUN || fail "gcprobe --iface $MON1 with a tc tap: $(cat "$TMP/tc.err")"
grep -q "gcprobe xdp tap found" "$TMP/tc.err" && fail "tc tap taken for an xdp tap"
json "$TMP/tc.json" 'assert [x["url"] for x in r if x["type"] == "http"] == ["/tap"], r' ||
	fail "--iface $MON1 with a tc tap: no http record"
G tap detach $MON1 || fail "detach tc on $MON1"
# The run attaches the xdp tap itself (--tap), its AF_XDP socket joins the
# tap's xsks map; SIGTERM: records flushed, last interval drained, tap gone.
nsenter --net=/run/netns/$NS_H "$BIN" --iface $MON1 --tap $MON1:xdp --inventory-interval 30 \
	-o "$TMP/xsk.json" 2>"$TMP/xsk.err" &
RUN=$!
PIDS="$PIDS $RUN"
for _ in $(seq 100); do grep -q "AF_XDP copy mode" "$TMP/xsk.err" && break; sleep 0.1; done
send 6000 1 http
# The http record reaches the file once the worker has the packets (a
# SIGTERM ends capture at once: what is still in the ring is not read).
for _ in $(seq 100); do grep -q '"type":"http"' "$TMP/xsk.json" 2>/dev/null && break; sleep 0.1; done
kill -TERM $RUN; wait $RUN || fail "gcprobe --iface $MON1 --tap $MON1:xdp: $(cat "$TMP/xsk.err")"
grep -q "gcprobe xdp tap found" "$TMP/xsk.err" || fail "no xsks map note: $(cat "$TMP/xsk.err")"
json "$TMP/xsk.json" '
h = [x for x in r if x["type"] == "http"]
assert len(h) == 1 and h[0]["url"] == "/tap" and h[0]["status"] == 200, r
i = [x for x in r if x["type"] == "inventory"]
assert len(i) == 1 and i[0]["tap"] == sys.argv[2] and i[0]["tap_mode"] == "xdp", i
assert i[0]["directions"] == [{"direction": "ingress", "locality": "north-south",
	"pkts": i[0]["mirrored_pkts"], "bytes": i[0]["directions"][0]["bytes"]}], i
assert i[0]["mirrored_pkts"] >= 9 and i[0]["policy_hits"] == i[0]["mirrored_pkts"], i
' "$MON1" 2>"$TMP/py" || fail "records through the xsks map: $(tail -1 "$TMP/py")"
H ip link show $MON1 | grep -q "prog/xdp" && fail "xdp program left on $MON1 after SIGTERM"
G tap list | grep -q "^$MON1 " && fail "xdp tap still listed after the run"
G tap detach $TAPDEV || fail "detach tc"
ok "xdp tap of a run feeds AF_XDP through the xsks map; gone after SIGTERM"

[ $FAIL -eq 0 ] && echo "PASS: gcprobe tap"
exit $FAIL
