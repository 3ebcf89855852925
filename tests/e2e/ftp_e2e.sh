#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# FTP end to end: vsftpd and curl in two network namespaces joined by a
# veth pair (10.232.0.1 server, 10.232.0.2 client), passive and active
# RETR and STOR of a random 200 KB file, captured with tcpdump in the
# server namespace; gcprobe must report each transfer with the file's MD5.
# Pipelined commands (lftp with ftp:sync-mode off, and a client that sends
# TYPE I, PASV and RETR in one segment) must pair with their replies; a
# resumed download (REST) and an APPE are reported partial, without MD5.
# A RETR with neither PORT nor PASV uses the default data port (RFC 959
# 3.2: the server connects from its port L-1 to the client's control
# port), which vsftpd does not offer: a minimal server does it here.
# Usage: ftp_e2e.sh [path/to/gcprobe]
set -u

GCPROBE=${1:-build/probe/gcprobe}
SRV=10.232.0.1
CLI=10.232.0.2
NS_S=gcpftp-s-$$
NS_C=gcpftp-c-$$
VS=gfs$$
VC=gfc$$
T=$(mktemp -d /tmp/gcp-ftp-e2e.XXXXXX)
VSFTPD_PID=
TCPDUMP_PID=

cleanup() {
	[ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null
	[ -n "$VSFTPD_PID" ] && kill "$VSFTPD_PID" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	[ -s "$T/vsftpd.log" ] && sed 's/^/vsftpd: /' "$T/vsftpd.log" | tail -20 >&2
	exit 1
}

for tool in ip vsftpd curl lftp tshark tcpdump md5sum python3 timeout; do
	command -v "$tool" >/dev/null || fail "missing tool: $tool"
done
[ -x "$GCPROBE" ] || fail "no gcprobe binary at $GCPROBE"

# Network namespaces: the one reason to skip.
if ! err=$(ip netns add "$NS_S" 2>&1); then
	echo "SKIP: cannot create network namespace: $err"
	exit 0
fi
ip netns add "$NS_C" || fail "second namespace"
ip link add "$VS" type veth peer name "$VC" || fail "veth pair"
ip link set "$VS" netns "$NS_S" && ip link set "$VC" netns "$NS_C" || fail "veth move"
ip -n "$NS_S" addr add "$SRV/24" dev "$VS"
ip -n "$NS_C" addr add "$CLI/24" dev "$VC"
for ns in "$NS_S" "$NS_C"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_S" link set "$VS" up && ip -n "$NS_C" link set "$VC" up || fail "links up"
# veth offloads would hand tcpdump 64 KB super-segments; keep wire-sized frames.
ip netns exec "$NS_S" ethtool -K "$VS" tso off gso off gro off >/dev/null 2>&1 || true
ip netns exec "$NS_C" ethtool -K "$VC" tso off gso off gro off >/dev/null 2>&1 || true

# Anonymous vsftpd: a read-only root with the file, an upload directory.
mkdir -p "$T/root/pub" "$T/root/up" "$T/empty"
head -c 204800 /dev/urandom >"$T/root/pub/file.bin"
WANT=$(md5sum <"$T/root/pub/file.bin" | cut -d' ' -f1)
chmod 755 "$T" "$T/root" "$T/root/pub"
chmod 644 "$T/root/pub/file.bin"
chmod 555 "$T/root"
chown ftp "$T/root/up" 2>/dev/null || true
chmod 777 "$T/root/up"
cat >"$T/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$SRV
background=NO
anonymous_enable=YES
local_enable=NO
no_anon_password=YES
anon_root=$T/root
write_enable=YES
anon_upload_enable=YES
anon_other_write_enable=YES
anon_umask=022
pasv_enable=YES
pasv_min_port=40000
pasv_max_port=40100
port_enable=YES
connect_from_port_20=YES
secure_chroot_dir=$T/empty
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
xferlog_enable=YES
vsftpd_log_file=$T/vsftpd.log
dual_log_enable=YES
EOF
chmod 600 "$T/vsftpd.conf"

ip netns exec "$NS_S" tcpdump -i "$VS" -s 0 -U --immediate-mode -B 8192 -w "$T/cap.pcap" tcp 2>"$T/tcpdump.err" &
TCPDUMP_PID=$!
ip netns exec "$NS_S" vsftpd "$T/vsftpd.conf" 2>"$T/vsftpd.err" &
VSFTPD_PID=$!

# Wait (bounded) for both to be ready.
for _ in $(seq 50); do
	grep -q "listening on" "$T/tcpdump.err" 2>/dev/null &&
		ip netns exec "$NS_S" bash -c "exec 3<>/dev/tcp/$SRV/21" 2>/dev/null && break
	sleep 0.2
done
kill -0 "$VSFTPD_PID" 2>/dev/null || fail "vsftpd did not start: $(cat "$T/vsftpd.err")"

ftp_cli() {
	ip netns exec "$NS_C" timeout 30 curl -sS --max-time 25 "$@"
}
URL=ftp://$SRV
ftp_cli -o "$T/dl_pasv.bin" "$URL/pub/file.bin" || fail "passive RETR"
ftp_cli -P "$CLI" -o "$T/dl_port.bin" "$URL/pub/file.bin" || fail "active RETR"
ftp_cli -T "$T/root/pub/file.bin" "$URL/up/up_pasv.bin" || fail "passive STOR"
ftp_cli -P "$CLI" -T "$T/root/pub/file.bin" "$URL/up/up_port.bin" || fail "active STOR"
# Resume at 100000 (REST 100000, RETR) and append (APPE): partial transfers.
head -c 100000 "$T/root/pub/file.bin" >"$T/dl_rest.bin"
ftp_cli -C 100000 -o "$T/dl_rest.bin" "$URL/pub/file.bin" || fail "resumed RETR"
ftp_cli --append -T "$T/root/pub/file.bin" "$URL/up/up_appe.bin" || fail "APPE"
# lftp, not waiting for each reply (it pipelines TYPE/PASV/RETR and the like).
mkdir -p "$T/lftp"
LFTP_SET="set ftp:sync-mode off; set ftp:passive-mode on; set net:max-retries 1"
ip netns exec "$NS_C" timeout 30 lftp -c "$LFTP_SET; open -u anonymous,x $SRV;
	get -O $T/lftp pub/file.bin" >"$T/lftp.out" 2>&1 || fail "lftp: $(tail -3 "$T/lftp.out")"
# A client that sends TYPE I, PASV and RETR in one segment before any reply.
cat >"$T/piped.py" <<'PY'
import re, socket, sys
srv, out = sys.argv[1], sys.argv[2]
c = socket.create_connection((srv, 21), timeout=10, source_address=("", 41101))
f = c.makefile("rb")
def reply():
    line = f.readline()
    while line[3:4] == b"-":  # RFC 959 4.2 multi-line
        line = f.readline()
    return line
assert reply().startswith(b"220")
c.sendall(b"USER anonymous\r\n")
r = reply()
if r.startswith(b"331"):
    c.sendall(b"PASS x\r\n")
    r = reply()
assert r.startswith(b"230"), r
c.sendall(b"TYPE I\r\nPASV\r\nRETR pub/file.bin\r\n")
assert reply().startswith(b"200")
pasv = reply()
h = [int(x) for x in re.search(rb"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", pasv).groups()]
d = socket.create_connection((srv, h[4] * 256 + h[5]), timeout=10)
assert reply().startswith(b"150")
with open(out, "wb") as o:
    while True:
        b = d.recv(65536)
        if not b:
            break
        o.write(b)
d.close()
assert reply().startswith(b"226")
c.sendall(b"QUIT\r\n")
reply()
PY
ip netns exec "$NS_C" timeout 30 python3 "$T/piped.py" "$SRV" "$T/dl_piped.bin" ||
	fail "pipelined client"
# Default data port: server on 2121 (data from 2120), client control port 41102.
cat >"$T/dflt.py" <<'PY'
import socket, sys
role, srv, path = sys.argv[1], sys.argv[2], sys.argv[3]
def sock(port, addr=""):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    return s
if role == "server":
    data = open(path, "rb").read()
    ls = sock(2121, srv)
    ls.listen(1)
    print("READY", flush=True)
    c, peer = ls.accept()
    f = c.makefile("rb")
    c.sendall(b"220 mini FTP server ready\r\n")
    for line in f:
        verb = line.split(b" ")[0].strip().upper()
        if verb == b"RETR":
            c.sendall(b"150 Opening BINARY mode data connection (%d bytes)\r\n" % len(data))
            d = sock(2120, srv)  # RFC 959 3.2: L-1
            d.connect(peer)     # ... to the client's control port U
            d.sendall(data)
            d.close()
            c.sendall(b"226 Transfer complete\r\n")
        elif verb == b"QUIT":
            c.sendall(b"221 bye\r\n")
            break
        else:
            c.sendall({b"USER": b"230 ok\r\n", b"TYPE": b"200 ok\r\n"}.get(verb, b"502 no\r\n"))
else:
    c = sock(41102)
    c.connect((srv, 2121))
    f = c.makefile("rb")
    lst = sock(41102)  # the default data port is the control port
    lst.listen(1)
    assert f.readline().startswith(b"220")
    for cmd, code in ((b"USER anonymous", b"230"), (b"TYPE I", b"200"), (b"RETR /pub/file.bin", b"150")):
        c.sendall(cmd + b"\r\n")
        assert f.readline().startswith(code)
    d, _ = lst.accept()
    with open(path, "wb") as o:
        while True:
            b = d.recv(65536)
            if not b:
                break
            o.write(b)
    assert f.readline().startswith(b"226")
    c.sendall(b"QUIT\r\n")
    f.readline()
PY
ip netns exec "$NS_S" timeout 30 python3 "$T/dflt.py" server "$SRV" "$T/root/pub/file.bin" \
	>"$T/dflt.out" 2>&1 &
DFLT_PID=$!
for _ in $(seq 50); do grep -q READY "$T/dflt.out" && break; sleep 0.1; done
ip netns exec "$NS_C" timeout 30 python3 "$T/dflt.py" client "$SRV" "$T/dl_dflt.bin" ||
	fail "default data port client: $(cat "$T/dflt.out")"
wait "$DFLT_PID" || fail "default data port server: $(cat "$T/dflt.out")"
for f in "$T/dl_pasv.bin" "$T/dl_port.bin" "$T/root/up/up_pasv.bin" "$T/root/up/up_port.bin" \
	"$T/dl_rest.bin" "$T/lftp/file.bin" "$T/dl_piped.bin" "$T/dl_dflt.bin"; do
	[ "$(md5sum <"$f" | cut -d' ' -f1)" = "$WANT" ] || fail "transfer corrupted: $f"
done
APPE_MD5=$(md5sum <"$T/root/up/up_appe.bin" | cut -d' ' -f1)
[ "$APPE_MD5" = "$WANT" ] || fail "APPE corrupted"

sleep 1.5 # let the capture drain the last packets
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null
TCPDUMP_PID=

grep -h "dropped\|captured" "$T/tcpdump.err"
# Both clients really pipelined: one segment carried several commands.
# (tshark's FTP dissector shows one command a frame: read the payloads.)
tshark -r "$T/cap.pcap" -Y "tcp.dstport == 21 && tcp.len > 0" -T fields -e tcp.srcport \
	-e tcp.payload 2>/dev/null | python3 -c '
import sys
for line in sys.stdin:
    port, payload = line.split()
    cmds = bytes.fromhex(payload).decode("latin-1").split("\r\n")[:-1]
    if len(cmds) > 1:
        print(port, ",".join(c.split(" ")[0] for c in cmds))' >"$T/piped.txt"
grep -q "^41101 TYPE,PASV,RETR$" "$T/piped.txt" ||
	fail "no TYPE,PASV,RETR segment: $(cat "$T/piped.txt")"
grep -q "^[0-9]* .*PASV,RETR" <(grep -v "^41101 " "$T/piped.txt") ||
	fail "lftp sent PASV and RETR separately"
sed 's/^/pipelined: /' "$T/piped.txt"
timeout 60 "$GCPROBE" --read "$T/cap.pcap" --types ftp >"$T/records.json" ||
	fail "gcprobe failed"

python3 - "$T/records.json" "$WANT" <<'EOF' || fail "records do not match"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = sys.argv[2]
# The sessions ran one after the other: records in time order, one per case.
recs.sort(key=lambda r: r["ts"])
# command, mode, direction, filename, size, partial (REST offset or APPE)
cases = [
    ("RETR", "passive", "download", "/pub/file.bin", 204800, None),
    ("RETR", "active", "download", "/pub/file.bin", 204800, None),
    ("STOR", "passive", "upload", "/up/up_pasv.bin", 204800, None),
    ("STOR", "active", "upload", "/up/up_port.bin", 204800, None),
    ("RETR", "passive", "download", "/pub/file.bin", 104800, 100000),  # curl -C
    ("APPE", "passive", "upload", "/up/up_appe.bin", 204800, 0),
    ("RETR", "passive", "download", "/pub/file.bin", 204800, None),  # lftp (PWD'd)
    ("RETR", "passive", "download", "pub/file.bin", 204800, None),  # TYPE,PASV,RETR
    ("RETR", "active", "download", "/pub/file.bin", 204800, None),  # default data port
]
ok = True
for (cmd, mode, direction, name, size, rest), r in zip(cases, recs):
    good = (r.get("command") == cmd and r.get("mode") == mode and r.get("filename") == name
            and r.get("direction") == direction and r.get("size") == size
            and r.get("transfer_type") == "I" and r.get("reply_code") == 226)
    if rest is not None:  # the bytes are not the file: no MD5 that would look like one
        good &= (r.get("partial") is True and "md5" not in r and r.get("md5_complete") is False
                 and r.get("rest_offset", 0) == rest)
    else:
        good &= r.get("md5") == want and r.get("md5_complete") is True and "partial" not in r
    ok &= good
    print(f"{'ok' if good else 'FAIL'}: {mode} {cmd} {name}: {r}")
if len(recs) != len(cases):
    print(f"FAIL: {len(recs)} ftp records, want {len(cases)}")
    ok = False
sys.exit(0 if ok else 1)
EOF
echo "PASS: ftp e2e (passive/active RETR/STOR, pipelined, REST, APPE, default data port; md5 $WANT)"
