#!/usr/bin/python3
# Copied from the project's shared measurement scripts (../shared/bench/fetch-cost.py).
"""fetch-cost.py - what one pmFetch of ALL leaf metrics under a PMNS prefix costs, end to end and in the PMDA.

usage (run with /usr/bin/python3, which has Debian's python3-pcp; pyenv's python3 does not):
  /usr/bin/python3 bench/fetch-cost.py PREFIX --host 127.0.0.1:PORT
        [-n 200] [--warmup 20] [--reps 3] [--interval 0]
        [--pmda-pid PID | --pmda-match SUBSTR [--pmcd-pid PID]] [--pmcd-pid PID]
        [--stats-url http://127.0.0.1:PORT/stats] [--extra NAME=PID]...

  PREFIX         PMNS prefix, e.g. openmetrics.vllm (pmdaopenmetrics) or llm.vllm (pmdallm). Every leaf
                 under it is fetched in ONE pmFetch (pmTraversePMNS + pmLookupName once, up front).
  --host H       pmcd host spec for pmNewContext(PM_CONTEXT_HOST), e.g. 127.0.0.1:44399 (a private pmcd
                 from bench/private-pmcd.sh) or local: (the shared pmcd over its unix socket).
  -n N           timed fetches per repetition (default 200); --warmup W untimed fetches first (default 20).
  --reps R       repetitions (default 3); the summary reports the median over repetitions.
  --interval S   sleep S seconds between fetches (default 0: back to back).
  --pmda-pid PID / --pmda-match SUBSTR
                 the PMDA process whose CPU is charged: a pid, or the one process whose command line
                 contains SUBSTR (restricted to children of --pmcd-pid when given).
  --pmcd-pid PID also report pmcd's own CPU per fetch.
  --stats-url U  a bench/serve-metrics.py /stats URL (loopback only): reports HTTP GETs per fetch.
  --extra NAME=PID  also report NAME_cpu_ms_per_fetch for another process (e.g. server=PID of
                 bench/serve-metrics.py, whose answer time is inside a synchronous scraper's fetch).

What is measured, per repetition:
  fetch_ms        wall time of each pmFetch call (time.perf_counter_ns around the call, in-process PMAPI);
                  median, p90 and max are reported.
  pmda_cpu_ms_per_fetch       (utime+stime) of the whole PMDA process (all threads, also threads that
                  exited meanwhile) over the N fetches / N, read from the kernel's per-process CPU clock
                  (clock_gettime on the pid's CPU clockid: nanosecond resolution).
  pmda_cpu_ms_per_fetch_stat  the same from /proc/PID/stat utime+stime (clock ticks, 10 ms resolution:
                  only meaningful when N * cost >> 10 ms).
  metrics / values / errors   leaf metrics fetched; values returned (sum of numval>0) and pmids with a
                  negative numval (error) in the last fetch of the repetition.
  calib_ms        median ms of a fixed pure-Python loop (sum of squares below 300000) in this process, taken
                  before the repetitions: a rough machine-speed reference. The 2-vCPU VMs drift by 25-50 %
                  within minutes, so compare candidates back to back (interleaved), not across runs.
The last line is a machine-readable summary, e.g.
  SUMMARY prefix=openmetrics.vllm metrics=96 values=480 errors=0 fetch_ms_median=5.1 fetch_ms_p90=6.0
          pmda_cpu_ms_per_fetch=4.2 pmda_cpu_ms_per_fetch_stat=4.2 ... calib_ms=17.9 reps=3 n=200
Exit status 0 on success, 1 when no metric exists under PREFIX or every fetch failed.
"""
import argparse
import ipaddress
import json
import os
import statistics
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, '/usr/lib/python3/dist-packages')
from pcp import pmapi  # noqa: E402
import cpmapi as c  # noqa: E402

CLK_TCK = os.sysconf('SC_CLK_TCK')


def proc_cpu_clock_ns(pid):
    """Process-wide CPU time (ns) of another process via its CPU-time clockid (Linux MAKE_PROCESS_CPUCLOCK)."""
    clockid = ((~pid) << 3) | 2  # CPUCLOCK_SCHED, process-wide
    try:
        return time.clock_gettime_ns(clockid)
    except OSError:
        return None


def proc_stat_ticks(pid):
    with open(f'/proc/{pid}/stat') as f:
        rest = f.read().rsplit(')', 1)[1].split()
    return int(rest[11]) + int(rest[12])  # utime, stime (fields 14, 15)


def cpu_snapshot(pid):
    if pid is None:
        return None
    return (proc_cpu_clock_ns(pid), proc_stat_ticks(pid))


def cpu_delta_ms(a, b):
    if a is None or b is None:
        return None, None
    ns = (b[0] - a[0]) / 1e6 if a[0] is not None and b[0] is not None else None
    ticks = (b[1] - a[1]) * 1000.0 / CLK_TCK
    return ns, ticks


def find_pmda(match, parent):
    me = os.getpid()
    found = []
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f'/proc/{d}/cmdline', 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode(errors='replace')
            if match not in cmd:
                continue
            if parent is not None:
                with open(f'/proc/{d}/stat') as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
                if ppid != parent:
                    continue
            found.append(int(d))
        except OSError:
            continue
    if len(found) != 1:
        sys.exit(f'fetch-cost: --pmda-match {match!r} matched {len(found)} processes: {found}')
    return found[0]


def http_stats(url):
    if not url:
        return None
    host = urllib.parse.urlsplit(url).hostname
    if host != 'localhost' and not ipaddress.ip_address(host).is_loopback:
        sys.exit('fetch-cost: --stats-url must be a loopback URL')
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.load(r).get('metrics_requests')


def calibrate():
    """Machine-speed reference: median ms of a fixed pure-Python workload (compare runs across runs)."""
    ts = []
    for _ in range(9):
        t = time.perf_counter()
        sum(i * i for i in range(300000))
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts[2:])


def fmt(v, nd=3):
    return 'NA' if v is None else f'{v:.{nd}f}'


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser(description='pmFetch cost of all leaves under a PMNS prefix')
    ap.add_argument('prefix')
    ap.add_argument('--host', default='local:')
    ap.add_argument('-n', type=int, default=200)
    ap.add_argument('--warmup', type=int, default=20)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--interval', type=float, default=0.0)
    ap.add_argument('--pmda-pid', type=int)
    ap.add_argument('--pmda-match')
    ap.add_argument('--pmcd-pid', type=int)
    ap.add_argument('--stats-url')
    ap.add_argument('--extra', action='append', default=[])
    a = ap.parse_args()

    pmda_pid = a.pmda_pid
    if pmda_pid is None and a.pmda_match:
        pmda_pid = find_pmda(a.pmda_match, a.pmcd_pid)

    extras = []
    for e in a.extra:
        n, _, pid = e.partition('=')
        extras.append((n, int(pid)))

    ctx = pmapi.pmContext(c.PM_CONTEXT_HOST, a.host)
    names = []
    try:
        ctx.pmTraversePMNS(a.prefix, lambda name: names.append(name))
    except pmapi.pmErr as e:
        sys.exit(f'fetch-cost: no metrics under {a.prefix}: {e}')
    if not names:
        sys.exit(f'fetch-cost: no metrics under {a.prefix}')
    pmids = ctx.pmLookupName(names)

    def one_fetch():
        t0 = time.perf_counter_ns()
        r = ctx.pmFetch(pmids)
        dt = (time.perf_counter_ns() - t0) / 1e6
        vals = errs = 0
        for i in range(r.contents.numpmid):
            nv = r.contents.get_numval(i)
            if nv > 0:
                vals += nv
            elif nv < 0:
                errs += 1
        ctx.pmFreeResult(r)
        return dt, vals, errs

    for _ in range(a.warmup):
        one_fetch()
        if a.interval:
            time.sleep(a.interval)

    calib = calibrate()
    print(f'# prefix={a.prefix} host={a.host} metrics={len(names)} pmda_pid={pmda_pid} '
          f'pmcd_pid={a.pmcd_pid} n={a.n} warmup={a.warmup} reps={a.reps} interval={a.interval}')
    reps = []
    for rep in range(1, a.reps + 1):
        times = []
        failed = 0
        vals = errs = 0
        g0 = http_stats(a.stats_url)
        p0, m0 = cpu_snapshot(pmda_pid), cpu_snapshot(a.pmcd_pid)
        x0 = {n: cpu_snapshot(pid) for n, pid in extras}
        c0 = time.process_time()
        for _ in range(a.n):
            try:
                dt, vals, errs = one_fetch()
            except pmapi.pmErr as e:
                failed += 1
                print(f'# fetch failed: {e}', file=sys.stderr)
                continue
            times.append(dt)
            if a.interval:
                time.sleep(a.interval)
        c1 = time.process_time()
        p1, m1 = cpu_snapshot(pmda_pid), cpu_snapshot(a.pmcd_pid)
        x1 = {n: cpu_snapshot(pid) for n, pid in extras}
        g1 = http_stats(a.stats_url)
        pm_ns, pm_tk = cpu_delta_ms(p0, p1)
        pc_ns, _ = cpu_delta_ms(m0, m1)
        r = {
            'fetch_ms_median': statistics.median(times) if times else None,
            'fetch_ms_p90': pct(times, 90) if times else None,
            'fetch_ms_max': max(times) if times else None,
            'pmda_cpu_ms_per_fetch': pm_ns / a.n if pm_ns is not None else None,
            'pmda_cpu_ms_per_fetch_stat': pm_tk / a.n if pm_tk is not None else None,
            'pmcd_cpu_ms_per_fetch': pc_ns / a.n if pc_ns is not None else None,
            'client_cpu_ms_per_fetch': (c1 - c0) * 1000.0 / a.n,
            'http_gets_per_fetch': (g1 - g0) / a.n if g0 is not None and g1 is not None else None,
        }
        for n, _ in extras:
            d = cpu_delta_ms(x0[n], x1[n])[0]
            r[f'{n}_cpu_ms_per_fetch'] = d / a.n if d is not None else None
        r.update({'values': vals, 'errors': errs, 'failed': failed})
        reps.append(r)
        print(f'rep={rep} ' + ' '.join(f'{k}={fmt(v) if isinstance(v, float) or v is None else v}'
                                       for k, v in r.items()))

    def med(k):
        xs = [r[k] for r in reps if r[k] is not None]
        return statistics.median(xs) if xs else None

    last = reps[-1]
    print(f"SUMMARY prefix={a.prefix} metrics={len(names)} values={last['values']} errors={last['errors']} "
          f"failed={sum(r['failed'] for r in reps)} "
          f"fetch_ms_median={fmt(med('fetch_ms_median'))} fetch_ms_p90={fmt(med('fetch_ms_p90'))} "
          f"pmda_cpu_ms_per_fetch={fmt(med('pmda_cpu_ms_per_fetch'))} "
          f"pmda_cpu_ms_per_fetch_stat={fmt(med('pmda_cpu_ms_per_fetch_stat'))} "
          f"pmcd_cpu_ms_per_fetch={fmt(med('pmcd_cpu_ms_per_fetch'))} "
          f"client_cpu_ms_per_fetch={fmt(med('client_cpu_ms_per_fetch'))} "
          f"http_gets_per_fetch={fmt(med('http_gets_per_fetch'), 2)} "
          + ''.join(f"{n}_cpu_ms_per_fetch={fmt(med(n + '_cpu_ms_per_fetch'))} " for n, _ in extras)
          + f"calib_ms={calib:.2f} reps={a.reps} n={a.n}")
    ok = any(r['fetch_ms_median'] is not None for r in reps)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
