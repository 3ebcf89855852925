#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Sink crash-safety: gcprobe writing MessagePack to a rotate: and a file:
# sink is killed with SIGKILL at random moments (5 times). After each kill
# every file (visible, hidden .tmp, file sink) must be whole records plus
# at most one torn tail record (mpcheck). Each restart must: leave every
# earlier file byte for byte as it was, write the file sink to a NEW file
# (PATH.N), and recover the killed run's rotate .tmp into view cut to its
# whole records. A last clean run checks that nothing is left hidden.
# usage: sigkill_e2e.sh GCPROBE MPCHECK SRC_DIR [CORPUS_DIR]
set -u
BIN=$1 MPCHECK=$2 SRC=$3
ITER=${GCP_SIGKILL_ITER:-5}
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 0; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 "$SRC/data/mkdemo.py" "$TMP/big.pcap" 8000   # 160000 packets, 40000 records
mkdir "$TMP/rot" "$TMP/file"

# Full-run time, to pick kill moments inside the run.
mkdir "$TMP/probe"
t0=$(date +%s%N)
"$BIN" --read "$TMP/big.pcap" --workers 2 --sink "rotate:$TMP/probe?max_bytes=1048576" \
	--sink "file:$TMP/probe.mp?format=msgpack" 2>/dev/null || true
rm -rf "$TMP/probe" "$TMP"/probe.mp*
FULL_MS=$((($(date +%s%N) - t0) / 1000000))
echo "sigkill: a full run takes $FULL_MS ms"

run() { # run INPUT: gcprobe in the background, PID in $PID
	"$BIN" --read "$1" --workers 2 --types tcp,http,dns,stats \
		--sink "rotate:$TMP/rot?max_bytes=4194304&prefix=k" \
		--sink "file:$TMP/file/out.mp?format=msgpack" >/dev/null 2>>"$TMP/probe.err" &
	PID=$!
}

# snap NAME [PREV]: every file's identity (size, mtime, inode), mpcheck
# verdict and digests, as JSON; files unchanged since PREV are not re-read.
snap() {
	python3 - "$MPCHECK" "$TMP" "$@" <<'PY'
import hashlib, json, os, subprocess, sys
mpcheck, tmp, name = sys.argv[1:4]
prev = json.load(open(os.path.join(tmp, sys.argv[4] + ".json"))) if len(sys.argv) > 4 else {}
out, todo = {}, []
for d in ("rot", "file"):
    for f in sorted(os.listdir(os.path.join(tmp, d))):
        st = os.stat(os.path.join(tmp, d, f))
        sig = [st.st_size, st.st_mtime_ns, st.st_ino]
        k = d + "/" + f
        if k in prev and prev[k]["sig"] == sig:
            out[k] = prev[k]
        else:
            todo.append((k, sig))
r = subprocess.run([mpcheck] + [os.path.join(tmp, k) for k, _ in todo], capture_output=True,
                   text=True) if todo else None
if r and r.returncode != 0:
    sys.exit("FAIL: not whole records + torn tail: %s %s" % (r.stdout, r.stderr))
checks = {c["file"]: c for c in map(json.loads, r.stdout.splitlines())} if r else {}
for k, sig in todo:
    p = os.path.join(tmp, k)
    chk = checks[p]
    data = open(p, "rb").read()
    out[k] = {"sig": sig, "size": len(data), "sha": hashlib.sha256(data).hexdigest(),
              "whole_sha": hashlib.sha256(data[:chk["whole"]]).hexdigest(),
              "records": chk["records"], "torn": chk["torn_tail"]}
json.dump(out, open(os.path.join(tmp, name + ".json"), "w"))
n = sum(v["records"] for v in out.values())
torn = sum(1 for v in out.values() if v["torn"])
print("  %d files (%d new or changed), %d whole records, %d torn tail(s)" % (len(out), len(todo), n, torn))
PY
}

# after BEFORE AFTER: earlier files untouched, a new file:-sink file, .tmp recovered.
after() {
	python3 - "$TMP/$1.json" "$TMP/$2.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
for f, v in a.items():
    d, name = f.split("/", 1)
    if d == "rot" and name.startswith("."):  # the killed run's .tmp: recovered
        fin = "rot/" + name[1:-len(".tmp")]
        if f in b:
            bad.append("%s still hidden after the restart" % f)
        elif v["records"] == 0:
            if fin in b: bad.append("%s had no whole record but became %s" % (f, fin))
        elif fin not in b or b[fin]["sha"] != v["whole_sha"]:
            bad.append("%s not recovered as its whole records into %s" % (f, fin))
    elif d == "file" and v["size"] == 0:
        pass  # an empty PATH is reused (killed before its first write)
    elif f not in b or b[f]["sig"] != v["sig"] or b[f]["sha"] != v["sha"]:
        bad.append("%s changed or vanished after the restart" % f)
empty = [f for f in a if f.startswith("file/") and a[f]["size"] == 0]
new_files = [f for f in b if f.startswith("file/") and (f not in a or f in empty)]
added = [f for f in b if f.startswith("file/") and f not in a]
if not (len(added) == 1 or (not added and empty)):
    bad.append("the file: sink should start one new file, got %s" % new_files)
if bad:
    sys.exit("FAIL: " + "; ".join(bad))
print("  restart: earlier files untouched, new file %s, leftovers recovered" % new_files)
PY
}

fail=0
snap s0 >/dev/null
for i in $(seq 1 "$ITER"); do
	before=$(du -sb "$TMP/rot" "$TMP/file" | awk '{n += $1} END {print n}')
	run "$TMP/big.pcap"
	# Once this run has written something, a random moment in its writing.
	for _ in $(seq 500); do
		[ "$(du -sb "$TMP/rot" "$TMP/file" | awk '{n += $1} END {print n}')" -gt "$before" ] && break
		sleep 0.02
	done
	ms=$((RANDOM % (FULL_MS / 4 + 1)))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$PID" 2>/dev/null || echo "  (the run ended before the kill)"
	wait "$PID" 2>/dev/null
	echo "kill $i, ${ms} ms after its first write:"
	snap "s$i" "s$((i - 1))" || { fail=1; break; }
	if [ "$i" -gt 1 ]; then after "s$((i - 1))" "s$i" || { fail=1; break; }; fi
done
# A clean run of a small capture: recovers the last kill's leftovers, exits 0.
if [ "$fail" -eq 0 ]; then
	run "$SRC/data/demo.pcap"
	wait "$PID" || { echo "FAIL: clean restart exited $?"; fail=1; }
	echo "clean restart:"
	snap final "s$ITER" && after "s$ITER" final || fail=1
	ls -A "$TMP/rot" | grep -q '^\.' && { echo "FAIL: hidden files left after a clean run"; fail=1; }
fi
# A kill inside write() leaves a torn tail; make one for sure: a crash
# leftover cut mid-record must be recovered cut back to its whole records,
# a corrupt one left hidden with a warning, and mpcheck must tell them apart.
if [ "$fail" -eq 0 ]; then
	src=$(ls "$TMP"/rot/k-*.mp | head -1)
	torn="$TMP/rot/.k-19700101T000000Z-999999-000001.mp.tmp"
	bad="$TMP/rot/.k-19700101T000000Z-999999-000002.mp.tmp"
	head -c $(($(stat -c %s "$src") - 100)) "$src" >"$torn"
	head -c 20000 "$src" >"$TMP/part"
	cut=$("$MPCHECK" "$TMP/part" | python3 -c 'import json,sys; print(json.load(sys.stdin)["whole"])')
	{ head -c "$cut" "$src"; printf '\xc1'; cat "$src"; } >"$bad" # 0xc1: never valid
	"$MPCHECK" "$torn" | grep -q '"torn_tail":[1-9].*"ok":true' || { echo "FAIL: mpcheck: torn tail not reported"; fail=1; }
	"$MPCHECK" "$bad" >/dev/null 2>&1 && { echo "FAIL: mpcheck: corruption not reported"; fail=1; }
	want=$("$MPCHECK" "$torn" | python3 -c 'import json,sys; print(json.load(sys.stdin)["whole"])')
	head -c "$want" "$torn" >"$TMP/want"
	run "$SRC/data/demo.pcap"; wait "$PID"
	if ! cmp -s "$TMP/want" "$TMP/rot/k-19700101T000000Z-999999-000001.mp" || [ -e "$torn" ]; then
		echo "FAIL: a torn .tmp was not recovered as its whole records"; fail=1
	fi
	[ -e "$bad" ] && grep -q "not MessagePack records after byte" "$TMP/probe.err" ||
		{ echo "FAIL: a corrupt .tmp was not left alone with a warning"; fail=1; }
fi
grep -h "recovered\|warning" "$TMP/probe.err" | sed 's|'"$TMP"'/||' | head -3
[ "$fail" -eq 0 ] && echo "PASS: $ITER SIGKILLs: whole records only, restarts write new files"
exit $fail
