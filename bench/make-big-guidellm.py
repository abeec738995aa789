#!/usr/bin/env python3
# Copied unchanged (apart from this note) from the project's shared benchmark tools,
# ../shared/bench/make-big-guidellm.py, so that benchmarks run from a fresh clone.
"""make-big-guidellm.py - build a large, internally consistent GuideLLM result file from a real one.

usage:
  bench/make-big-guidellm.py REAL.json OUT [--mb 200] [--benchmarks 10] [--zstd-level 3]
                             [--v04-compat] [--verbatim-text] [--verify]

  REAL.json     a real GuideLLM benchmarks.json (0.5.x shape: metadata,args,benchmarks; or 0.8.x shape:
                metadata,config,benchmarks,conclusions), e.g.
                ../shared/fixtures/guidellm/v0.5.3/prefix-concurrent-2-4/benchmarks.json
  OUT           output path; if it ends in .zst the JSON is piped through `zstd -T0 -LEVEL` (Debian's zstd CLI).
  --mb M        target size of the uncompressed JSON in MB (10^6 bytes; default 200); hit to within one
                copy of the records per benchmark (about +-0.5% at 200 MB).
  --benchmarks N  number of benchmarks in the output (default 10), cycling over the real file's benchmarks.
  --v04-compat  also add the GuideLLM 0.4-era per-benchmark keys `id_`, `run_id`, `run_stats`
                (= config.id_, config.run_id, scheduler_metrics) that upstream PCP guidellm2pcp reads; the
                file then is a superset of the real shape (extra keys), not a pure 0.5/0.8 file.
  --verbatim-text  copy prompt/output text byte-for-byte. Default: every copy except each real record's
                first appearance gets the words of each run of >= 4 lowercase words permuted
                (deterministically; word and character counts, structure and ids unchanged), so the
                file compresses more like a real one (zstd -3: ~10:1; the real fixtures 6.7:1) instead
                of 22:1 for verbatim copies.
  --verify      re-read OUT (decompressing .zst) and check the invariants below; exit 1 on a violation.

What it does (deterministic: same input and options -> byte-identical output; no randomness, no clock):
  * Output benchmark b (0..N-1) is a copy of real benchmark b % R with its request records (every list under
    `requests`: successful, errored, incomplete) replicated M times; M is computed from --mb.
  * Records of each real list are first sorted by request start (request_start_time, else
    info.timings.request_start / started_at / queued), so every output list is time-ordered.
  * Time: real benchmark span S = max - min over all its timestamps (records' info.timings.*, started_at,
    completed_at, request_start/end_time; benchmark/scheduler *_time fields). Copy k of the records is
    shifted by k*S (copies never overlap); benchmark b is shifted so that it starts 1 s after benchmark b-1
    ends. Benchmark start fields get the benchmark shift; end fields (end_*, *_end_time, current_time,
    stop_time) additionally (M-1)*S; `duration` grows by (M-1)*S. info.scheduler_start_time moves with
    its benchmark only. Statistics under metrics.* are never touched (some variances look like epochs).
  * Ids: every UUID and chatcmpl-<hex> id inside a record copy is replaced by a UUID5 of (old id, b, k),
    so request_id == info.request_id and shared conversation_ids stay consistent within a copy, and all
    request ids in the file are unique. Benchmark config.id_ is replaced per benchmark; run_id is kept.
  * Counts: metrics.request_totals = list lengths (successful, errored, incomplete, total);
    scheduler_metrics.requests_made likewise; scheduler_state successful/errored_requests = list lengths,
    cancelled_requests = M x real, created/processed_requests = their sum. config.sample_size (0.5:
    sample_requests) becomes null because the lists now hold every record. Other statistics under
    metrics.* (means, percentiles, distribution counts) are the real benchmark's, NOT recomputed.
  * Layout like GuideLLM's own file: one line, json.dumps default separators, no trailing newline.
Invariants checked by --verify: each list time-ordered; request ids unique; request_totals == list lengths;
benchmarks time-ordered and non-overlapping; each record's request start within its benchmark's window.
Prints one summary line: benchmarks, copies, records, bytes, sha256 of the uncompressed JSON.
"""
import argparse
import copy
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid

NS = uuid.UUID('6f1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5')  # fixed namespace for derived ids
UUID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
CHAT_RE = re.compile(r'chatcmpl-[0-9a-f]{8,64}')
EPOCH_LO, EPOCH_HI = 1.0e9, 4.0e9
END_KEYS = {'current_time', 'stop_time'}
GAP = 1.0


def is_epoch(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and EPOCH_LO < v < EPOCH_HI


def is_time_key(k):
    return k in ('start_time', 'end_time', 'current_time', 'stop_time') or k.endswith('_time')


def is_end_key(k):
    return k in END_KEYS or k.startswith('end_') or k.endswith('_end_time') or k == 'end_time'


# ---- timestamps in benchmark-level parts (top-level *_time, scheduler_state, scheduler_metrics) ----
def bench_times(o, out):
    if isinstance(o, dict):
        for k, v in o.items():
            if is_epoch(v) and is_time_key(k):
                out.append(v)
            elif isinstance(v, (dict, list)):
                bench_times(v, out)
    elif isinstance(o, list):
        for v in o:
            bench_times(v, out)


def shift_bench(o, start_shift, end_shift):
    if isinstance(o, dict):
        for k, v in o.items():
            if is_epoch(v) and is_time_key(k):
                o[k] = v + (end_shift if is_end_key(k) else start_shift)
            elif isinstance(v, (dict, list)):
                shift_bench(v, start_shift, end_shift)
    elif isinstance(o, list):
        for v in o:
            shift_bench(v, start_shift, end_shift)


# ---- timestamps in request records ----
def record_times(r):
    out = []
    info = r.get('info') or {}
    for k, v in (info.get('timings') or {}).items():
        if is_epoch(v):
            out.append(v)
    for k in ('started_at', 'completed_at'):
        if is_epoch(info.get(k)):
            out.append(info[k])
    for k in ('request_start_time', 'request_end_time'):
        if is_epoch(r.get(k)):
            out.append(r[k])
    return out


def shift_record(r, shift, bench_shift):
    info = r.get('info') or {}
    t = info.get('timings') or {}
    for k, v in t.items():
        if is_epoch(v):
            t[k] = v + shift
    for k in ('started_at', 'completed_at'):
        if is_epoch(info.get(k)):
            info[k] += shift
    if is_epoch(info.get('scheduler_start_time')):
        info['scheduler_start_time'] += bench_shift
    for k in ('request_start_time', 'request_end_time'):
        if is_epoch(r.get(k)):
            r[k] += shift


def start_of(r):
    info = r.get('info') or {}
    t = info.get('timings') or {}
    for v in (r.get('request_start_time'), t.get('request_start'), info.get('started_at'), t.get('queued'),
              t.get('targeted_start')):
        if is_epoch(v):
            return v
    return None


def sort_key(r):
    s = start_of(r)
    return (0, 0.0) if s is None else (1, s)


def derived(old, *salt):
    return str(uuid.uuid5(NS, '|'.join((old,) + tuple(str(x) for x in salt))))


RUN_RE = re.compile(r'(?<![A-Za-z0-9])[a-z]+(?: [a-z]+){3,}(?![A-Za-z0-9])')
M64 = (1 << 64) - 1


def vary_text(text, b, k):
    """Deterministically permute the words of every run of >= 4 lowercase words (prompt/output prose).

    Keeps the word and character counts of every text field, JSON structure and ids untouched, but stops
    the copies from being byte-identical (so zstd ratios stay near a real file's, not 20:1+). The same run
    gets the same permutation within one copy, so prompt prefixes shared between requests stay shared."""
    def perm(m):
        words = m.group(0).split(' ')
        x = int.from_bytes(hashlib.blake2b(f'{b}|{k}|{m.group(0)}'.encode(), digest_size=8).digest(), 'big')
        for i in range(len(words) - 1, 0, -1):       # Fisher-Yates driven by splitmix64
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            z ^= z >> 31
            j = z % (i + 1)
            words[i], words[j] = words[j], words[i]
        return ' '.join(words)
    return RUN_RE.sub(perm, text)


def remap_ids(text, b, k):
    cache = {}

    def u(m):
        o = m.group(0)
        if o not in cache:
            cache[o] = derived(o, b, k)
        return cache[o]

    def ch(m):
        o = m.group(0)
        if o not in cache:
            cache[o] = 'chatcmpl-' + hashlib.sha1(f'{o}|{b}|{k}'.encode()).hexdigest()[:len(o) - 9]
        return cache[o]
    return CHAT_RE.sub(ch, UUID_RE.sub(u, text))


class Sink:
    """Writes text to OUT (via zstd if .zst), hashing the uncompressed bytes; atomic rename at close."""

    def __init__(self, path, level):
        self.path, self.tmp = path, path + '.tmp'
        self.h = hashlib.sha256()
        self.n = 0
        if path.endswith('.zst'):
            self.proc = subprocess.Popen(['zstd', '-q', '-f', '-T0', f'-{level}', '-o', self.tmp],
                                         stdin=subprocess.PIPE)
            self.f = self.proc.stdin
        else:
            self.proc = None
            self.f = open(self.tmp, 'wb')
        self.buf = []
        self.buflen = 0

    def write(self, s):
        b = s.encode()
        self.h.update(b)
        self.n += len(b)
        self.buf.append(b)
        self.buflen += len(b)
        if self.buflen > (1 << 20):
            self.f.write(b''.join(self.buf))
            self.buf, self.buflen = [], 0

    def close(self):
        self.f.write(b''.join(self.buf))
        self.f.close()
        if self.proc and self.proc.wait() != 0:
            sys.exit('make-big-guidellm: zstd failed')
        os.replace(self.tmp, self.path)


def open_text(path):
    if path.endswith('.zst'):
        return subprocess.run(['zstd', '-dcq', path], check=True, capture_output=True).stdout
    with open(path, 'rb') as f:
        return f.read()


def prepare(bench):
    """Per real benchmark: sorted record templates (as JSON text), its time span and fixed part."""
    reqs = bench.get('requests') or {}
    lists = {}
    times = []
    for st, lst in reqs.items():
        if isinstance(lst, list):
            srt = sorted(lst, key=sort_key)
            lists[st] = [json.dumps(r) for r in srt]
            for r in srt:
                times += record_times(r)
    bench_times({k: v for k, v in bench.items() if k not in ('requests', 'metrics')}, times)
    lo, hi = min(times), max(times)
    return {'lists': lists, 'lo': lo, 'hi': hi, 'span': hi - lo,
            'rec_bytes': sum(len(t) + 2 for ts in lists.values() for t in ts)}


def count_key(bench):
    return 'sample_size' if 'sample_size' in bench.get('config', {}) else 'sample_requests'


def build(a):
    real = json.loads(open_text(a.real))
    benches = real['benchmarks']
    preps = [prepare(b) for b in benches]
    n_out = a.benchmarks
    # size model: fixed part + M * record bytes per output benchmark
    skeleton = dict(real)
    skeleton['benchmarks'] = []
    fixed_total = len(json.dumps(skeleton))
    rec_total = 0
    for i in range(n_out):
        b = benches[i % len(benches)]
        fixed_total += len(json.dumps({k: v for k, v in b.items() if k != 'requests'})) + 120
        rec_total += preps[i % len(benches)]['rec_bytes']
    target = int(a.mb * 1e6)
    m = max(1, round((target - fixed_total) / rec_total)) if rec_total else 1

    sink = Sink(a.out, a.zstd_level)
    keys = list(real.keys())
    sink.write('{')
    cursor = None
    totals = {'successful': 0, 'errored': 0, 'incomplete': 0}
    for ki, key in enumerate(keys):
        sink.write(('' if ki == 0 else ', ') + json.dumps(key) + ': ')
        if key != 'benchmarks':
            val = copy.deepcopy(real[key])
            if key == 'config' and isinstance(val, dict):   # 0.8: spec.metrics.sample_size
                met = (val.get('spec') or {}).get('metrics')
                if isinstance(met, dict) and 'sample_size' in met:
                    met['sample_size'] = None
            if key == 'args' and isinstance(val, dict) and 'sample_requests' in val:  # 0.5
                val['sample_requests'] = None
            sink.write(json.dumps(val))
            continue
        sink.write('[')
        for bi in range(n_out):
            src = benches[bi % len(benches)]
            p = preps[bi % len(benches)]
            if cursor is None:
                cursor = p['lo']
            bshift = cursor - p['lo']
            stretch = (m - 1) * p['span']
            fixed = copy.deepcopy({k: v for k, v in src.items() if k != 'requests'})
            for k, v in fixed.items():           # top-level *_time fields and nested scheduler parts,
                if k == 'metrics':               # never the statistics
                    continue
                if isinstance(v, (dict, list)):
                    shift_bench(v, bshift, bshift + stretch)
                elif is_epoch(v) and is_time_key(k):
                    fixed[k] = v + (bshift + stretch if is_end_key(k) else bshift)
            if isinstance(fixed.get('duration'), (int, float)):
                fixed['duration'] = fixed['duration'] + stretch
            lens = {st: len(ts) * m for st, ts in p['lists'].items()}
            for st in ('successful', 'errored', 'incomplete'):
                totals[st] += lens.get(st, 0)
            rt = {'successful': lens.get('successful', 0), 'errored': lens.get('errored', 0),
                  'incomplete': lens.get('incomplete', 0)}
            rt['total'] = sum(rt.values())
            met = fixed.get('metrics')
            if isinstance(met, dict) and isinstance(met.get('request_totals'), dict):
                met['request_totals'] = dict(rt)
            sm = fixed.get('scheduler_metrics')
            if isinstance(sm, dict) and isinstance(sm.get('requests_made'), dict):
                sm['requests_made'] = dict(rt)
            ss = fixed.get('scheduler_state')
            if isinstance(ss, dict) and 'successful_requests' in ss:
                ss['successful_requests'] = rt['successful']
                ss['errored_requests'] = rt['errored']
                ss['cancelled_requests'] = (ss.get('cancelled_requests') or 0) * m
                ss['created_requests'] = ss['processed_requests'] = (
                    ss['successful_requests'] + ss['errored_requests'] + ss['cancelled_requests'])
            cfg = fixed.get('config')
            if isinstance(cfg, dict):
                ck = count_key(fixed)
                if ck in cfg:
                    cfg[ck] = None
                if isinstance(cfg.get('id_'), str):
                    cfg['id_'] = derived(cfg['id_'], 'benchmark', bi)
            if a.v04_compat and isinstance(cfg, dict):
                compat = {'id_': cfg.get('id_'), 'run_id': cfg.get('run_id'),
                          'run_stats': fixed.get('scheduler_metrics')}
                fixed = {**{'type_': fixed.get('type_')}, **compat,
                         **{k: v for k, v in fixed.items() if k != 'type_'}}
            # serialize with a placeholder for requests, stream the record lists into it
            order = list(src.keys())
            body = {}
            for k in order:
                body[k] = '\0REQUESTS\0' if k == 'requests' else fixed[k]
            for k in fixed:
                if k not in body:
                    body[k] = fixed[k]
            text = json.dumps(body)
            head, tail = text.split(json.dumps('\0REQUESTS\0'))
            sink.write((', ' if bi else '') + head + '{')
            req_keys = list((src.get('requests') or {}).keys())
            for ri, st in enumerate(req_keys):
                sink.write(('' if ri == 0 else ', ') + json.dumps(st) + ': ')
                if st not in p['lists']:
                    sink.write(json.dumps(src['requests'][st]))
                    continue
                sink.write('[')
                first = True
                for kcopy in range(m):
                    shift = bshift + kcopy * p['span']
                    for t in p['lists'][st]:
                        r = json.loads(t)
                        shift_record(r, shift, bshift)
                        t2 = remap_ids(json.dumps(r), bi, kcopy)
                        if a.vary_text and (bi >= len(benches) or kcopy > 0):
                            t2 = vary_text(t2, bi, kcopy)
                        sink.write(('' if first else ', ') + t2)
                        first = False
                sink.write(']')
            sink.write('}' + tail)
            cursor = p['hi'] + bshift + stretch + GAP
        sink.write(']')
    sink.write('}')
    sink.close()
    print(f'wrote {a.out}: benchmarks={n_out} copies={m} successful={totals["successful"]} '
          f'errored={totals["errored"]} incomplete={totals["incomplete"]} json_bytes={sink.n} '
          f'file_bytes={os.path.getsize(a.out)} sha256={sink.h.hexdigest()}')


def verify(path):
    d = json.loads(open_text(path))
    bad = []
    ids = set()
    prev_end = None
    wins = []
    for bi, b in enumerate(d['benchmarks']):
        s, e = b.get('start_time'), b.get('end_time')
        if prev_end is not None and s is not None and s < prev_end:
            bad.append(f'benchmark {bi} starts before benchmark {bi - 1} ends')
        prev_end = e
        wins.append((s, e))
    for bi, b in enumerate(d['benchmarks']):
        lo = wins[bi - 1][1] if bi else float('-inf')
        hi = wins[bi + 1][0] if bi + 1 < len(wins) else float('inf')
        lens = {}
        for st, lst in (b.get('requests') or {}).items():
            if not isinstance(lst, list):
                continue
            lens[st] = len(lst)
            last = None
            for r in lst:
                rid = r.get('request_id')
                if rid in ids:
                    bad.append(f'duplicate request_id {rid}')
                ids.add(rid)
                if (r.get('info') or {}).get('request_id') not in (None, rid):
                    bad.append(f'info.request_id != request_id for {rid}')
                t = start_of(r)
                if t is not None:
                    if last is not None and t < last:
                        bad.append(f'benchmark {bi} {st}: not time-ordered at {rid}')
                    last = t
                    if not lo <= t <= hi:
                        bad.append(f'benchmark {bi} {st}: {rid} starts outside its benchmark window')
        rt = (b.get('metrics') or {}).get('request_totals')
        if isinstance(rt, dict):
            for st in ('successful', 'errored', 'incomplete'):
                if rt.get(st) != lens.get(st, 0):
                    bad.append(f'benchmark {bi}: request_totals.{st}={rt.get(st)} != {lens.get(st, 0)} records')
            if rt.get('total') != sum(lens.get(x, 0) for x in ('successful', 'errored', 'incomplete')):
                bad.append(f'benchmark {bi}: request_totals.total mismatch')
    for x in bad[:20]:
        print('VERIFY FAIL:', x)
    print(f'verify {path}: benchmarks={len(d["benchmarks"])} records={len(ids)} '
          f'{"OK" if not bad else f"{len(bad)} violations"}')
    return not bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('real')
    ap.add_argument('out')
    ap.add_argument('--mb', type=float, default=200.0)
    ap.add_argument('--benchmarks', type=int, default=10)
    ap.add_argument('--zstd-level', type=int, default=3)
    ap.add_argument('--v04-compat', action='store_true')
    ap.add_argument('--verbatim-text', dest='vary_text', action='store_false')
    ap.add_argument('--verify', action='store_true')
    a = ap.parse_args()
    build(a)
    if a.verify and not verify(a.out):
        sys.exit(1)


if __name__ == '__main__':
    main()
