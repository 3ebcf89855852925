#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The one benchmark command (issues 6, 12): builds Release if needed,
# generates the mixes, runs the pipeline (flow/full, 1..nproc workers), the
# flow-table scale bench (1M, 4M flows), the micro benches, ndpiReader and
# tshark on the same captures, then writes docs/PERFORMANCE.md and
# docs/img/*.png (the <!-- manual:begin/end --> section is kept).
#   bench/report/report.sh            full run (~3-5 min on 2 cores)
#   bench/report/report.sh --quick    short run (< 60 s)
#   add --no-write to print the JSON only and write nothing
#   add --guard [FLOOR] to fail unless gcprobe's 64b flow and enterprise
#   full rates are >= FLOOR (default 0.5) x ndpiReader's (CI)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${GCP_BENCH_BUILD:-$root/build-rel}"
[ -f "$build/CMakeCache.txt" ] ||
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGCP_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null # incremental: a no-op when up to date
exec python3 "$root/bench/report/report.py" --root "$root" --build "$build" "$@"
