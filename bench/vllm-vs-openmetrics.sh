#!/bin/bash
# vllm-vs-openmetrics.sh - pmdallm and PCP's pmdaopenmetrics serving the SAME vLLM /metrics capture,
# side by side: fetch time of all the endpoint's metrics, CPU per fetch and per scrape, and the
# empty-archive scenario (pmlogger started before the endpoint exists) for pmdaopenmetrics.
#
# usage: bench/vllm-vs-openmetrics.sh [--metrics FILE] [-n 200] [--reps 3] [--work DIR] [--no-archive]
#
#   --metrics FILE  Prometheus text to serve (default tests/fixtures/vllm/ real idle vLLM 0.11 capture)
#   -n / --reps     fetches per repetition / repetitions for bench/fetch-cost.py (default 200 / 3)
#   --work DIR      scratch directory (default /tmp/vllm-vs-openmetrics; wiped on start)
#   --no-archive    skip the pmdaopenmetrics empty-archive scenario (50 s)
#   --no-faults     skip the hung-endpoint comparison (bench/fault-fetch.py, ~30 s)
#
# Everything runs on 127.0.0.1 with a private pmcd (tests/private-pmcd.sh, port 44850) and
# bench/serve-metrics.py --bump (port 18050); the system pmcd is never touched. Needs root, PCP,
# python3-pcp and python3-requests for /usr/bin/python3, and `cargo build --release` done.
# Built on bench/openmetrics-anchor.sh, bench/fetch-cost.py and tests/private-pmcd.sh, copied from
# the project's shared/bench/ scripts.
set -u
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$TOOLS")
METRICS=$ROOT/tests/fixtures/vllm/vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt
N=200; REPS=3; WORK=/tmp/vllm-vs-openmetrics; ARCHIVE=1; FAULTS=1
PMCD_PORT=44850; HTTP_PORT=18050
while [ $# -gt 0 ]; do
  case "$1" in
    --metrics) METRICS=$2; shift 2 ;;
    -n) N=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --no-archive) ARCHIVE=0; shift ;;
    --no-faults) FAULTS=0; shift ;;
    *) sed -n '2,18p' "$0"; exit 2 ;;
  esac
done
export PCP_PYTHON_PROG=/usr/bin/python3
PATH=/usr/lib/pcp/bin:$PATH
PY=/usr/bin/python3
OMPMDA=/var/lib/pcp/pmdas/openmetrics/pmdaopenmetrics.python
BIN=$ROOT/target/release/pmdallm
HOST=127.0.0.1:$PMCD_PORT
SERVER=http://127.0.0.1:$HTTP_PORT
[ -x "$BIN" ] || { echo "build first: cargo build --release"; exit 1; }

SERVE_PID=
cleanup() {
  bash "$TOOLS/../tests/private-pmcd.sh" stop "$WORK/pmcd" >/dev/null 2>&1
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null
  [ -n "${LOGGER_PID:-}" ] && kill "$LOGGER_PID" 2>/dev/null
}
trap cleanup EXIT
rm -rf "$WORK"; mkdir -p "$WORK/pmcd/config.d"

start_server() {
  $PY "$TOOLS/serve-metrics.py" "$METRICS" --port "$HTTP_PORT" --bump --quiet >"$WORK/serve.log" 2>&1 &
  SERVE_PID=$!
  for i in $(seq 50); do curl -sf "$SERVER/stats" >/dev/null && break; sleep 0.1; done
}

pid_of() {  # command-line substring -> pid
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "$1" && { basename "$p"; return; }
  done
}

cpu_ns() {  # process-wide CPU time of a pid, ns (as bench/fetch-cost.py measures it)
  $PY -c "import time,sys; p=int(sys.argv[1]); print(time.clock_gettime_ns(((~p)<<3)|2))" "$1"
}

echo "== $(date -u +%FT%TZ) $(uname -r) $(nproc) cpus; PCP $(sed -n 's/^PCP_VERSION=//p' /etc/pcp.conf)"
echo "== metrics file: $(basename "$METRICS") ($(wc -c <"$METRICS") bytes, $(grep -vc '^#' "$METRICS") sample lines)"
start_server
echo "$SERVER/metrics" >"$WORK/pmcd/config.d/vllm.url"
cat >"$WORK/llm.conf" <<CONF
[gpu]
enabled = false

[[vllm]]
name = "vllm0"
url = "$SERVER/metrics"
interval = "1s"
CONF
pmcpp -I "$ROOT/pmda" "$ROOT/pmda/root" >"$WORK/llm.pmns"
bash "$TOOLS/../tests/private-pmcd.sh" start "$WORK/pmcd" "$PMCD_PORT" --pmns-file "$WORK/llm.pmns" \
    --agent "llm 505 pipe binary $BIN -d 505 -c $WORK/llm.conf -l $WORK/llm.log" \
    --agent "openmetrics 144 pipe binary notready $PY $OMPMDA -c $WORK/pmcd/config.d" || exit 1
PMCD_PID=$(cat "$WORK/pmcd/pmcd.pid")
LLM_PID=$(pid_of "$BIN -d 505")
OM_PID=$(pid_of "pmdaopenmetrics.python -c $WORK")
sleep 2
echo "== names: llm.vllm $(pminfo -h "$HOST" llm.vllm | wc -l) leaves; openmetrics.vllm $(pminfo -h "$HOST" openmetrics.vllm | wc -l) leaves"

for who in llm openmetrics; do
  if [ $who = llm ]; then prefix=llm.vllm; pid=$LLM_PID; else prefix=openmetrics.vllm; pid=$OM_PID; fi
  echo "== fetch cost: $prefix (pid $pid)"
  $PY "$TOOLS/fetch-cost.py" "$prefix" --host "$HOST" -n "$N" --warmup 20 --reps "$REPS" \
      --pmda-pid "$pid" --pmcd-pid "$PMCD_PID" --stats-url "$SERVER/stats" | tee "$WORK/$who.cost" | tail -1
done

echo "== pmdallm CPU per scrape (no client fetching; 30 s, 1 scrape/s)"
s0=$(pminfo -h "$HOST" -f llm.agent.source.samples | sed -n 's/.*value //p'); c0=$(cpu_ns "$LLM_PID")
sleep 30
s1=$(pminfo -h "$HOST" -f llm.agent.source.samples | sed -n 's/.*value //p'); c1=$(cpu_ns "$LLM_PID")
SCRAPE_MS=$(awk -v c0="$c0" -v c1="$c1" -v s0="$s0" -v s1="$s1" 'BEGIN{printf "%.3f", (c1-c0)/1e6/(s1-s0)}')
echo "pmdallm: $((s1 - s0)) scrapes, $SCRAPE_MS ms CPU per scrape (HTTP GET + parse + map, incl. idle wakeups)"
echo "== PMDA memory: pmdallm $(grep VmRSS /proc/"$LLM_PID"/status | tr -s ' \t' ' '); openmetrics $(grep VmRSS /proc/"$OM_PID"/status | tr -s ' \t' ' ')"

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$WORK/$1.cost" | tail -1; }
echo
echo "== SIDE BY SIDE (median over $REPS reps of $N back-to-back fetches of every leaf under the prefix)"
printf '%-22s %14s %14s\n' "" "pmdallm" "pmdaopenmetrics"
printf '%-22s %14s %14s\n' "metrics fetched" "$(field llm metrics)" "$(field openmetrics metrics)"
printf '%-22s %14s %14s\n' "values per fetch" "$(field llm values)" "$(field openmetrics values)"
printf '%-22s %14s %14s\n' "fetch ms (median)" "$(field llm fetch_ms_median)" "$(field openmetrics fetch_ms_median)"
printf '%-22s %14s %14s\n' "PMDA CPU ms / fetch" "$(field llm pmda_cpu_ms_per_fetch)" "$(field openmetrics pmda_cpu_ms_per_fetch)"
printf '%-22s %14s %14s\n' "HTTP GETs / fetch" "$(field llm http_gets_per_fetch)" "$(field openmetrics http_gets_per_fetch)"
printf '%-22s %14s %14s\n' "CPU ms / scrape" "$SCRAPE_MS" "(= per fetch)"
awk -v a="$(field llm fetch_ms_median)" -v b="$(field openmetrics fetch_ms_median)" \
    -v c="$(field llm pmda_cpu_ms_per_fetch)" -v d="$(field openmetrics pmda_cpu_ms_per_fetch)" \
    'BEGIN{ if (a>0 && c>0) printf "ratio: fetch %.1fx faster, %.0fx less PMDA CPU per fetch\n", b/a, d/c }'

if [ "$FAULTS" = 1 ]; then
  echo
  echo "== hung endpoint: 5 fetches of each prefix while the endpoint never answers (pmcd -t 5 s)"
  for prefix in llm.vllm openmetrics.vllm; do
    $PY "$TOOLS/fault-fetch.py" "$prefix" --host "$HOST" --server "$SERVER" --mode hang -n 5 --recover 2 \
        | grep SUMMARY
  done
fi

if [ "$ARCHIVE" = 1 ]; then
  echo
  echo "== empty-archive scenario for pmdaopenmetrics: endpoint down, pmlogger (openmetrics.vllm + llm.vllm, 1 s)"
  echo "   started; endpoint up 10 s later with growing counters; pmlogger stopped after 40 s"
  kill "$SERVE_PID"; SERVE_PID=
  bash "$TOOLS/../tests/private-pmcd.sh" start "$WORK/pmcd" "$PMCD_PORT" --pmns-file "$WORK/llm.pmns" \
      --agent "llm 505 pipe binary $BIN -d 505 -c $WORK/llm.conf -l $WORK/llm.log" \
      --agent "openmetrics 144 pipe binary notready $PY $OMPMDA -c $WORK/pmcd/config.d" >/dev/null || exit 1
  printf 'log mandatory on every 1 second {\n    openmetrics.vllm\n    llm.vllm\n}\n' >"$WORK/arch.config"
  pmlogger -h "$HOST" -c "$WORK/arch.config" -l "$WORK/pmlogger.log" "$WORK/arch" &
  LOGGER_PID=$!
  sleep 10
  start_server
  sleep 30
  kill "$LOGGER_PID"; wait "$LOGGER_PID" 2>/dev/null; LOGGER_PID=
  grep -A1 -E 'Warning|Error' "$WORK/pmlogger.log" | grep -v '^--' | head -6
  om=$(pmdumplog "$WORK/arch" 2>/dev/null | grep -c '(openmetrics\.vllm')
  llm=$(pmdumplog "$WORK/arch" 2>/dev/null | grep -c '(llm\.vllm')
  recs=$(pmdumplog "$WORK/arch" 2>/dev/null | grep -cE '^[0-9]+:[0-9]+:[0-9]+\.[0-9]+ ')
  echo "archive: $recs records; metric-value entries: openmetrics.vllm.* $om, llm.vllm.* $llm"
  echo "pmrep -a of the counters (first 3 lines with values):"
  pmrep -a "$WORK/arch" -t 1s -o csv llm.vllm.tokens.prompt 2>&1 | grep -E ',[0-9]' | head -3
fi
