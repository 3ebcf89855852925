#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Initial inputs of one fuzz target: tests/fuzz/seeds.sh TARGET CORPUS OUT
# (frames, flows and small captures of the corpus via pcap2seeds.py; the
# documented config and rules examples). Targets without generated seeds
# (json, reasm, tls_dn) use their committed tests/fuzz/seeds/<target> only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
t=$1 corpus=$2 out=$3
mkdir -p "$out"
case $t in
pipeline | decode | pcap | http | http2 | tls | dns | mail | ftp | quic)
	python3 "$here/pcap2seeds.py" "$t" "$corpus" "$out" ;;
config)
	cp "$root/docs/gcprobe.conf.example" "$out/example.conf"
	# The same file with every commented-out key switched on.
	sed 's/^# \([a-z_]* =\)/\1/' "$root/docs/gcprobe.conf.example" >"$out/all-keys.conf" ;;
rules)
	awk '/^```$/ { on = !on; next } on && /^(#|id=)/' "$root/docs/RULES.md" >"$out/doc.rules" ;;
esac
