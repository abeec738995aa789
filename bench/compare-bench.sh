#!/bin/sh
# compare-bench.sh - speed of `pcp-llm compare` against the importer (issue #14's goals:
# comparing two 200 MB result files in at most 1.5x the time to import them; comparing the two
# imported archives in under 1 s).
#
# usage: bench/compare-bench.sh [MB]        (default 200; run from anywhere)
#   BENCH_DIR=/some/dir  where the generated files and archives go (default /tmp/compare-bench)
#
# Builds two MB-sized result files from the real GuideLLM 0.5.3 and 0.8.1 fixtures with
# bench/make-big-guidellm.py, then prints the wall time of importing both (one after the
# other), of comparing the two files, and of comparing the two archives. Not a test: nothing
# is asserted.
set -eu
cd "$(dirname "$0")/.."
MB=${1:-200}
W=${BENCH_DIR:-/tmp/compare-bench}
mkdir -p "$W"
pick() { [ -f "../shared/fixtures/guidellm/$1" ] && echo "../shared/fixtures/guidellm/$1" || echo "tests/fixtures/guidellm/$2"; }
A_REAL=$(pick v0.5.3/prefix-concurrent-2-4/benchmarks.json v0.5.3-prefix-concurrent-2-4.json)
B_REAL=$(pick v0.8.1/prefix-multiturn-concurrent-2-4/benchmarks.json v0.8.1-prefix-multiturn-concurrent-2-4.json)
A="$W/a-$MB.json"
B="$W/b-$MB.json"
[ -f "$A" ] || python3 bench/make-big-guidellm.py "$A_REAL" "$A" --mb "$MB"
[ -f "$B" ] || python3 bench/make-big-guidellm.py "$B_REAL" "$B" --mb "$MB"
cargo build -q --release --bin guidellm2pcp --bin pcp-llm
IMP=target/release/guidellm2pcp
CMP=target/release/pcp-llm

secs() { # command... -> wall seconds on stdout (output of the command discarded)
    s=$(date +%s.%N)
    "$@" > /dev/null
    e=$(date +%s.%N)
    echo "$s $e" | awk '{printf "%.3f", $2 - $1}'
}

echo "files: $A ($(stat -c %s "$A") bytes), $B ($(stat -c %s "$B") bytes); $(nproc) CPUs"
ia=$(secs "$IMP" -q "$A" -o "$W/a" --force)
ib=$(secs "$IMP" -q "$B" -o "$W/b" --force)
cf=$(secs "$CMP" compare -F json "$A" "$B")
ca=$(secs "$CMP" compare -F json "$W/a" "$W/b")
imp=$(echo "$ia $ib" | awk '{printf "%.3f", $1 + $2}')
printf '%-40s %8s s\n' "guidellm2pcp a (import)" "$ia" "guidellm2pcp b (import)" "$ib" \
    "imports together" "$imp" "pcp-llm compare a.json b.json" "$cf" \
    "pcp-llm compare archive-a archive-b" "$ca"
echo "$cf $imp" | awk '{printf "compare files / import both: %.2f (goal <= 1.5)\n", $1 / $2}'
