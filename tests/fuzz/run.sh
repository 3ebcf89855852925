#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the libFuzzer targets (clang, ASan+UBSan, build-fuzz/) and run each
# for SECONDS: tests/fuzz/run.sh SECONDS [TARGET...]   (default: all, 30 s)
#
# Corpus: build-fuzz/fuzz-seeds/<target>, seeded once from ../shared/corpus
# (pcap2seeds.py) and the docs, kept and grown between runs; the committed
# tests/fuzz/seeds/<target> and tests/fuzz/regress/<target> are read too.
# Dictionary: tests/fuzz/<target>.dict. A crash, leak or timeout leaves its
# input in build-fuzz/crashes/<target>/ and the script exits 1 naming it.
#
# Long runs: tests/fuzz/run.sh 3600            (every target, 1 h each)
#            FUZZ_JOBS=8 tests/fuzz/run.sh 3600 pcap   (8 parallel workers)
# Replay one input: build-fuzz/tests/fuzz/fuzz_<target> FILE
# More libFuzzer options: FUZZ_ARGS="-rss_limit_mb=4096 ..."
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
shift || true
case $secs in '' | *[!0-9]*)
	echo "run.sh: error: SECONDS must be a number, got '$secs'" >&2
	exit 2 ;;
esac
root=$PWD
build=${FUZZ_BUILD:-$root/build-fuzz} # FUZZ_BUILD: another build directory
corpus=$root/../shared/corpus
all=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
targets=${*:-$all}
for t in $targets; do
	if [ ! -f tests/fuzz/fuzz_$t.c ]; then
		echo "run.sh: error: no fuzz target '$t' (have: $(echo $all))" >&2
		exit 2
	fi
done

CC=clang cmake -S . -B $build -DCMAKE_BUILD_TYPE=Debug -DGCP_BUILD_FUZZ=ON \
	-DGCP_BUILD_TESTS=ON -DGCP_BUILD_BENCH=OFF >/dev/null
# At most 2 jobs: the CI machine has 2 cores.
cmake --build $build -j2 --target $(printf 'fuzz_%s ' $targets) >$build/fuzz-build.log 2>&1 ||
	{ tail -30 $build/fuzz-build.log; exit 1; }

# Seeds: made once per target (an empty directory), grown by libFuzzer.
seed_once() {
	local dir=$build/fuzz-seeds/$1
	mkdir -p "$dir"
	[ -z "$(ls -A "$dir")" ] || return 0
	tests/fuzz/seeds.sh "$1" "$corpus" "$dir"
}

# Per-target options beyond the common ones.
extra_args() {
	case $1 in
	config) echo -close_fd_mask=2 ;; # one error line per bad file
	pipeline) echo -dict="$root/tests/fuzz/decode.dict" ;;
	*) [ -f tests/fuzz/$1.dict ] && echo -dict="$root/tests/fuzz/$1.dict" ;;
	esac
	return 0
}

jobs=${FUZZ_JOBS:-1}
fail=0
summary=$build/fuzz-summary.txt
: >"$summary"
for t in $targets; do
	seed_once "$t"
	crashes=$build/crashes/$t
	mkdir -p "$crashes"
	dirs=("$build/fuzz-seeds/$t")
	for d in "$root/tests/fuzz/seeds/$t" "$root/tests/fuzz/regress/$t"; do
		[ -d "$d" ] && dirs+=("$d")
	done
	args=(-max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048
		-print_final_stats=1 -artifact_prefix="$crashes/" $(extra_args "$t") ${FUZZ_ARGS:-})
	[ "$jobs" -gt 1 ] && args+=(-jobs="$jobs" -workers="$jobs")
	log=$build/fuzz_$t.log
	work=$build/fuzz-work/$t # -jobs writes fuzz-N.log files into the cwd
	rm -rf "$work" && mkdir -p "$work"
	echo "-- fuzz_$t (${secs}s)"
	if ! (cd "$work" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$build/tests/fuzz/fuzz_$t" "${args[@]}" "${dirs[@]}") >"$log" 2>&1; then
		[ "$jobs" -gt 1 ] && cat "$work"/fuzz-*.log >>"$log"
		grep -E 'ERROR|SUMMARY|fuzz:|Test unit written|runtime error' "$log" | head -20
		repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		[ "$jobs" -gt 1 ] && repro=$(ls -t "$crashes"/* 2>/dev/null | head -1)
		echo "FAIL fuzz_$t: reproducer ${repro:-?} (replay: $build/tests/fuzz/fuzz_$t ${repro:-FILE}; log $log)"
		fail=1
		continue
	fi
	# Final libFuzzer line and stats (with -jobs the workers' logs hold them).
	[ "$jobs" -gt 1 ] && cat "$work"/fuzz-*.log >>"$log"
	line=$(grep -E '^#[0-9]+.*(DONE|pulse|REDUCE|NEW)' "$log" | tail -1 || true)
	runs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(echo "$line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$line" | sed -n 's/.*corp: \([0-9]*\)\/.*/\1/p')
	printf '%-9s secs=%s runs=%s exec/s=%s cov=%s ft=%s corpus=%s\n' \
		"$t" "$secs" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" | tee -a "$summary"
done
exit $fail
