#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the libFuzzer targets with clang and run each for SECONDS (default
# 30). Seeds: frames of the shared corpus for the pipeline target.
# Long run: tests/fuzz/run.sh 3600
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
build=build-fuzz
CC=clang cmake -S . -B $build -DCMAKE_BUILD_TYPE=Debug -DGCP_BUILD_FUZZ=ON \
	-DGCP_BUILD_TESTS=ON -DGCP_BUILD_BENCH=OFF >/dev/null
targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
cmake --build $build -j"$(nproc)" --target $targets
seeds=$build/fuzz-seeds
mkdir -p $seeds/pipeline
if [ -z "$(ls -A $seeds/pipeline)" ]; then
	python3 tests/fuzz/pcap2seeds.py ../shared/corpus $seeds/pipeline
fi
fail=0
for t in $targets; do
	name=${t#fuzz_}
	mkdir -p $seeds/$name
	echo "-- $t (${secs}s)"
	dict=tests/fuzz/$name.dict
	args=(-max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
	[ -f "$dict" ] && args+=(-dict="$dict")
	if ! ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/$t" "${args[@]}" $seeds/$name \
		>$build/$t.log 2>&1; then
		tail -40 $build/$t.log
		fail=1
	else
		grep -E 'stat::number_of_executed_units|Done' $build/$t.log | tail -2
	fi
done
exit $fail
