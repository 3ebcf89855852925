#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# eBPF taps end to end (docs/TAPS.md): a Linux bridge with two veth "VMs"
# in namespaces (curl/dig client, nginx/dnsmasq server). A TC tap on the
# client's bridge port clones to a monitor veth whose far end carries an
# XDP tap steering into gcprobe's AF_XDP socket (XSKMAP). The mirrored
# run must give the http/dns records of a tcpdump capture of the same
# port; the drained inventory must list exactly the IPs, ports and
# protocols of that capture; a runtime policy change must stop HTTP from
# being mirrored; detach and a SIGTERM'd --tap run must leave nothing.
# usage: tap_e2e.sh GCPROBE
set -u
BIN=$1

skip() { echo "SKIP: $*"; exit 0; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "tap_e2e: $*"; }

# Names from the test plan; all ours (prefix gcpt-), removed on exit. The
# bridge does no multicast snooping: its IGMP joins would be extra packets.
BR=gcpt-br VM1=gcpt-vm1 VM2=gcpt-vm2 P1=gcpt-vm1p P2=gcpt-vm2p
MON0=gcpt-mon0 MON1=gcpt-mon1
IP1=10.77.0.1 IP2=10.77.0.2 NET=10.77.0.0/24
PINS=/sys/fs/bpf/gcprobe/tap META=/run/gcprobe/tap
T=
PIDS=()
# A tap's pin directory and meta file name: NETNS:IFINDEX (docs/TAPS.md, "Pinning layout").
key() { echo "$(stat -L -c %i /proc/self/ns/net):$(ip -o link show "$1" 2>/dev/null | cut -d: -f1)"; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for p in "$P1" "$MON1"; do
		[ -e "$PINS/$(key "$p")" ] || [ -e "$META/$(key "$p").meta" ] &&
			"$BIN" tap detach "$p" >/dev/null 2>&1
	done
	ip link del "$BR" 2>/dev/null
	ip link del "$MON0" 2>/dev/null
	ip netns del "$VM1" 2>/dev/null
	ip netns del "$VM2" 2>/dev/null
	[ -n "$T" ] && rm -rf "$T"
}

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, BPF)"
for tool in ip tc ethtool nginx dnsmasq curl dig tcpdump tshark jq python3; do
	command -v "$tool" >/dev/null || skip "$tool not installed"
done
"$BIN" tap --help >/dev/null 2>&1 || skip "gcprobe built without taps (GCP_WITH_BPF=OFF)"
[ -e /sys/kernel/btf/vmlinux ] || skip "kernel without BTF (CO-RE programs cannot load)"

# A private mount namespace with its own (at first absent) bpffs and
# /run/gcprobe: `tap list` and `tap detach --all` see only this test's
# taps, even on a host where other taps exist.
if [ -z "${GCPT_PRIVATE_MNT:-}" ]; then
	command -v unshare >/dev/null || skip "unshare not installed"
	GCPT_PRIVATE_MNT=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
while mountpoint -q /sys/fs/bpf; do umount /sys/fs/bpf || fail "umount /sys/fs/bpf"; done
mkdir -p "${META%/tap}" && mount -t tmpfs gcpt-run "${META%/tap}" || fail "tmpfs on ${META%/tap}"

T=$(mktemp -d /tmp/gcpt-e2e.XXXXXX)
trap cleanup EXIT
trap 'exit 1' INT TERM
chmod 755 "$T"

# Leftovers of a killed earlier run carry our names only.
ip link del "$BR" 2>/dev/null; ip link del "$MON0" 2>/dev/null
ip netns del "$VM1" 2>/dev/null; ip netns del "$VM2" 2>/dev/null

# --- topology ---------------------------------------------------------------
ip netns add "$VM1" 2>"$T/err" || skip "cannot create network namespace: $(cat "$T/err")"
ip netns add "$VM2" || fail "second namespace"
no_v6() { # DEV: no IPv6, so no ND/MLD besides our traffic
	sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" 2>/dev/null || true
}
for ns in "$VM1" "$VM2"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	ip -n "$ns" link set lo up
done
ip link add "$BR" type bridge stp_state 0 mcast_snooping 0 || fail "bridge $BR"
no_v6 "$BR"
vm_link() { # NS HOSTPORT IP
	ip link add "$2" type veth peer name eth0 netns "$1" || fail "veth $2"
	no_v6 "$2"
	ip -n "$1" addr add "$3/24" dev eth0
	# Wire-sized frames with full checksums, as a real NIC would put them
	# on the wire: tcpdump and the mirror then see identical bytes.
	ip netns exec "$1" ethtool -K eth0 tx off tso off gso off gro off >/dev/null 2>&1
	ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1
	ip link set "$2" master "$BR" && ip link set "$2" up && ip -n "$1" link set eth0 up ||
		fail "bring up $2"
}
vm_link "$VM1" "$P1" "$IP1"
vm_link "$VM2" "$P2" "$IP2"
ip link add "$MON0" type veth peer name "$MON1" || fail "monitor veth"
no_v6 "$MON0"; no_v6 "$MON1"
ip link set "$MON0" up && ip link set "$MON1" up && ip link set "$BR" up || fail "links up"

# --- servers on VM2 ----------------------------------------------------------
mkdir -p "$T/www/docs" "$T/nginx"
echo "gcprobe tap test" >"$T/www/index.html"
echo '{"ok":true}' >"$T/www/docs/a.json"
printf 'plain text\n' >"$T/www/docs/b.txt"
cat >"$T/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx.err;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	server { listen $IP2:80; server_name www.gcpt.test; root $T/www; }
}
EOF
ip netns exec "$VM2" nginx -p "$T/nginx" -c "$T/nginx.conf" -e "$T/nginx.err" &
PIDS+=($!)
# Authoritative for gcpt.test, no upstream: unknown names are NXDOMAIN.
ip netns exec "$VM2" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--no-poll --bind-interfaces --listen-address="$IP2" --port=53 --pid-file= \
	--local=/gcpt.test/ --host-record=www.gcpt.test,"$IP2" --host-record=api.gcpt.test,"$IP2" \
	--host-record=late.gcpt.test,10.77.0.9 --log-facility="$T/dnsmasq.log" 2>"$T/dnsmasq.err" &
PIDS+=($!)
for _ in $(seq 50); do
	ip netns exec "$VM1" bash -c "exec 3<>/dev/tcp/$IP2/80" 2>/dev/null &&
		ip netns exec "$VM1" dig +short +tries=1 +time=1 @"$IP2" www.gcpt.test >/dev/null 2>&1 && break
	sleep 0.1
done
ip netns exec "$VM1" dig +short +tries=1 +time=1 @"$IP2" www.gcpt.test | grep -qx "$IP2" ||
	fail "servers did not start: $(cat "$T/nginx.err" "$T/dnsmasq.err" 2>/dev/null)"

# --- traffic -------------------------------------------------------------------
# curl with a fixed client port per request so each connection's phase is
# known from its port; dig over UDP only.
http_get() { # LOCALPORT PATH WANTSTATUS
	local got
	got=$(ip netns exec "$VM1" curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
		--local-port "$1" --resolve "www.gcpt.test:80:$IP2" "http://www.gcpt.test$2") ||
		fail "curl $2"
	[ "$got" = "$3" ] || fail "curl $2: status $got, want $3"
}
dns_query() { # NAME TYPE WANTRCODE
	ip netns exec "$VM1" dig +notcp +tries=1 +time=3 @"$IP2" "$1" "$2" >"$T/dig.out" ||
		fail "dig $1 $2"
	grep -q "status: $3" "$T/dig.out" || fail "dig $1 $2: want $3: $(grep status "$T/dig.out")"
}
QNAMES="www.gcpt.test api.gcpt.test nope.gcpt.test late.gcpt.test gone.gcpt.test"
PORTS_A="41001 41002 41003 41004"
traffic_a() {
	http_get 41001 / 200
	http_get 41002 /docs/a.json 200
	http_get 41003 /docs/b.txt?x=1 200
	http_get 41004 /missing.html 404
	dns_query www.gcpt.test A NOERROR
	dns_query api.gcpt.test A NOERROR
	dns_query www.gcpt.test AAAA NOERROR
	dns_query nope.gcpt.test A NXDOMAIN
}
PORTS_B="42001 42002"
traffic_b() {
	http_get 42001 /docs/a.json 200
	http_get 42002 /phase-b-missing 404
	dns_query late.gcpt.test A NOERROR
	dns_query gone.gcpt.test AAAA NXDOMAIN
}

# Wait until every client connection has finished closing (TIME_WAIT: the
# server's FIN came and the last ACK left), so no packet of a traffic phase
# crosses the tap after it: a policy change must not cut a connection.
settle() {
	for _ in $(seq 50); do
		[ -z "$(ip netns exec "$VM1" ss -Htn exclude time-wait)" ] && break
		sleep 0.1
	done
	sleep 0.3
}

start_tcpdump() { # IFACE FILE
	tcpdump -i "$1" -s 0 -U --immediate-mode -w "$2" 2>"$2.err" &
	TCPDUMP_PID=$!
	PIDS+=($TCPDUMP_PID)
	for _ in $(seq 50); do
		grep -q "listening on" "$2.err" && return 0
		sleep 0.1
	done
	fail "tcpdump did not start: $(cat "$2.err")"
}
stop_pid() { # PID SIGNAL: returns the exit status
	kill "-$2" "$1" 2>/dev/null
	wait "$1"
}

# --- record and inventory checks -------------------------------------------------
# IPv4 packets of a capture, for the expected inventory (first header only).
ip_fields() { # PCAP
	tshark -r "$1" -Y ip -T fields -E separator=/t -E occurrence=f -e ip.src -e ip.dst \
		-e ip.proto -e ip.len -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack \
		-e udp.srcport -e udp.dstport
}

# check_inventory DEV RECORDS FIELDS LOCAL_NET|- DIR_MODE [SKIP_TCP_PORTS]:
# DEV's inventory records (summed) list exactly what the capture's packets
# give. DIR_MODE "tc": ingress = sent by $IP1 (the client port's ingress);
# "xdp": all ingress. Packets of TCP connections on SKIP_TCP_PORTS are left
# out (not mirrored, so not seen by an XDP tap behind the mirror).
check_inventory() {
	python3 - "$1" "$2" "$3" "$4" "$5" "${6:-}" "$IP1" "$IP2" <<'PY'
import ipaddress, json, sys
from collections import Counter
dev, recs_path, fields_path, local, dmode, skip, client, server = sys.argv[1:9]
name = "%s tap %s (%s)" % (dmode, dev, recs_path.rsplit("/", 1)[-1])
skip = {int(p) for p in skip.split()}
L4 = {6: "tcp", 17: "udp", 1: "icmp", 132: "sctp", 47: "gre", 58: "ipv6-icmp"}
want = {k: Counter() for k in ("protocols", "src_ips", "dst_ips", "service_ports", "directions")}
def add(kind, key, n):
    want[kind][(key, "pkts")] += 1
    want[kind][(key, "bytes")] += n
net = ipaddress.ip_network(local) if local != "-" else None
for line in open(fields_path):
    f = line.rstrip("\n").split("\t")
    src, dst, proto, ln = f[0], f[1], int(f[2]), int(f[3])
    tsp, tdp, syn, ack, usp, udp_ = f[4:10]
    flag = lambda v: v in ("1", "True")
    if proto == 6 and skip and (int(tsp) in skip or int(tdp) in skip):
        continue
    l4 = L4.get(proto, str(proto))
    add("protocols", (l4, 4), ln)
    add("src_ips", src, ln)
    add("dst_ips", dst, ln)
    if proto == 6:
        sp, dp = int(tsp), int(tdp)
        svc = dp if flag(syn) and not flag(ack) else sp if flag(syn) else min(sp, dp)
        add("service_ports", ("tcp", svc), ln)
    elif proto == 17:
        add("service_ports", ("udp", min(int(usp), int(udp_))), ln)
    if dmode == "xdp":
        d = "ingress"
    else:
        d = "ingress" if src == client else "egress"
    both = net is not None and ipaddress.ip_address(src) in net and ipaddress.ip_address(dst) in net
    add("directions", (d, "east-west" if both else "north-south"), ln)
KEY = {"protocols": lambda e: (e["l4"], e["ip_version"]), "src_ips": lambda e: e["ip"],
       "dst_ips": lambda e: e["ip"], "service_ports": lambda e: (e["l4"], e["port"]),
       "directions": lambda e: (e["direction"], e["locality"])}
got = {k: Counter() for k in want}
recs = [json.loads(l) for l in open(recs_path) if l.strip()]
recs = [r for r in recs if r.get("type") == "inventory" and r.get("tap") == dev]
assert recs, "%s: no inventory records" % name
for r in recs:
    assert r["overflow"] == 0 and r["tap_mode"] == dmode, (name, r)
    for kind in want:
        for e in r[kind]:
            got[kind][(KEY[kind](e), "pkts")] += e["pkts"]
            got[kind][(KEY[kind](e), "bytes")] += e["bytes"]
bad = 0
for kind in want:
    w, g = +want[kind], +got[kind]
    if w != g:
        bad = 1
        print("FAIL: %s: inventory %s differs from the capture:\n  want %s\n  got  %s"
              % (name, kind, sorted(w.items()), sorted(g.items())))
# The scenario's traffic, and nothing else, on both sides.
keys = lambda kind: {k for k, _ in got[kind]}
exact = {"src_ips": {client, server}, "dst_ips": {client, server},
         "protocols": {("tcp", 4), ("udp", 4)}, "service_ports": {("tcp", 80), ("udp", 53)},
         "directions": {(d, "east-west" if net else "north-south")
                        for d in (("ingress",) if dmode == "xdp" else ("ingress", "egress"))}}
for kind, w in exact.items():
    if keys(kind) != w:
        bad = 1
        print("FAIL: %s: inventory %s lists %s, want exactly %s" % (name, kind, sorted(keys(kind)), sorted(w)))
pk = sum(v for (k, t), v in want["protocols"].items() if t == "pkts")
if not bad:
    print("ok: %s: %d inventory record(s) = capture: %d IP packets, %s, %s, ports %s" % (
        name, len(recs), pk, sorted({k for k, _ in want["src_ips"]}),
        sorted({k[0] for k, _ in want["protocols"]}),
        sorted({"%s/%d" % k for k, _ in want["service_ports"]})))
sys.exit(bad)
PY
}

# check_records MIRROR CAPTURE PORTS_A PORTS_B QNAMES: http, dns and tcp
# records of the mirrored run = those of the capture (http and tcp only of
# connections from PORTS_A: PORTS_B came after the policy change to DNS
# only, the capture must have them, the mirror must not); the dns records
# are those of QNAMES.
check_records() {
	python3 - "$@" <<'PY'
import json, sys
from collections import Counter
mirror, cap = ([json.loads(l) for l in open(p) if l.strip()] for p in sys.argv[1:3])
ports_a, ports_b = ({int(x) for x in s.split()} for s in sys.argv[3:5])
want_dns = set(sys.argv[5].split())
HTTP = ("method", "host", "url", "status", "server", "user_agent")
DNS = ("qname", "qtype", "rcode", "answers")
TCP = ("src_ip", "src_port", "dst_ip", "dst_port", "state", "pkts_c2s", "pkts_s2c", "bytes_c2s", "bytes_s2c")
def keyed(recs, typ, keys, ports=None):
    return Counter(json.dumps([r.get(k) for k in keys]) for r in recs
                   if r["type"] == typ and (ports is None or r["src_port"] in ports))
bad = []
for typ, keys, ports in (("http", HTTP, ports_a), ("dns", DNS, None), ("tcp", TCP, ports_a)):
    m, c = keyed(mirror, typ, keys), keyed(cap, typ, keys, ports)
    if m != c or not c:
        bad.append("%s records differ: mirror-only %s capture-only %s" % (typ, list((m - c).elements()), list((c - m).elements())))
    else:
        print("ok: %d %s records of the mirrored run = the capture's" % (sum(c.values()), typ))
# The capture does have the HTTP after the policy change; the mirror does not.
late = keyed(cap, "http", HTTP, ports_b)
if sum(late.values()) != len(ports_b):
    bad.append("capture has %d http records after the policy change, want %d" % (sum(late.values()), len(ports_b)))
if any(r["type"] in ("http", "tcp") and r["src_port"] in ports_b for r in mirror):
    bad.append("HTTP mirrored after 'policy add port udp/53'")
if {r["qname"] for r in mirror if r["type"] == "dns"} != want_dns:
    bad.append("mirrored dns names %s" % sorted({r["qname"] for r in mirror if r["type"] == "dns"}))
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY
}

# Program ids named in a tap's meta file (prog...=ID lines).
meta_prog_ids() { # DEV
	sed -n 's/^prog[^=]*=\([0-9][0-9,]*\)$/\1/p' "$META/$(key "$1").meta" 2>/dev/null | tr ',' ' '
}

# assert_gone DEV [PROG IDS]: no clsact qdisc (we created it), filter, XDP
# program, pins, meta file, and none of the tap's programs still loaded.
assert_gone() {
	local dev=$1 id; shift
	tc qdisc show dev "$dev" | grep -q clsact && fail "$dev: clsact qdisc left"
	[ -z "$(tc filter show dev "$dev" ingress 2>/dev/null)$(tc filter show dev "$dev" egress 2>/dev/null)" ] ||
		fail "$dev: tc filters left: $(tc filter show dev "$dev" ingress; tc filter show dev "$dev" egress)"
	ip link show dev "$dev" | grep -q "prog/xdp" && fail "$dev: XDP program left: $(ip link show dev "$dev")"
	[ -e "$PINS/$(key "$dev")" ] && fail "$dev: pins left: $(ls "$PINS/$(key "$dev")")"
	[ -e "$META/$(key "$dev").meta" ] && fail "$dev: meta file left"
	for id in "$@"; do
		bpftool prog show id "$id" >/dev/null 2>&1 && fail "$dev: program id $id still loaded"
	done
	return 0
}

# --- A: persistent taps, policy all ------------------------------------------------
start_tcpdump "$P1" "$T/cap.pcap"
"$BIN" tap attach "$P1" --mode tc --monitor "$MON0" --policy all --local "$NET" >"$T/attach.out" 2>&1 ||
	fail "tap attach $P1: $(cat "$T/attach.out")"
"$BIN" tap attach "$MON1" --mode xdp --policy all >>"$T/attach.out" 2>&1 ||
	fail "tap attach $MON1: $(cat "$T/attach.out")"
[ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ] || fail "tap attach did not mount bpffs at /sys/fs/bpf"
"$BIN" tap list >"$T/list0.out" 2>&1 || fail "tap list: $(cat "$T/list0.out")"
grep -q "^$P1 .*tc" "$T/list0.out" && grep -q "^$MON1 .*xdp" "$T/list0.out" ||
	fail "tap list lacks our taps: $(cat "$T/list0.out")"
IDS_P1=$(meta_prog_ids "$P1") IDS_MON1=$(meta_prog_ids "$MON1")
[ -n "$IDS_P1" ] && [ -n "$IDS_MON1" ] || fail "no program ids in $META/*.meta"
tc filter show dev "$P1" ingress | grep -q bpf && tc filter show dev "$P1" egress | grep -q bpf ||
	fail "$P1: no tc bpf filters after attach"
ip link show dev "$MON1" | grep -q "prog/xdp" || fail "$MON1: no XDP program after attach"

# The probe captures the monitor veth with AF_XDP through the tap's XSKMAP.
"$BIN" --iface "$MON1" --xdp-mode copy --types tcp,http,dns -o "$T/mirror.json" 2>"$T/mirror.err" &
MIRROR_PID=$!
PIDS+=($MIRROR_PID)
for _ in $(seq 100); do
	grep -qE "AF_XDP (copy|zero-copy) mode" "$T/mirror.err" && break
	kill -0 "$MIRROR_PID" 2>/dev/null || fail "gcprobe --iface $MON1: $(cat "$T/mirror.err")"
	sleep 0.1
done
grep -qE "AF_XDP (copy|zero-copy) mode" "$T/mirror.err" || fail "gcprobe --iface $MON1 not ready: $(cat "$T/mirror.err")"
traffic_a
settle

# --- B: runtime policy change: DNS only, no reload ------------------------------------
"$BIN" tap policy "$P1" add port udp/53 >"$T/policy.out" 2>&1 || fail "tap policy add: $(cat "$T/policy.out")"
"$BIN" tap policy "$P1" show >"$T/policy_show.out" 2>&1 || fail "tap policy show: $(cat "$T/policy_show.out")"
grep -q "match" "$T/policy_show.out" && grep -q "udp/53" "$T/policy_show.out" ||
	fail "policy show after add: $(cat "$T/policy_show.out")"
[ "$(meta_prog_ids "$P1")" = "$IDS_P1" ] || fail "policy change replaced the programs"
traffic_b
settle

"$BIN" tap list >"$T/list1.out" 2>&1 || fail "tap list"
"$BIN" tap inventory "$P1" --interval 1 --count 1 >"$T/inv_p1.json" 2>"$T/inv.err" ||
	fail "tap inventory $P1: $(cat "$T/inv.err")"
"$BIN" tap inventory "$MON1" --interval 1 --count 1 >"$T/inv_mon1.json" 2>"$T/inv.err" ||
	fail "tap inventory $MON1: $(cat "$T/inv.err")"
# Drained: the next interval is empty, and still gives a record (the tap is alive).
"$BIN" tap inventory "$P1" --interval 1 --count 1 >"$T/inv_empty.json" 2>"$T/inv.err" ||
	fail "tap inventory $P1: $(cat "$T/inv.err")"
jq -e '.type == "inventory" and .tap == "'"$P1"'" and .protocols == [] and .src_ips == [] and .dst_ips == []
	and .service_ports == [] and .directions == [] and .mirrored_pkts == 0' "$T/inv_empty.json" >/dev/null ||
	fail "idle interval: $(cat "$T/inv_empty.json")"
stop_pid "$MIRROR_PID" TERM || fail "mirrored run exited $?: $(cat "$T/mirror.err")"
stop_pid "$TCPDUMP_PID" INT
note "tap list: $(tr '\n' ';' <"$T/list1.out")"

"$BIN" --read "$T/cap.pcap" --types tcp,http,dns >"$T/cap.json" || fail "gcprobe --read cap.pcap"
ip_fields "$T/cap.pcap" >"$T/cap.fields" || fail "tshark"
FAIL=0
# Tap counters (since attach): the TC tap saw every frame of the capture;
# every clone reached the XDP tap and went into the AF_XDP socket.
counter() { sed -n "s/^$1 .* $2=\([0-9]*\).*/\1/p" "$T/list1.out"; }
frames=$(tshark -r "$T/cap.pcap" 2>/dev/null | wc -l)
[ "$(counter "$P1" pkts)" = "$frames" ] && [ "$(counter "$MON1" pkts)" = "$(counter "$P1" mirrored)" ] &&
	[ "$(counter "$MON1" mirrored)" = "$(counter "$MON1" pkts)" ] &&
	[ "$(counter "$P1" overflow)$(counter "$MON1" overflow)" = 00 ] ||
	{ echo "FAIL: tap counters: capture has $frames frames; $(cat "$T/list1.out")"; FAIL=1; }
check_records "$T/mirror.json" "$T/cap.json" "$PORTS_A" "$PORTS_B" "$QNAMES" || FAIL=1
check_inventory "$P1" "$T/inv_p1.json" "$T/cap.fields" "$NET" tc || FAIL=1
check_inventory "$MON1" "$T/inv_mon1.json" "$T/cap.fields" - xdp "$PORTS_B" || FAIL=1
[ "$FAIL" -eq 0 ] || exit 1

# --- C: detach leaves nothing -------------------------------------------------------
"$BIN" tap detach --all >"$T/detach.out" 2>&1 || fail "tap detach --all: $(cat "$T/detach.out")"
[ -z "$("$BIN" tap list 2>&1)" ] || fail "tap list after detach --all: $("$BIN" tap list 2>&1)"
assert_gone "$P1" $IDS_P1
assert_gone "$MON1" $IDS_MON1
note "ok: detach left no filter, qdisc, XDP program, pin or meta file"

# --- D: a capture run with --tap: taps for the run only -----------------------------
# The run attaches both taps, captures through the XSKMAP, drains inventory
# every second into its own output, and removes everything on SIGTERM.
start_tcpdump "$P1" "$T/cap_d.pcap"
"$BIN" --iface "$MON1" --xdp-mode copy --tap "$P1" --tap-monitor "$MON0" --tap "$MON1:xdp" \
	--tap-policy all --tap-local "$NET" --inventory-interval 1 --types tcp,http,dns,inventory \
	--node-name gcpt-node -o "$T/run.json" 2>"$T/run.err" &
RUN_PID=$!
PIDS+=($RUN_PID)
for _ in $(seq 100); do
	grep -qE "AF_XDP (copy|zero-copy) mode" "$T/run.err" && break
	kill -0 "$RUN_PID" 2>/dev/null || fail "gcprobe --tap: $(cat "$T/run.err")"
	sleep 0.1
done
tc filter show dev "$P1" ingress | grep -q bpf && ip link show dev "$MON1" | grep -q "prog/xdp" ||
	fail "gcprobe --tap: taps not attached: $(cat "$T/run.err")"
IDS_RUN_P1=$(meta_prog_ids "$P1") IDS_RUN_MON1=$(meta_prog_ids "$MON1")
http_get 43001 /docs/b.txt 200
http_get 43002 /nothing-here 404
dns_query api.gcpt.test A NOERROR
dns_query nope.gcpt.test AAAA NXDOMAIN
settle
sleep 1.2  # at least one periodic drain besides the one at exit
stop_pid "$RUN_PID" TERM || fail "gcprobe --tap exited $? on SIGTERM: $(cat "$T/run.err")"
stop_pid "$TCPDUMP_PID" INT
assert_gone "$P1" $IDS_RUN_P1
assert_gone "$MON1" $IDS_RUN_MON1
"$BIN" --read "$T/cap_d.pcap" --types tcp,http,dns >"$T/cap_d.json" || fail "gcprobe --read cap_d.pcap"
ip_fields "$T/cap_d.pcap" >"$T/cap_d.fields" || fail "tshark"
FAIL=0
grep -v '"type":"inventory"' "$T/run.json" >"$T/run_records.json"
check_records "$T/run_records.json" "$T/cap_d.json" "43001 43002" "" "api.gcpt.test nope.gcpt.test" || FAIL=1
check_inventory "$P1" "$T/run.json" "$T/cap_d.fields" "$NET" tc || FAIL=1
check_inventory "$MON1" "$T/run.json" "$T/cap_d.fields" "$NET" xdp || FAIL=1
jq -e -s '[.[] | select(.type == "inventory")] | length >= 4 and all(.[]; .node_type == "virtual"
	and .node_name == "gcpt-node" and .interval_s == 1 and (.ts | type) == "string")' "$T/run.json" >/dev/null ||
	{ echo "FAIL: --tap run inventory records: $(grep -m2 inventory "$T/run.json")"; FAIL=1; }
[ "$FAIL" -eq 0 ] || exit 1
note "ok: --tap run: $(grep -c '"type":"inventory"' "$T/run.json") inventory records, nothing left after SIGTERM"
echo "PASS: tap_e2e (${SECONDS}s)"
