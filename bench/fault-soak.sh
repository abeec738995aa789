#!/bin/bash
# fault-soak.sh - pmdallm under a misbehaving endpoint, through a private pmcd: for each fault,
# the fetch time of all llm.vllm metrics (median/max), the worst stall of another client
# fetching pmcd.numagents every 50 ms meanwhile, whether pmcd dropped the agent, the first fetch
# after recovery (bench/fault-fetch.py), and the agent's RSS and log growth over the scenario;
# then a soak: an endpoint that flaps (hangs 2 s of every 4 s) while a client fetches all of
# llm.* 10 times a second, with RSS and log size at the start and the end.
#
# usage: bench/fault-soak.sh [SOAK_SECONDS]     (as root; default 300; builds the release binary)
# Everything is on 127.0.0.1 (tests/private-pmcd.sh, bench/serve-metrics.py); the system pmcd is
# not touched. Not a test: the figures depend on the machine; README.md quotes them.
set -eu
cd "$(dirname "$0")/.."
soak=${1:-300}
root=$PWD
capture=$root/tests/fixtures/vllm/vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt
dir=$(mktemp -d /tmp/pmdallm-faults.XXXXXX)
chmod a+rx "$dir"
port=${BENCH_PORT:-44393}
bin=$root/target/release/pmdallm
export PCP_PYTHON_PROG=/usr/bin/python3
server_pid=
cleanup() {
    bash tests/private-pmcd.sh stop "$dir/pmcd" >/dev/null 2>&1 || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
cargo build -q --locked --release --bin pmdallm
/usr/lib/pcp/bin/pmcpp -I pmda pmda/root >"$dir/llm.pmns"
python3 bench/serve-metrics.py "$capture" --port 0 --bump --quiet >"$dir/serve.out" 2>&1 &
server_pid=$!
for _ in $(seq 50); do grep -q '^serving' "$dir/serve.out" && break; sleep 0.1; done
sport=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$dir/serve.out")
server=http://127.0.0.1:$sport
printf '[gpu]\nenabled = false\n\n[[vllm]]\nname = "vllm0"\nurl = "%s/metrics"\ninterval = "1s"\ntimeout = "800ms"\n' \
    "$server" >"$dir/llm.conf"
bash tests/private-pmcd.sh start "$dir/pmcd" "$port" \
    --agent "llm 505 pipe binary $bin -d 505 -c $dir/llm.conf" --pmns-file "$dir/llm.pmns" >/dev/null
sleep 3
agent=$(pgrep -P "$(cat "$dir/pmcd/pmcd.pid")" -f "$bin" | head -1)
log=$dir/pmcd/log/pmcd/llm.log
rss() { awk '/VmRSS/ {print $2}' "/proc/$agent/status" 2>/dev/null || echo gone; }
logsize() { stat -c %s "$log"; }

echo "== faults (bench/fault-fetch.py: 20 fetches of llm.vllm during the fault, probe every 50 ms)"
for mode in hang delay:2 delay:0.5; do
    r0=$(rss); l0=$(logsize)
    line=$(/usr/bin/python3 bench/fault-fetch.py llm.vllm --host "127.0.0.1:$port" --server "$server" \
        --mode "$mode" -n 20 --recover 3 | grep '^SUMMARY')
    printf '%-10s %s rss_kb=%s->%s log_bytes=+%s\n' "$mode" "${line#SUMMARY }" "$r0" "$(rss)" \
        "$(( $(logsize) - l0 ))"
done

echo "== soak: ${soak} s, the endpoint hangs 2 s of every 4 s, all of llm.* fetched 10 times a second"
r0=$(rss); l0=$(logsize)
/usr/bin/python3 - "$port" "$soak" "$server" <<'PY' &
import sys, time, urllib.request
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from pcp import pmapi
import cpmapi as c
port, secs, server = sys.argv[1], float(sys.argv[2]), sys.argv[3]
ctx = pmapi.pmContext(c.PM_CONTEXT_HOST, "127.0.0.1:" + port)
names = []
ctx.pmTraversePMNS("llm", lambda n: names.append(n))
pmids = ctx.pmLookupName(names)
end = time.time() + secs
times = []
hang = False
next_flip = time.time() + 2
while time.time() < end:
    if time.time() >= next_flip:
        hang = not hang
        urllib.request.urlopen(server + ("/control/hang" if hang else "/control/normal")).read()
        next_flip += 2
    t = time.perf_counter()
    ctx.pmFetch(pmids)
    times.append((time.perf_counter() - t) * 1000)
    time.sleep(0.1)
urllib.request.urlopen(server + "/control/normal").read()
times.sort()
print("soak fetches=%d fetch_ms_median=%.2f fetch_ms_max=%.2f" % (len(times), times[len(times) // 2], times[-1]))
PY
wait $!
echo "soak rss_kb=$r0->$(rss) log_bytes=+$(( $(logsize) - l0 )) agent_pid_unchanged=$( [ -d /proc/$agent ] && echo yes || echo no)"
grep -h "Cleanup\|RESTARTED" "$dir/pmcd/log/pmcd.log" | sed 's/^/pmcd: /' || true
