#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# records_identical.sh OLD_GCPROBE NEW_GCPROBE [CORPUS_DIR_OR_FILE...]
#
# Two gcprobe binaries must write the same records, byte for byte, for
# every capture (*.pcap, *.pcapng under each directory, or the files
# named), in both output formats: `--read F --format msgpack|json -o OUT`.
# The one value that may differ is ingest_ts (wall clock): it is masked
# in both (MessagePack: the whole timestamp extension after the key, in
# whichever of its three forms; JSON: the string value). Both run with
# the same fixed flow-table hash seed (limits.hash_seed): with a random
# one, which flow a full table evicts, and so conn_count, varies from run
# to run of one binary.
# Exit 0 when all agree; 1 naming each capture and format that differs;
# 2 on usage errors. Default corpus: ../shared/corpus of the checkout.
set -u

if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
	echo "usage: $0 OLD_GCPROBE NEW_GCPROBE [CORPUS_DIR_OR_FILE...]" >&2
	exit 2
fi
old=$1 new=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$here/../../../shared/corpus"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '[limits]\nhash_seed = %s\n' "${GCP_HASH_SEED:-12345}" >"$tmp/seed.conf"

# Mask ingest_ts in place: FORMAT FILE.
mask() {
	python3 - "$1" "$2" <<'EOF'
import re, sys
fmt, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
if fmt == 'msgpack':
    pat = re.compile(rb'\xa9ingest_ts(?:\xd6\xff.{4}|\xd7\xff.{8}|\xc7\x0c\xff.{12})', re.S)
    data = pat.sub(b'\xa9ingest_ts<masked>', data)
else:
    data = re.sub(rb'"ingest_ts":"[^"]*"', b'"ingest_ts":"<masked>"', data)
open(path, 'wb').write(data)
EOF
}

# Run one binary: BIN CAPTURE FORMAT OUT. The exit status and stderr
# are part of the comparison (a run that fails must fail the same way).
run() {
	rm -f "$4" "$4".*
	"$1" --config "$tmp/seed.conf" --read "$2" --format "$3" -o "$4" >"$4.log" 2>&1
	echo "rc=$?" >>"$4.log"
	[ -f "$4" ] || : >"$4"
	mask "$3" "$4"
}

files=()
for a in "$@"; do
	if [ -d "$a" ]; then
		while IFS= read -r f; do files+=("$f"); done \
			< <(find "$a" -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort)
	elif [ -f "$a" ]; then
		files+=("$a")
	else
		echo "$0: $a: no such file or directory" >&2
		exit 2
	fi
done
[ ${#files[@]} -gt 0 ] || { echo "$0: no captures found in $*" >&2; exit 2; }

bad=0
for f in "${files[@]}"; do
	for fmt in msgpack json; do
		run "$old" "$f" "$fmt" "$tmp/old"
		run "$new" "$f" "$fmt" "$tmp/new"
		# stderr may name the binary's path: compare it without that.
		sed -i "s#$old#GCPROBE#g" "$tmp/old.log"
		sed -i "s#$new#GCPROBE#g" "$tmp/new.log"
		if ! cmp -s "$tmp/old" "$tmp/new"; then
			echo "DIFF $fmt records: $f ($(stat -c %s "$tmp/old") vs $(stat -c %s "$tmp/new") bytes)"
			bad=$((bad + 1))
		elif ! cmp -s "$tmp/old.log" "$tmp/new.log"; then
			echo "DIFF $fmt status/stderr: $f"
			bad=$((bad + 1))
		fi
	done
done
echo "records_identical: ${#files[@]} captures x 2 formats, $bad differ"
[ $bad -eq 0 ]
