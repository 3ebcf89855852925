#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# CI check: re-run the tshark oracle into a temporary folder and diff it
# with the committed tests/golden/expected/ (exit 1 on any difference).
# Usage: check_oracle.sh [corpus-dir]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
corpus=${1:-${GCP_CORPUS_DIR:-$here/../../../shared/corpus}}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

command -v tshark >/dev/null || { echo "check_oracle: tshark not found" >&2; exit 2; }
python3 "$here/oracle.py" --corpus "$corpus" --out "$tmp" >/dev/null
if diff -ru "$here/expected" "$tmp"; then
	echo "check_oracle: expected/ matches the oracle"
else
	echo "check_oracle: expected/ differs from the oracle;" \
	     "regenerate with GCP_UPDATE_GOLDEN=1 or python3 tests/golden/oracle.py" >&2
	exit 1
fi
