#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Config file (--config, --check-config), CLI overrides, tenant map, stats records.
# usage: config.sh GCPROBE SOURCE_DIR CORPUS_DIR
set -u
BIN=$1 SRC=$2 CORPUS=$3
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
VLAN=$CORPUS/encap/zeek-vlan-qinqinq-http.pcap
cat >"$tmp/ok.conf" <<EOC
# probe settings
[probe]
node_name = edge-1
node_type = virtual
agent_ip = 192.0.2.7
tenant = fallback
stats_interval = 10s
[capture]
read = $SRC/data/demo.pcap
[limits]
tcp_idle = 5m
reasm_total_bytes = 32M
[tenants]
vlan:30 = tenantA
vni:5001 = tenantB
[output]
format = json
types = tcp,http,dns,stats
EOC
out=$("$BIN" --check-config "$tmp/ok.conf") && [ "$out" = ok ] || bad "--check-config on a good file: '$out'"
"$BIN" --config "$tmp/ok.conf" >"$tmp/a.json" || bad "run with --config"
[ "$(jq -r 'select(.type=="tcp") | [.node_name,.node_type,.agent_ip,.tenant] | join(" ")' "$tmp/a.json" | sort -u)" = \
  "edge-1 virtual 192.0.2.7 fallback" ] || bad "config values not in records"
[ "$(jq -r 'select(.type=="stats") | .final' "$tmp/a.json")" = true ] || bad "no final stats record"
# Command line overrides the file, including the capture source.
"$BIN" --config "$tmp/ok.conf" --node-name cli-node --read "$VLAN" >"$tmp/b.json" || bad "override run"
[ "$(jq -r 'select(.type=="tcp") | .node_name' "$tmp/b.json" | sort -u)" = cli-node ] || bad "CLI did not override node_name"
[ "$(jq -r 'select(.type=="tcp") | .tenant' "$tmp/b.json" | sort -u)" = tenantA ] || bad "tenant by VLAN"
# Errors: one line "gcprobe: error: FILE:LINE: ...", exit 2.
check_err() { # name, expected line, file contents
	printf '%b' "$3" >"$tmp/$1.conf"
	"$BIN" --check-config "$tmp/$1.conf" >/dev/null 2>"$tmp/err"; rc=$?
	[ $rc -eq 2 ] || bad "$1: exit $rc, not 2"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "$1: not one line: $(cat "$tmp/err")"
	grep -q "^gcprobe: error: $tmp/$1.conf:$2: " "$tmp/err" || bad "$1: $(cat "$tmp/err")"
}
check_err unknown_key 2 '[probe]\nbogus = 1\n'
check_err unknown_section 1 '[nope]\n'
check_err bad_value 3 '[limits]\n\nmax_flows = 0\n'
check_err bad_node_type 2 '[probe]\nnode_type = cloud\n'
check_err no_section 1 'node_name = x\n'
check_err no_equals 2 '[probe]\nnode_name\n'
check_err two_sources 3 '[capture]\nread = a.pcap\niface = eth0\n'
check_err bad_vlan 2 '[tenants]\nvlan:5000 = x\n'
check_err dup_tenant 3 '[tenants]\nvni:7 = x\nvni:7 = y\n'
printf 'id=1 field=host pattern=/(/\n' >"$tmp/bad.rules"
check_err bad_rules 4 "[capture]\nread = x.pcap\n[rules]\nfile = $tmp/bad.rules\n"
# Periodic stats records at the packet-time interval.
python3 "$SRC/data/mkdemo.py" "$tmp/long.pcap" 5000 >/dev/null 2>&1 || bad "mkdemo"
"$BIN" --read "$tmp/long.pcap" --types stats --stats-interval 60 >"$tmp/s.json" || bad "stats run"
n=$(jq -r 'select(.type=="stats" and .final==false) | .pkts' "$tmp/s.json" | wc -l)
[ "$n" -ge 2 ] || bad "periodic stats records: $n"
# Engine counters in the final stats record and the --stats line, summed
# over workers: FTP expectations announced and matched, Hyperscan naming.
FTP=$CORPUS/ftp/zeek-ftp-ipv4-pasv-port.pcap
keys='[.expect_added,.expect_matched,.expect_full,.expect_expired,.stream_resyncs,.hs_identified,.hs_streams_full,.hs_scan_errors,.rules_tagged,.rules_hits_dropped,.rules_swaps,.rules_scan_errors] | map(tostring) | join(" ")'
for w in 1 2; do
	"$BIN" --read "$FTP" --workers $w --types ftp,stats --stats >"$tmp/f.json" 2>"$tmp/f.err" || bad "ftp stats run ($w)"
	rec=$(jq -r "select(.type==\"stats\" and .final) | $keys" "$tmp/f.json")
	line=$(jq -r "select(.pkts) | $keys" "$tmp/f.err" 2>/dev/null)
	[ "$rec" = "4 4 0 0 0 1 0 0 0 0 0 0" ] || bad "stats record counters ($w workers): '$rec'"
	[ "$line" = "$rec" ] || bad "--stats line counters ($w workers): '$line' vs '$rec'"
done
# No stats records unless asked for.
"$BIN" --read "$SRC/data/demo.pcap" | jq -e 'select(.type=="stats")' >/dev/null && bad "stats by default"
[ $fail -eq 0 ] && echo "PASS: config"
exit $fail
