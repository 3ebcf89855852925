#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Effect of a change in one run (issue 12): builds OLD_REV and NEW_REV
# (git archive into $GCP_COMPARE_DIR, default /tmp/gcp-compare, kept per
# commit), then alternates old/new runs of the generated mixes (flow, full)
# and prints per mix the CPU-time Mpps of each, the median ratio new/old,
# callgrind instructions per packet, and whether records are identical
# (tests/golden/records_identical.sh of NEW_REV, skipped when absent).
#   bench/report/compare.sh OLD_REV NEW_REV [--pairs N] [--no-callgrind] [--no-records]
#   ("." as a revision = this checkout, uncommitted changes included)
# About 2 minutes on 2 cores with callgrind (builds not counted).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
exec python3 "$root/bench/report/compare.py" --root "$root" "$@"
