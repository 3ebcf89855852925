#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Per-stage cost table (issue 12): callgrind on the pipeline bench for each
# mix, instructions (and estimated ns) per packet for decode, flow lookup,
# flow update/timers, reassembly, each dissector, Hyperscan and record
# encoding. The code-to-stage mapping is STAGE_RULES in stages.py.
#   bench/report/stages.sh [--rev REV] [--json OUT.json] [--before BEFORE.json]
#   --rev: a git revision built like compare.sh does (default: this checkout)
#   --before: print before/after columns against an earlier --json
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
exec python3 "$root/bench/report/stages.py" --root "$root" "$@"
