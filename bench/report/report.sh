#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The one benchmark command (issue 6): builds Release if needed, generates
# the mixes, runs the pipeline (flow/full, 1..nproc workers), the micro
# benches, ndpiReader and tshark on the same captures, then writes
# docs/PERFORMANCE.md and docs/img/*.png.
#   bench/report/report.sh            full run (~5 min on 2 cores)
#   bench/report/report.sh --quick    short run (CI, < 60 s)
#   add --no-write to print the JSON only and write nothing
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${GCP_BENCH_BUILD:-$root/build-rel}"
[ -f "$build/CMakeCache.txt" ] ||
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGCP_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null # incremental: a no-op when up to date
exec python3 "$root/bench/report/report.py" --root "$root" --build "$build" "$@"
