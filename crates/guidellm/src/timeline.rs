//! The time series inside a benchmark, built from its per-request records.
//!
//! Intervals are aligned to multiples of the interval on the Unix epoch (1 s intervals fall on
//! whole seconds), which lines them up with a pmlogger archive of the same node. Sample `k`
//! covers `(t0 + k*iv, t0 + (k+1)*iv]` and is written at its end (the last one at the
//! benchmark's `end_time`, so benchmarks never overlap in the archive). Every record is counted in
//! exactly one interval for its status (records outside the benchmark window are clamped
//! into the first or last interval), so the per-interval counts add up to the record counts.

use super::reader::Rec;
use pcp::Value;

/// One interval's values; `None` where no request contributed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// Time of the sample (end of the interval), Unix epoch seconds.
    pub t: f64,
    pub started: u64,
    pub completed: u64,
    pub errored: u64,
    pub incomplete: u64,
    pub in_flight: u64,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    /// mean, max, p50, p95 of TTFT (ms), ITL (ms), latency (s) of successful requests.
    pub ttft: Option<[f64; 4]>,
    pub itl: Option<[f64; 4]>,
    pub latency: Option<[f64; 4]>,
}

impl Sample {
    /// The values in catalogue order (`INTERVAL`): counts as u64, statistics as f64.
    pub fn values(&self) -> Vec<(usize, Value)> {
        let mut v = vec![
            (0, Value::U64(self.started)),
            (1, Value::U64(self.completed)),
            (2, Value::U64(self.errored)),
            (3, Value::U64(self.incomplete)),
            (4, Value::U64(self.in_flight)),
            (5, Value::U64(self.prompt_tokens)),
            (6, Value::U64(self.output_tokens)),
        ];
        for (base, s) in [(7, &self.ttft), (11, &self.itl), (15, &self.latency)] {
            if let Some(s) = s {
                for (i, x) in s.iter().enumerate() {
                    v.push((base + i, Value::F64(*x)));
                }
            }
        }
        v
    }
}

/// Nearest-rank percentile of sorted data.
fn pct(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

fn stats(v: &mut [f64]) -> Option<[f64; 4]> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    Some([mean, v[v.len() - 1], pct(v, 50.0), pct(v, 95.0)])
}

/// Build the samples of a benchmark spanning `[start, end]` from its records.
pub fn build(records: &[Rec], start: f64, end: f64, interval: f64) -> Vec<Sample> {
    let t0 = (start / interval).floor() * interval;
    let end = end.max(start);
    let n = (((end - t0) / interval).ceil() as usize).max(1);
    // index of the interval (t0 + k*iv, t0 + (k+1)*iv] holding t, clamped to the window
    let idx = |t: f64| -> usize {
        let k = ((t - t0) / interval).ceil() as i64 - 1;
        k.clamp(0, n as i64 - 1) as usize
    };
    // the last (partial) interval is written at the benchmark's end, not past it
    let mut out: Vec<Sample> = (0..n)
        .map(|k| Sample {
            t: (t0 + (k as f64 + 1.0) * interval).min(end),
            ..Default::default()
        })
        .collect();
    let mut flight = vec![0i64; n + 1];
    let mut ttft: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut itl: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut lat: Vec<Vec<f64>> = vec![Vec::new(); n];
    for r in records {
        let s = r.start().or(r.end()).unwrap_or(start);
        let e = r.end().unwrap_or(s.max(end));
        let (ks, ke) = (idx(s), idx(e));
        out[ks].started += 1;
        // in flight at sample k's time T_k when s <= T_k < e
        if e > s && out[ks].t >= s {
            let first = ks;
            let past = if e > out[ke].t { ke + 1 } else { ke };
            if past > first {
                flight[first] += 1;
                flight[past] -= 1;
            }
        }
        let o = &mut out[ke];
        match r.status {
            0 => o.completed += 1,
            1 => o.errored += 1,
            _ => o.incomplete += 1,
        }
        o.prompt_tokens += r.prompt_tokens().unwrap_or(0);
        o.output_tokens += r.output_tokens().unwrap_or(0);
        if r.status == 0 {
            if let Some(x) = r.ttft_ms() {
                ttft[ke].push(x);
            }
            if let Some(x) = r.itl_ms() {
                itl[ke].push(x);
            }
            if let Some(x) = r.latency_s() {
                lat[ke].push(x);
            }
        }
    }
    let mut level = 0i64;
    for (k, o) in out.iter_mut().enumerate() {
        level += flight[k];
        o.in_flight = level.max(0) as u64;
        o.ttft = stats(&mut ttft[k]);
        o.itl = stats(&mut itl[k]);
        o.latency = stats(&mut lat[k]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(status: u8, s: f64, e: f64, ttft: f64) -> Rec {
        Rec::new(
            status,
            Some(s),
            Some(e),
            Some(10.0),
            Some(5.0),
            Some(ttft),
            Some(1.0),
            Some(e - s),
        )
    }

    #[test]
    fn counts_add_up_and_in_flight() {
        let recs = vec![
            rec(0, 100.2, 100.7, 10.0),
            rec(0, 100.3, 101.5, 20.0),
            rec(1, 100.9, 101.1, 0.0),
            rec(2, 101.2, 103.9, 0.0),
            rec(0, 99.0, 100.1, 30.0), // before the window: clamped into the first interval
        ];
        let s = build(&recs, 100.0, 103.0, 1.0);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].t, 101.0);
        assert_eq!(s.iter().map(|x| x.completed).sum::<u64>(), 3);
        assert_eq!(s.iter().map(|x| x.errored).sum::<u64>(), 1);
        assert_eq!(s.iter().map(|x| x.incomplete).sum::<u64>(), 1);
        assert_eq!(s.iter().map(|x| x.started).sum::<u64>(), 5);
        // at t=101: 100.3-101.5 and 100.9-101.1 in flight
        assert_eq!(s[0].in_flight, 2);
        // at t=102: 101.2-103.9
        assert_eq!(s[1].in_flight, 1);
        assert_eq!(s[0].ttft.unwrap()[1], 30.0);
        assert_eq!(s[0].completed, 2);
    }
}
