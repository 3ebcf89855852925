#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# ctest fuzz_regress_<target>: tests/fuzz/regress.sh TARGET REPLAY_BIN CORPUS
# Replays, through the target's entry point built without libFuzzer, the
# committed findings (tests/fuzz/regress/<target>), the committed seeds
# and the seeds made from the corpus, so every target runs in the normal
# and the ASan+UBSan suites.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$1 bin=$2 corpus=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gcp-fuzz-regress.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$here/seeds.sh" "$t" "$corpus" "$tmp" >/dev/null
dirs=()
for d in "$here/regress/$t" "$here/seeds/$t" "$tmp"; do
	[ -n "$(ls -A "$d" 2>/dev/null)" ] && dirs+=("$d")
done
if [ ${#dirs[@]} -eq 0 ]; then
	echo "fuzz_regress_$t: error: no inputs (regress/, seeds/ or corpus seeds)" >&2
	exit 1
fi
exec "$bin" "${dirs[@]}"
