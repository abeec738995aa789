#!/bin/bash
# fetch-bench.sh - what one pmFetch of every llm.* metric costs: median in-process fetch time,
# the PMDA's CPU time per fetch, and the PMDA's resident memory. Runs the release pmdallm under a
# private pmcd (tests/private-pmcd.sh) so the machine's pmcd is not touched.
#
# usage: bench/fetch-bench.sh [PREFIX] [CONFIG]     (as root, after cargo build --release)
#   PREFIX  metrics to fetch (default llm: everything)
#   CONFIG  llm.conf for the agent (default: none, built-in defaults)
set -eu
cd "$(dirname "$0")/.."
prefix=${1:-llm}
conf=${2:-}
dir=$(mktemp -d /tmp/pmdallm-bench.XXXXXX)
port=${BENCH_PORT:-44391}
bin=$PWD/target/release/pmdallm
[ -x "$bin" ] || { echo "fetch-bench: build first: cargo build --release" >&2; exit 1; }
/usr/lib/pcp/bin/pmcpp -I pmda pmda/root >"$dir/llm.pmns"
[ -n "$conf" ] || { conf=$dir/llm.conf; : >"$conf"; }
trap 'bash tests/private-pmcd.sh stop "$dir/pmcd" >/dev/null 2>&1; rm -rf "$dir"' EXIT
bash tests/private-pmcd.sh start "$dir/pmcd" "$port" \
    --agent "llm 505 pipe binary $bin -d 505 -c $conf" --pmns-file "$dir/llm.pmns" >/dev/null
sleep 2
pmcd_pid=$(cat "$dir/pmcd/pmcd.pid")
/usr/bin/python3 bench/fetch-cost.py "$prefix" --host "127.0.0.1:$port" -n ${BENCH_N:-2000} --reps 3 \
    --pmda-match "$bin" --pmcd-pid "$pmcd_pid" | tail -1
pid=$(pgrep -f "^$bin" | head -1)
echo "RSS pmdallm: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)  (peak $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status))"
