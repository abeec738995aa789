#!/bin/sh
# importer-bench.sh - speed and memory of guidellm2pcp on a large GuideLLM result file.
#
# usage: bench/importer-bench.sh [MB]        (default 200; run from anywhere)
#   BENCH_DIR=/some/dir  where the generated files and archives go (default /tmp/gl2pcp-bench)
#   KEEP=1               keep the generated files
#
# Builds a MB-sized, internally consistent result file from a real GuideLLM 0.5.3 file with
# bench/make-big-guidellm.py (prefers ../shared/fixtures, falls back to tests/fixtures), a
# zstd -3 copy, then prints wall time and peak RSS (/usr/bin/time -v; Debian package `time`)
# (and user+system CPU seconds) of: cat, zstd -dc, a plain serde parse (examples/guidellm-parse.rs, IgnoredAny, streaming),
# and guidellm2pcp, each on .json and .json.zst, and upstream PCP's Python guidellm2pcp where it
# is installed. Not a test: nothing is asserted.
set -eu
cd "$(dirname "$0")/.."
MB=${1:-200}
W=${BENCH_DIR:-/tmp/gl2pcp-bench}
mkdir -p "$W"
REAL=../shared/fixtures/guidellm/v0.5.3/prefix-concurrent-2-4/benchmarks.json
[ -f "$REAL" ] || REAL=tests/fixtures/guidellm/v0.5.3-prefix-concurrent-2-4.json
J="$W/big-$MB.json"
Z="$J.zst"
[ -f "$J" ] || python3 bench/make-big-guidellm.py "$REAL" "$J" --mb "$MB"
[ -f "$Z" ] || zstd -q -T0 -3 "$J" -o "$Z"
[ -x /usr/bin/time ] || { echo "need /usr/bin/time (apt-get install time)"; exit 1; }
cargo build -q --release --bin guidellm2pcp --example guidellm-parse
IMP=target/release/guidellm2pcp
PARSE=target/release/examples/guidellm-parse

measure() { # label command...
    label=$1; shift
    rm -f "$W"/out.0 "$W"/out.meta "$W"/out.index
    /usr/bin/time -v -o "$W/time.txt" "$@" > "$W/cmd.out" 2>&1 || { cat "$W/cmd.out"; exit 1; }
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time.txt")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.txt")
    user=$(sed -n 's/.*User time (seconds): //p' "$W/time.txt")
    sys=$(sed -n 's/.*System time (seconds): //p' "$W/time.txt")
    cpu=$(echo "$user $sys" | awk '{printf "%.2f", $1 + $2}')
    printf '%-44s %10s %8s %8d MB\n' "$label" "$wall" "$cpu" $((rss / 1024))
}

echo "file: $J ($(stat -c %s "$J") bytes), $Z ($(stat -c %s "$Z") bytes); $(nproc) CPUs"
printf '%-44s %10s %8s %11s\n' "command" "wall" "cpu s" "peak RSS"
measure "cat .json > /dev/null" sh -c "cat '$J' > /dev/null"
measure "serde parse .json (IgnoredAny)" "$PARSE" "$J"
measure "guidellm2pcp .json" "$IMP" "$J" -o "$W/out" --force
measure "zstd -dc .json.zst > /dev/null" sh -c "zstd -dc '$Z' > /dev/null"
measure "serde parse .json.zst (zstd crate)" "$PARSE" "$Z"
measure "zstd -dc .json.zst | serde parse" sh -c "zstd -dc '$Z' | '$PARSE' /dev/stdin"
measure "guidellm2pcp .json.zst" "$IMP" "$Z" -o "$W/out" --force
measure "zstd -dc .json.zst | guidellm2pcp -" sh -c "zstd -dc '$Z' | '$IMP' - -o '$W/out' --force"
# Upstream PCP's Python importer (PCP >= 7.0.1 installs it as $PCP_BIN_DIR/guidellm2pcp; it reads
# .json only). UPSTREAM=/path/to/guidellm2pcp.py names another copy.
UP=${UPSTREAM:-/usr/bin/guidellm2pcp}
if [ -f "$UP" ] && head -1 "$UP" | grep -q python; then
    measure "upstream guidellm2pcp .json (Python)" "$UP" -a "$W/out" "$J"
else
    echo "upstream guidellm2pcp: not installed ($UP; it ships with PCP >= 7.0.1, this PCP is $(pminfo -f pmcd.version 2>/dev/null | sed -n 's/.*value //p'))"
fi
cat "$W/cmd.out"
rm -f "$W"/out.0 "$W"/out.meta "$W"/out.index "$W/time.txt" "$W/cmd.out"
[ "${KEEP:-}" ] || rm -f "$J" "$Z"
