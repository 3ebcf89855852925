#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End-to-end mail test: dovecot (POP3 110/995, IMAP 143/993), OpenSMTPD
# (SMTP 25, clear text) and an SMTP server whose TLS is openssl s_server
# (smtp_tls_front.py: STARTTLS on 587, SMTPS 465, AUTH PLAIN/LOGIN/CRAM-MD5,
# PIPELINING) in a server network namespace, driven by curl, swaks and a
# Python IMAP client from a client namespace over a veth pair; tcpdump
# captures, gcprobe --read reads the capture, and each session's mail
# record (mail_type, account, encryption, envelope) is checked against the
# truth. Every client must finish its session, and every TLS session must
# show a completed handshake on the wire (ServerHello, application data
# both ways, per tshark).
# Usage: mail_e2e.sh SRC_DIR BUILD_DIR
set -uo pipefail

src=${1:?source dir} build=${2:?build dir}
probe=$build/probe/gcprobe
SRV_IP=10.231.0.1 CLI_IP=10.231.0.2
USER_NAME=e2e.alice@mail.test USER_PASS=Secr3t-e2e
ns_s=gcpmail-s-$$ ns_c=gcpmail-c-$$ veth_s=gms$$ veth_c=gmc$$
tmp=$(mktemp -d /tmp/gcp-mail-e2e.XXXXXX)
pids=()
fail=0

# ---- cleanup: every daemon we started, both namespaces, the temp dir ------
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	ip netns del "$ns_s" 2>/dev/null
	ip netns del "$ns_c" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

skip() { echo "SKIP: $*"; exit 0; }
die() { echo "FAIL: $*" >&2; exit 1; }
in_s() { ip netns exec "$ns_s" "$@"; }
in_c() { ip netns exec "$ns_c" "$@"; }

# Wait (at most $1 tenths of a second) until the command succeeds.
wait_for() {
	local n=$1; shift
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

[ -x "$probe" ] || die "no gcprobe at $probe"
for t in dovecot smtpd swaks curl tcpdump openssl jq tshark python3; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done

# ---- network: two namespaces joined by a veth pair ---------------------------
if ! err=$(ip netns add "$ns_s" 2>&1); then
	skip "cannot create network namespace: $err"
fi
ip netns add "$ns_c" || die "second namespace"
ip link add "$veth_s" netns "$ns_s" type veth peer name "$veth_c" netns "$ns_c" ||
	die "veth pair"
in_s ip addr add $SRV_IP/24 dev "$veth_s"
in_c ip addr add $CLI_IP/24 dev "$veth_c"
for ns in "$ns_s" "$ns_c"; do
	ip netns exec "$ns" ip link set lo up
done
in_s ip link set "$veth_s" up
in_c ip link set "$veth_c" up
# No checksum offload: the capture then holds the checksums on the wire.
in_s ethtool -K "$veth_s" tx off >/dev/null 2>&1
in_c ethtool -K "$veth_c" tx off >/dev/null 2>&1
# (Reachability is proven below, when the client connects to each server port.)

# ---- certificate and account -------------------------------------------------------
chmod 755 "$tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=mail.test" \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 || die "openssl req"
mkdir -p "$tmp/run" "$tmp/state" "$tmp/home"
chown nobody:nogroup "$tmp/home"
echo "$USER_NAME:{PLAIN}$USER_PASS" >"$tmp/users"
printf 'Subject: e2e curl\r\nMessage-ID: <e2e@client.test>\r\n\r\nhello\r\n' >"$tmp/msg.txt"

# ---- dovecot (POP3, IMAP) -------------------------------------------------------------
cat >"$tmp/dovecot.conf" <<EOF
protocols = imap pop3
listen = $SRV_IP
base_dir = $tmp/run
state_dir = $tmp/state
log_path = $tmp/dovecot.log
ssl = yes
ssl_cert = <$tmp/cert.pem
ssl_key = <$tmp/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $tmp/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$tmp/home/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
EOF
# (ip netns exec execs the daemon: $! is the daemon itself.)
ip netns exec "$ns_s" dovecot -F -c "$tmp/dovecot.conf" >"$tmp/dovecot.out" 2>&1 &
pids+=($!)

# ---- OpenSMTPD (SMTP in clear text) -------------------------------------------------
# (Its server TLS fails on some hosts, "EVP lib": TLS is smtp_tls_front.py's.)
cat >"$tmp/smtpd.conf" <<EOF
listen on $SRV_IP port 25 hostname mail.test
action "drop" mda "/bin/cat >/dev/null" user nobody
match from any for any action "drop"
EOF
# The spool (/var/spool/smtpd) and control socket (/run/smtpd.sock) paths
# are compiled in: give smtpd private tmpfs mounts there, in a mount
# namespace of its own, so nothing on the host changes.
ip netns exec "$ns_s" unshare -m --propagation private sh -c \
	'mount -t tmpfs -o mode=755 tmpfs /var/spool && mkdir -m 711 /var/spool/smtpd &&
	 mount -t tmpfs -o mode=755 tmpfs /run && exec smtpd -d -f "$1"' \
	smtpd "$tmp/smtpd.conf" >"$tmp/smtpd.out" 2>&1 &
pids+=($!)

# ---- SMTP with openssl s_server as the TLS endpoint (587 STARTTLS, 465) ----------------
ip netns exec "$ns_s" python3 "$src/tests/e2e/smtp_tls_front.py" $SRV_IP "$tmp/cert.pem" \
	"$tmp/key.pem" "$USER_NAME" "$USER_PASS" >"$tmp/front.out" 2>"$tmp/front.err" &
pids+=($!)

port_open() { in_c bash -c "exec 3<>/dev/tcp/$SRV_IP/$1" ; }
for port in 110 143 993 995 25 465 587; do
	if ! wait_for 150 port_open $port; then
		tail -20 "$tmp/dovecot.out" "$tmp/dovecot.log" "$tmp/smtpd.out" "$tmp/front.err" \
			2>/dev/null
		die "server port $port did not open"
	fi
done

# ---- capture ----------------------------------------------------------------------------
ip netns exec "$ns_s" tcpdump -i "$veth_s" -n -U -s 0 -w "$tmp/mail.pcap" >"$tmp/tcpdump.out" 2>&1 &
tcpdump_pid=$!
pids+=($tcpdump_pid)
wait_for 100 grep -q "listening on" "$tmp/tcpdump.out" || die "tcpdump did not start"

# ---- scenarios: client port -> expected mail_type / account / encryption ---------
# (account "-": none visible, e.g. AUTH inside TLS). Every client must succeed:
# for the TLS ones that means the handshake with the real server completed.
declare -A want
scenario() { # port type account encryption -- command...
	local port=$1 type=$2 acct=$3 enc=$4
	shift 5
	want[$port]="$type $acct $enc"
	if ! timeout 30 ip netns exec "$ns_c" "$@" >"$tmp/client.$port" 2>&1; then
		echo "FAIL port $port: the client did not finish its session:" >&2
		tail -3 "$tmp/client.$port" >&2
		fail=1
	fi
}
CURL=(curl -sS --max-time 20 -u "$USER_NAME:$USER_PASS" -k)
SWAKS=(swaks --server $SRV_IP --from "e2e.bob@mail.test" --to "nobody@mail.test"
	--helo client.test --timeout 20 --header "Subject: e2e test")
SWAKS_AUTH=(--auth-user "$USER_NAME" --auth-password "$USER_PASS")

scenario 41001 pop3 "$USER_NAME" none -- "${CURL[@]}" --local-port 41001 "pop3://$SRV_IP/"
scenario 41002 pop3 "$USER_NAME" none -- "${CURL[@]}" --local-port 41002 \
	--login-options "AUTH=LOGIN" "pop3://$SRV_IP/"
scenario 41003 pop3 - starttls -- "${CURL[@]}" --local-port 41003 --ssl-reqd "pop3://$SRV_IP/"
scenario 41004 pop3 - tls -- "${CURL[@]}" --local-port 41004 "pop3s://$SRV_IP/"
scenario 41011 imap "$USER_NAME" none -- "${CURL[@]}" --local-port 41011 "imap://$SRV_IP/"
# IMAP LOGIN with synchronizing literals (RFC 9051 4.3), which curl does not send.
cat >"$tmp/imap_literal.py" <<'EOF'
import socket, sys
srv, lport, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
empty = len(sys.argv) > 5  # an empty user literal {0}: refused, then LOGOUT
if empty:
    user = ""
s = socket.create_connection((srv, 143), timeout=10, source_address=("", lport))
f = s.makefile("rb")
def line():
    l = f.readline()
    if not l:
        sys.exit("eof")
    return l
line()
s.sendall(b"a1 LOGIN {%d}\r\n" % len(user))
if not empty:  # RFC 9051 4.3: a zero-length literal needs no go-ahead
    assert line().startswith(b"+")
s.sendall(user.encode() + b" {%d}\r\n" % len(pw))
assert line().startswith(b"+")
s.sendall(pw.encode() + b"\r\n")
while not line().startswith(b"a1 NO" if empty else b"a1 OK"):
    pass
s.sendall(b"a2 LOGOUT\r\n")
while not line().startswith(b"a2 "):
    pass
EOF
scenario 41012 imap "$USER_NAME" none -- python3 "$tmp/imap_literal.py" $SRV_IP 41012 \
	"$USER_NAME" "$USER_PASS"
# LOGIN {0} {N}: the password literal that follows an empty user is no account.
scenario 41015 imap - none -- python3 "$tmp/imap_literal.py" $SRV_IP 41015 \
	"$USER_NAME" "$USER_PASS" empty
scenario 41013 imap - starttls -- "${CURL[@]}" --local-port 41013 --ssl-reqd "imap://$SRV_IP/"
scenario 41014 imap - tls -- "${CURL[@]}" --local-port 41014 "imaps://$SRV_IP/"
scenario 41021 smtp "e2e.bob@mail.test" none -- "${SWAKS[@]}" --local-port 41021
scenario 41022 smtp - starttls -- "${SWAKS[@]}" --local-port 41022 -p 587 -tls \
	--auth PLAIN "${SWAKS_AUTH[@]}"
scenario 41023 smtp - tls -- "${SWAKS[@]}" --local-port 41023 -tlsc -p 465 \
	--auth LOGIN "${SWAKS_AUTH[@]}"
scenario 41024 smtp - starttls -- "${CURL[@]}" --local-port 41024 --ssl-reqd \
	--mail-from "e2e.bob@mail.test" --mail-rcpt "nobody@mail.test" -T "$tmp/msg.txt" \
	"smtp://$SRV_IP:587/client.test"
# AUTH in clear text: the server checks the credentials, so the client's
# success means the exchange the record is taken from was the real one.
scenario 41025 smtp "$USER_NAME" none -- "${SWAKS[@]}" --local-port 41025 -p 587 \
	--auth CRAM-MD5 "${SWAKS_AUTH[@]}"
scenario 41026 smtp "$USER_NAME" none -- "${SWAKS[@]}" --local-port 41026 -p 587 \
	--auth LOGIN "${SWAKS_AUTH[@]}"
scenario 41027 smtp "$USER_NAME" none -- "${SWAKS[@]}" --local-port 41027 -p 587 \
	--auth PLAIN "${SWAKS_AUTH[@]}"
# RFC 2920: MAIL, three RCPTs and DATA in one go.
scenario 41028 smtp "e2e.bob@mail.test" none -- "${SWAKS[@]}" --local-port 41028 -p 587 \
	--pipeline --to "rcpt1@mail.test,rcpt2@mail.test,rcpt3@mail.test"

sleep 1
kill -INT "$tcpdump_pid"
( sleep 10; kill -9 "$tcpdump_pid" 2>/dev/null ) &
watchdog=$!
wait "$tcpdump_pid"
kill "$watchdog" 2>/dev/null

# ---- gcprobe over the capture, checked per client port ---------------------------------
"$probe" --read "$tmp/mail.pcap" --types mail --node-name e2e >"$tmp/records.json" ||
	die "gcprobe failed"
nrec=$(wc -l <"$tmp/records.json")
echo "capture: $(stat -c %s "$tmp/mail.pcap") bytes, $nrec mail records"
for port in $(printf '%s\n' "${!want[@]}" | sort -n); do
	read -r type acct enc <<<"${want[$port]}"
	rec=$(jq -c "select(.src_port == $port)" "$tmp/records.json")
	got=$(jq -r '"\(.mail_type) \(.account // "-") \(.encryption)"' <<<"$rec")
	if [ "$(wc -l <<<"$rec")" != 1 ] || [ -z "$rec" ]; then
		echo "FAIL port $port: want one record ($type $acct $enc), got: ${rec:-none}"
		fail=1
	elif [ "$got" != "$type $acct $enc" ]; then
		echo "FAIL port $port: want $type $acct $enc, got $got"
		fail=1
	else
		echo "ok   port $port: $got"
	fi
	if grep -q -- "$USER_PASS" <<<"$rec"; then
		echo "FAIL port $port: the password is in the record"
		fail=1
	fi
done
# The clear-text SMTP session: the envelope and the DATA headers.
env=$(jq -c 'select(.src_port == 41021) | [.helo, .mail_from, .rcpt_to, .subject]' \
	"$tmp/records.json")
if [ "$env" != '["client.test","e2e.bob@mail.test",["nobody@mail.test"],"e2e test"]' ]; then
	echo "FAIL port 41021 envelope: $env"
	fail=1
else
	echo "ok   port 41021 envelope: $env"
fi
# One jq expression over the record of a client port, compared with what it must give.
check_rec() { # port jq-expression want label
	local got
	got=$(jq -c "select(.src_port == $1) | $2" "$tmp/records.json")
	if [ "$got" != "$3" ]; then
		echo "FAIL port $1 $4: want $3, got ${got:-none}"
		fail=1
	else
		echo "ok   port $1 $4: $got"
	fi
}
check_rec 41025 .auth_mech '"CRAM-MD5"' auth_mech
check_rec 41026 .auth_mech '"LOGIN"' auth_mech
check_rec 41027 .auth_mech '"PLAIN"' auth_mech
check_rec 41028 '[.mail_from, .rcpt_to]' \
	'["e2e.bob@mail.test",["rcpt1@mail.test","rcpt2@mail.test","rcpt3@mail.test"]]' envelope
# ... and the client did pipeline: one segment carried several commands.
piped=$(tshark -r "$tmp/mail.pcap" -Y "tcp.srcport == 41028 && smtp.req" -T fields \
	-e smtp.req.command 2>/dev/null | awk -F, 'NF >= 3' | head -1)
if [ -z "$piped" ]; then
	echo "FAIL port 41028: no pipelined commands on the wire"
	fail=1
else
	echo "ok   port 41028 pipelined: $piped"
fi

# Every TLS session completed its handshake with the real server: the
# ServerHello went to the client and encrypted records went both ways
# (in TLS 1.3 the client's Finished is the first of them).
tls_done() { # client port
	local f
	for f in "tls.handshake.type == 2 && tcp.dstport == $1" \
		"tls.app_data && tcp.srcport == $1" "tls.app_data && tcp.dstport == $1"; do
		[ -n "$(tshark -r "$tmp/mail.pcap" -Y "$f" 2>/dev/null | head -1)" ] || return 1
	done
}
for port in $(printf '%s\n' "${!want[@]}" | sort -n); do
	read -r type acct enc <<<"${want[$port]}"
	[ "$enc" = none ] && continue
	if tls_done "$port"; then
		echo "ok   port $port: TLS handshake completed"
	else
		echo "FAIL port $port: no completed TLS handshake on the wire"
		fail=1
	fi
done
# s_server's side: the SMTP dialogue went on inside TLS up to QUIT.
for s in "41022 starttls" "41023 tls" "41024 starttls"; do
	if grep -qx "SESSION $s quit" "$tmp/front.out"; then
		echo "ok   port ${s% *}: SMTP over s_server's TLS up to QUIT"
	else
		echo "FAIL port ${s% *}: no \"SESSION $s quit\" from the server"
		fail=1
	fi
done
if [ $fail -ne 0 ]; then
	echo "--- records" && cat "$tmp/records.json"
	echo "--- server" && cat "$tmp/front.out" "$tmp/front.err"
	exit 1
fi
echo "mail e2e: ok"
