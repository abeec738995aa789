#!/bin/bash
# footprint.sh - what pmdallm costs on a full node when nobody fetches: 8 stand-in GPUs
# (tests/nvml-stub) and 16 vLLM endpoints each serving the real capture (bench/serve-metrics.py
# --bump, values change every request), all sampled once a second. Prints the agent's CPU time
# per endpoint scrape, its share of one core, and its resident memory, for the endpoints alone
# and for the whole node; then, if PCP's pmdaopenmetrics is installed, its CPU per fetch of the
# same 16 endpoints (it scrapes only when fetched, so it needs a client to cost anything).
#
# usage: bench/footprint.sh [SECONDS]     (as root; default 60 s per phase; builds the release binary)
#        PERF_DATA=/tmp/fp bench/footprint.sh 30   also records each phase with perf (/tmp/fp.PHASE)
# Everything is on 127.0.0.1 with a private pmcd (tests/private-pmcd.sh); the system pmcd is not
# touched. Not a test: the figures depend on the machine; README.md quotes them.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
root=$PWD
capture=$root/tests/fixtures/vllm/vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt
dir=$(mktemp -d /tmp/pmdallm-footprint.XXXXXX)
chmod a+rx "$dir"
port=${BENCH_PORT:-44392}
bin=$root/target/release/pmdallm
servers=()
cleanup() {
    bash tests/private-pmcd.sh stop "$dir/pmcd" >/dev/null 2>&1 || true
    for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
cargo build -q --locked --release --bin pmdallm
cc -O2 -shared -fPIC -DCONTROL_FILE="\"$dir/control\"" -o "$dir/libnvidia-ml.so.1" \
    tests/nvml-stub/nvml_stub.c
echo "count 8" >"$dir/control"
/usr/lib/pcp/bin/pmcpp -I pmda pmda/root >"$dir/llm.pmns"

ports=()
for i in $(seq 0 15); do
    python3 bench/serve-metrics.py "$capture" --port 0 --bump --quiet >"$dir/serve$i.out" 2>&1 &
    servers+=($!)
done
for i in $(seq 0 15); do
    for _ in $(seq 50); do grep -q '^serving' "$dir/serve$i.out" && break; sleep 0.1; done
    ports+=("$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$dir/serve$i.out")")
done

endpoints() {
    for i in $(seq 0 15); do
        printf '[[vllm]]\nname = "vllm%s"\nurl = "http://127.0.0.1:%s/metrics"\ninterval = "1s"\n\n' \
            "$i" "${ports[$i]}"
    done
}

# ticks of the process (utime + stime) and its clock rate
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# CPU time of the process's live threads in ns (/proc/PID/task/*/schedstat): finer than ticks
# (1 tick = 10 ms is 4 % of a 60 s phase), but blind to threads that end; the phase says so
# when its threads changed, and uses the ticks then.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d\n", s}'; }
threads() { ls /proc/"$1"/task | sort | tr '\n' ' '; }
# "TID NAME NS SWITCHES" for each thread (SWITCHES: the times it went to sleep, i.e. its
# wake-ups, voluntary_ctxt_switches)
per_thread() {
    for t in /proc/"$1"/task/*; do
        printf '%s %s %s %s\n' "${t##*/}" "$(tr ' ' _ <"$t/comm")" "$(cut -d' ' -f1 "$t/schedstat")" \
            "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status")"
    done
}
# CPU per second by thread between two per_thread listings (threads of one name together;
# every endpoint is a task on the one I/O thread, "endpoints")
by_thread() {
    awk -v secs="$3" 'FNR == NR {ns[$1] = $3; sw[$1] = $4; next}
        {d[$2] += $3 - ns[$1]; w[$2] += $4 - sw[$1]}
        END {for (k in d) printf "%s %.3f %.1f\n", k, d[k] / secs / 1e6, w[k] / secs}' "$1" "$2" |
        sort -k2 -rn | awk '{printf "%s%s %s ms/s (%s wake-ups/s)", (NR > 1 ? ", " : "      by thread: "), $1, $2, $3}
            END {print ""}'
}

samples_sum() {  # total llm.agent.source.samples of the endpoints
    pminfo -h "127.0.0.1:$port" -f llm.agent.source.samples |
        awk '/inst .*"vllm/ {s += $NF} END {print s + 0}'
}

phase() {  # name, config
    local name=$1 conf=$2
    bash tests/private-pmcd.sh stop "$dir/pmcd" >/dev/null 2>&1 || true
    bash tests/private-pmcd.sh start "$dir/pmcd" "$port" \
        --agent "llm 505 pipe binary $bin -d 505 -c $conf" --pmns-file "$dir/llm.pmns" >/dev/null
    sleep 10  # warm-up: every endpoint scraped, every histogram seen twice
    local pmcd_pid agent
    pmcd_pid=$(cat "$dir/pmcd/pmcd.pid")
    agent=$(pgrep -P "$pmcd_pid" -f "$bin" | head -1)
    local t0 s0 t1 s1 n0 n1 th0 th1
    th0=$(threads "$agent"); n0=$(cpu_ns "$agent"); per_thread "$agent" >"$dir/threads0"
    t0=$(cpu_ticks "$agent"); s0=$(samples_sum)
    if [ -n "${PERF_DATA:-}" ]; then  # also profile the phase (perf record -g, software clock)
        perf record -q -F "${PERF_FREQ:-2000}" -g -p "$agent" -o "$PERF_DATA.${name// /_}" -- sleep "$secs" 2>/dev/null
    else
        sleep "$secs"
    fi
    t1=$(cpu_ticks "$agent"); s1=$(samples_sum)
    n1=$(cpu_ns "$agent"); th1=$(threads "$agent"); per_thread "$agent" >"$dir/threads1"
    local cpu_s
    if [ "$th0" = "$th1" ] && [ -r "/proc/$agent/schedstat" ]; then
        cpu_s=$(awk -v a="$n0" -v b="$n1" 'BEGIN {printf "%.6f", (b - a) / 1e9}')
    else
        echo "   (threads started or ended during the phase: CPU from ticks, +-1 tick)"
        cpu_s=$(awk -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN {printf "%.6f", t / hz}')
    fi
    local rss hwm
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$agent/status")
    awk -v n="$name" -v cpu="$cpu_s" -v s="$((s1 - s0))" -v secs="$secs" \
        -v rss="$rss" -v hwm="$hwm" 'BEGIN {
            printf "%-34s %6.3f ms CPU per endpoint scrape  %5.2f %% of one core  RSS %5.1f MB (peak %5.1f MB)  [%d scrapes in %d s]\n",
                n, (s > 0 ? cpu * 1000 / s : 0), cpu * 100 / secs, rss / 1024, hwm / 1024, s, secs }'
    by_thread "$dir/threads0" "$dir/threads1" "$secs"
}

endpoints >"$dir/endpoints.conf"
printf '[gpu]\nenabled = false\n\n' | cat - "$dir/endpoints.conf" >"$dir/llm-endpoints.conf"
printf '[gpu]\nlibrary = "%s"\n\n' "$dir/libnvidia-ml.so.1" | cat - "$dir/endpoints.conf" >"$dir/llm-node.conf"
if [ "${ONLY:-}" != om ]; then
echo "== pmdallm, no client fetching, ${secs} s per phase (CPU per scrape includes all the agent does)"
phase "16 endpoints" "$dir/llm-endpoints.conf"
phase "16 endpoints + 8 stand-in GPUs" "$dir/llm-node.conf"
fi
bash tests/private-pmcd.sh stop "$dir/pmcd" >/dev/null 2>&1 || true

om=/var/lib/pcp/pmdas/openmetrics/pmdaopenmetrics.python
if [ -f "$om" ] && ! /usr/bin/python3 -c 'import requests' 2>/dev/null; then
    echo "== pmdaopenmetrics needs python3-requests, which is not installed: no comparison"
elif [ -f "$om" ]; then
    echo "== pmdaopenmetrics, the same 16 endpoints, fetched once a second (it scrapes on fetch)"
    mkdir -p "$dir/om/config.d"
    for i in $(seq 0 15); do
        echo "http://127.0.0.1:${ports[$i]}/metrics" >"$dir/om/config.d/vllm$i.url"
    done
    bash tests/private-pmcd.sh start "$dir/pmcd" "$port" --pmns-file "$dir/llm.pmns" \
        --agent "openmetrics 144 pipe binary notready /usr/bin/python3 $om -c $dir/om/config.d" \
        >/dev/null 2>&1 || { echo "pmdaopenmetrics: private pmcd did not start"; exit 0; }
    sleep 5
    agent=$(pgrep -f "pmdaopenmetrics.python -c $dir" | head -1)
    if [ -z "$agent" ]; then
        echo "pmdaopenmetrics did not start; pmcd log:"; tail -5 "$dir/pmcd/log/pmcd.log"
        grep -i "openmetrics" "$dir/pmcd/log/pmcd.log" | head; ls "$dir/pmcd/log/pmcd/"; tail -5 "$dir"/pmcd/log/pmcd/openmetrics.log; ps -ef | grep -c pmdaopenmetric
        exit 0
    fi
    pminfo -h "127.0.0.1:$port" -f openmetrics >/dev/null 2>&1 || true
    t0=$(cpu_ticks "$agent")
    for _ in $(seq "$secs"); do
        pminfo -h "127.0.0.1:$port" -f openmetrics >/dev/null 2>&1 || true
        sleep 1
    done
    t1=$(cpu_ticks "$agent")
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
    awk -v t="$((t1 - t0))" -v hz="$hz" -v secs="$secs" -v rss="$rss" 'BEGIN {
        cpu = t / hz;
        printf "%-34s %6.3f ms CPU per endpoint scrape  %5.2f %% of one core  RSS %5.1f MB\n",
            "pmdaopenmetrics, 16 endpoints", cpu * 1000 / (secs * 16), cpu * 100 / secs, rss / 1024 }'
else
    echo "== pmdaopenmetrics is not installed ($om): no comparison"
fi
