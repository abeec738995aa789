//! Interpretation of a raw benchmark: schema shape, load point, summary statistics, labels.

use super::catalogue::{self as cat, Family};
use super::reader::{RawBenchmark, RawTop, ReadError, semantic};
use super::timeline::{self, Sample};
use serde_json::Value;

/// At most this many time-series intervals per benchmark (about 200 bytes each in memory).
pub const MAX_INTERVALS: usize = 250_000;

/// The four shapes of GuideLLM's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// 0.1-0.3.x: `{benchmarks}`, per-benchmark `run_stats`, `id_`.
    V03,
    /// 0.4.x: `{args, benchmarks}`, per-benchmark `scheduler_metrics`.
    V04,
    /// 0.5.0-0.6.x: `metadata.version` 1.
    V05,
    /// 0.7.0+: `metadata.version` 2.
    V07,
}

impl Shape {
    pub fn label(self) -> &'static str {
        match self {
            Shape::V03 => "0.3",
            Shape::V04 => "0.4",
            Shape::V05 => "0.5-0.6",
            Shape::V07 => "0.7-0.8",
        }
    }
    /// From GuideLLM 0.5 on, TPOT = (last token - request start) / output tokens, TTFT included.
    pub fn tpot_includes_ttft(self) -> bool {
        matches!(self, Shape::V05 | Shape::V07)
    }
}

/// Detect the shape from `metadata.version`, else from the first benchmark's keys.
pub fn detect(top: &RawTop, first: Option<&RawBenchmark>) -> Result<Shape, String> {
    if let Some(md) = &top.metadata {
        let v = md.get("version");
        return match v.and_then(Value::as_i64) {
            Some(1) => Ok(Shape::V05),
            Some(2) => Ok(Shape::V07),
            _ => Err(format!(
                "unsupported GuideLLM report schema: metadata.version is {} (known: 1 = GuideLLM 0.5-0.6, 2 = 0.7-0.8)",
                v.map(|v| v.to_string()).unwrap_or_else(|| "missing".into())
            )),
        };
    }
    match first {
        Some(b) if b.has_run_stats || b.id.is_some() => Ok(Shape::V03),
        Some(b) if b.has_scheduler_metrics => Ok(Shape::V04),
        Some(_) => Err("unrecognised GuideLLM result shape: no metadata.version, and the first benchmark has neither run_stats/id_ (0.3) nor scheduler_metrics (0.4)".into()),
        None => Err("unrecognised GuideLLM result shape: no metadata and no benchmarks".into()),
    }
}

/// One benchmark, interpreted.
#[derive(Debug, Clone)]
pub struct Benchmark {
    pub file: usize,
    pub index: usize,
    pub shape: Shape,
    pub id: String,
    pub run_id: String,
    pub run_index: u64,
    pub strategy: String,
    pub strategy_type: String,
    pub streams: Option<f64>,
    pub rate: Option<f64>,
    pub max_concurrency: Option<f64>,
    pub start: f64,
    pub end: f64,
    pub duration: f64,
    pub warmup: Option<f64>,
    pub cooldown: Option<f64>,
    pub totals: [Option<u64>; 4],
    pub requests_made: [Option<u64>; 4],
    /// (index into RUN_STATS_AVG, value)
    pub run_stats: Vec<(usize, f64)>,
    pub dists: Vec<DistValue>,
    pub records: [u64; 3],
    pub samples: Vec<Sample>,
    pub target: Option<String>,
    pub model: Option<String>,
    /// 0.7+ multi-turn runs: one summary per conversation turn.
    pub turns: Vec<Turn>,
    /// 0.7+: warnings GuideLLM attached to the benchmark (`None` before 0.7).
    pub warnings: Option<Vec<Warning>>,
    pub slo_determined_requests: Option<u64>,
    pub dataset_incomplete: Option<bool>,
    /// Confidence level of the `*_ci` statistics (`config.confidence`).
    pub confidence: Option<f64>,
    /// Records kept per status (`config.sample_size`).
    pub sample_size: Option<u64>,
    /// Values present under `metrics` that no metric holds (a newer GuideLLM's additions), as
    /// paths relative to the benchmark; reported, so that nothing is dropped silently.
    pub unimported: Vec<String>,
}

/// (family index, status, stat, value)
pub type DistValue = (u16, u8, u8, f64);

/// One entry of `metrics.turns`.
#[derive(Debug, Clone)]
pub struct Turn {
    pub index: u64,
    pub totals: [Option<u64>; 4],
    pub dists: Vec<DistValue>,
}

/// One entry of a benchmark's `warnings`.
#[derive(Debug, Clone)]
pub struct Warning {
    pub code: String,
    pub message: Option<String>,
    pub observed: Option<f64>,
    pub threshold: Option<f64>,
    pub unit: Option<String>,
    pub sample_count: Option<u64>,
}

impl Benchmark {
    pub fn record_total(&self) -> u64 {
        self.records.iter().sum()
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

fn s(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.2}")
    }
}

/// `concurrent@4`, `constant@29.40`, `throughput@512`, `synchronous`.
pub fn strategy_name(
    ty: &str,
    streams: Option<f64>,
    rate: Option<f64>,
    maxc: Option<f64>,
) -> String {
    match ty {
        "concurrent" => streams.map(|x| format!("concurrent@{}", fmt_num(x))),
        "throughput" => maxc.map(|x| format!("throughput@{}", fmt_num(x))),
        "constant" | "poisson" | "async" => rate.map(|x| format!("{ty}@{x:.2}")),
        _ => None,
    }
    .unwrap_or_else(|| ty.to_string())
}

/// Interpret a raw benchmark; `path0` is `benchmarks[i]`.
pub fn interpret(
    raw: RawBenchmark,
    shape: Shape,
    top: &RawTop,
    file: usize,
    families: &[Family],
    interval: f64,
) -> Result<Benchmark, ReadError> {
    let p = format!("benchmarks[{}]", raw.index);
    let at = |sub: &str, msg: String| semantic(format!("{p}.{sub}"), msg);
    let cfg = raw.config.as_ref();
    let legacy = shape == Shape::V03;

    // identity and load point
    let id = if legacy {
        raw.id.clone()
    } else {
        s(cfg.and_then(|c| c.get("id_")))
    }
    .ok_or_else(|| {
        at(
            if legacy { "id_" } else { "config.id_" },
            "missing benchmark id".into(),
        )
    })?;
    let run_id = if legacy {
        raw.run_id.clone()
    } else {
        s(cfg.and_then(|c| c.get("run_id")))
    }
    .unwrap_or_default();
    let (strategy_v, run_index) = if legacy {
        let a = raw.args.as_ref();
        (
            a.and_then(|a| a.get("strategy")).cloned(),
            a.and_then(|a| a.get("strategy_index"))
                .and_then(Value::as_u64),
        )
    } else {
        (
            cfg.and_then(|c| c.get("strategy")).cloned(),
            cfg.and_then(|c| c.get("run_index")).and_then(Value::as_u64),
        )
    };
    let run_index = run_index.unwrap_or(raw.index as u64);
    let st = strategy_v.unwrap_or(Value::Null);
    let strategy_type = s(st.get("type_"))
        .or_else(|| s(st.get("kind")))
        .or_else(|| st.as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    let streams = num(st.get("streams"));
    let rate = num(st.get("rate"));
    let max_concurrency = num(st.get("max_concurrency"));
    let strategy = strategy_name(&strategy_type, streams, rate, max_concurrency);

    // time window
    let sm = if legacy {
        raw.run_stats.as_ref()
    } else {
        raw.scheduler_metrics.as_ref()
    };
    let start = raw
        .start_time
        .or_else(|| num(sm.and_then(|m| m.get("measure_start_time"))))
        .or_else(|| num(sm.and_then(|m| m.get("start_time"))))
        .ok_or_else(|| at("start_time", "missing start_time".into()))?;
    let end = raw
        .end_time
        .or_else(|| num(sm.and_then(|m| m.get("measure_end_time"))))
        .or_else(|| num(sm.and_then(|m| m.get("end_time"))))
        .ok_or_else(|| at("end_time", "missing end_time".into()))?;
    if !(1.0e8..1.0e10).contains(&start) || !(1.0e8..1.0e10).contains(&end) || end < start {
        return Err(at(
            "start_time",
            format!("implausible benchmark window {start} .. {end} (Unix epoch seconds expected)"),
        ));
    }
    let duration = raw.duration.unwrap_or(end - start);

    // counts
    let metrics = raw.metrics.as_ref();
    let totals_v = if legacy {
        raw.request_totals.as_ref()
    } else {
        metrics.and_then(|m| m.get("request_totals"))
    };
    let mut totals = [None; 4];
    let mut requests_made = [None; 4];
    let made = sm.and_then(|m| m.get("requests_made"));
    for (i, st) in cat::STATUSES.iter().enumerate() {
        let tp = if legacy {
            "request_totals"
        } else {
            "metrics.request_totals"
        };
        let mp = if legacy {
            "run_stats.requests_made"
        } else {
            "scheduler_metrics.requests_made"
        };
        totals[i] = count(totals_v, st, &p, tp)?;
        requests_made[i] = count(made, st, &p, mp)?;
    }
    let mut run_stats = Vec::new();
    if let Some(m) = sm {
        for (i, name) in cat::RUN_STATS_AVG.iter().enumerate() {
            match m.get(*name) {
                None | Some(Value::Null) => {}
                Some(v) => run_stats.push((
                    i,
                    v.as_f64().ok_or_else(|| {
                        semantic(
                            format!(
                                "{p}.{}.{name}",
                                if legacy {
                                    "run_stats"
                                } else {
                                    "scheduler_metrics"
                                }
                            ),
                            format!("expected a number, found {}", short(v)),
                        )
                    })?,
                )),
            }
        }
    }

    // distributions
    let mut dists = Vec::new();
    let metrics_path = format!("{p}.metrics");
    for (fi, f) in families.iter().enumerate() {
        if f.name == "generation_delay" {
            let path = format!("{p}.scheduler_metrics");
            family_dists(sm, &path, fi, f, &mut dists)?;
        } else {
            family_dists(metrics, &metrics_path, fi, f, &mut dists)?;
        }
    }
    let turns = turns(metrics, &metrics_path, families)?;
    let warnings = warnings(raw.warnings.as_ref(), &p)?;
    let slo_determined_requests = count(metrics, "slo_determined_requests", &p, "metrics")?;
    let dataset_incomplete = match sm.and_then(|m| m.get("dataset_incomplete")) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(v) => {
            return Err(at(
                "scheduler_metrics.dataset_incomplete",
                format!("expected true or false, found {}", short(v)),
            ));
        }
    };
    let unimported = unimported(metrics, families);
    let confidence = num(cfg.and_then(|c| c.get("confidence")));
    let sample_size = cfg
        .and_then(|c| c.get("sample_size"))
        .and_then(Value::as_u64);

    // backend
    let backend = cfg.and_then(|c| c.get("backend"));
    let spec_backend = top
        .config
        .as_ref()
        .and_then(|c| c.get("spec"))
        .and_then(|s| s.get("backend"));
    let worker = raw.worker.as_ref();
    let target = s(backend.and_then(|b| b.get("target")))
        .or_else(|| s(spec_backend.and_then(|b| b.get("target"))))
        .or_else(|| s(top.args.as_ref().and_then(|a| a.get("target"))))
        .or_else(|| s(worker.and_then(|w| w.get("backend_target"))));
    let model = s(backend.and_then(|b| b.get("model")))
        .or_else(|| s(spec_backend.and_then(|b| b.get("model"))))
        .or_else(|| s(top.args.as_ref().and_then(|a| a.get("model"))))
        .or_else(|| s(worker.and_then(|w| w.get("backend_model"))));

    let intervals = (end - (start / interval).floor() * interval) / interval;
    if intervals > MAX_INTERVALS as f64 {
        return Err(at(
            "duration",
            format!(
                "benchmark spans {:.0} s: more than {MAX_INTERVALS} intervals of {interval} s; use a larger --interval",
                end - start
            ),
        ));
    }
    let samples = timeline::build(&raw.records, start, end, interval);
    Ok(Benchmark {
        file,
        index: raw.index,
        shape,
        id,
        run_id,
        run_index,
        strategy,
        strategy_type,
        streams,
        rate,
        max_concurrency,
        start,
        end,
        duration,
        warmup: raw.warmup_duration,
        cooldown: raw.cooldown_duration,
        totals,
        requests_made,
        run_stats,
        dists,
        records: raw.record_counts,
        samples,
        target,
        model,
        turns,
        warnings,
        slo_determined_requests,
        dataset_incomplete,
        confidence,
        sample_size,
        unimported,
    })
}

/// Keys of `metrics` that are not distribution families. The last two are known but not
/// archived (null in every file seen, shape unknown): reported when they hold something.
const METRICS_OTHER: [&str; 5] = [
    "request_totals",
    "turns",
    "slo_determined_requests",
    "slo_attainment",
    "request_goodput",
];
/// Keys of a distribution summary that are not statistics (a histogram of the samples).
const SUMMARY_OTHER: [&str; 2] = ["pdf", "cumulative_distribution_function"];

/// The paths of the values under `metrics` (and each of its `turns`) that no metric holds.
fn unimported(metrics: Option<&Value>, families: &[Family]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(Value::Object(m)) = metrics else {
        return out;
    };
    let known: std::collections::HashSet<&str> = families.iter().map(|f| f.name.as_str()).collect();
    for (k, v) in m {
        match k.as_str() {
            "slo_attainment" | "request_goodput" if !v.is_null() => {
                out.push(format!("metrics.{k}"))
            }
            "turns" => {
                for turn in v.as_array().into_iter().flatten() {
                    for (tk, tv) in turn.as_object().into_iter().flatten() {
                        if tk != "turn_index" && tk != "request_totals" {
                            unknown_under("metrics.turns[].", tk, tv, &known, &mut out);
                        }
                    }
                }
            }
            k if METRICS_OTHER.contains(&k) => {}
            _ => unknown_under("metrics.", k, v, &known, &mut out),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Walks `v` at family path `rel`: summaries of unknown families, statistics the catalogue
/// lacks and values where no summary is expected go to `out` (as `prefix` + path).
fn unknown_under(
    prefix: &str,
    rel: &str,
    v: &Value,
    known: &std::collections::HashSet<&str>,
    out: &mut Vec<String>,
) {
    match v {
        Value::Null => {}
        Value::Object(m) if m.contains_key("mean") => {
            let family = match rel.rsplit_once('.') {
                Some((f, status)) if cat::STATUSES.contains(&status) => f,
                _ => rel,
            };
            if !known.contains(family) {
                out.push(format!("{prefix}{rel}"));
                return;
            }
            for (k, x) in m {
                if !SUMMARY_OTHER.contains(&k.as_str()) {
                    unknown_stats(&format!("{prefix}{rel}"), &mut vec![k.as_str()], x, out);
                }
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                unknown_under(prefix, &format!("{rel}.{k}"), x, known, out);
            }
        }
        _ => out.push(format!("{prefix}{rel}")),
    }
}

/// The leaves under statistic path `at` of a summary that match no statistic of the catalogue.
fn unknown_stats<'a>(summary: &str, at: &mut Vec<&'a str>, v: &'a Value, out: &mut Vec<String>) {
    match v {
        Value::Null => {}
        Value::Object(m) => {
            for (k, x) in m {
                at.push(k);
                unknown_stats(summary, at, x, out);
                at.pop();
            }
        }
        _ => {
            if !cat::STATS.iter().any(|s| s.json == *at) {
                out.push(format!("{summary}.{}", at.join(".")));
            }
        }
    }
}

/// The values of family `f` found under `root` (`metrics`, `scheduler_metrics` or one turn):
/// a summary per status, or a single summary archived as `total`.
fn family_dists(
    root: Option<&Value>,
    root_path: &str,
    fi: usize,
    f: &Family,
    out: &mut Vec<DistValue>,
) -> Result<(), ReadError> {
    let mut node = root;
    for seg in f.name.split('.') {
        node = node.and_then(|n| n.get(seg));
    }
    let node = match node {
        None | Some(Value::Null) => return Ok(()),
        Some(n) => n,
    };
    let fpath = format!("{root_path}.{}", f.name);
    if !node.is_object() {
        return Err(semantic(
            fpath,
            format!(
                "expected a distribution summary object, found {}",
                short(node)
            ),
        ));
    }
    if node.get("mean").is_some() {
        return dist(node, fi, 3, &fpath, out);
    }
    for (si, stn) in cat::STATUSES.iter().enumerate() {
        match node.get(*stn) {
            None | Some(Value::Null) => {}
            Some(d) => dist(d, fi, si, &format!("{fpath}.{stn}"), out)?,
        }
    }
    Ok(())
}

/// `metrics.turns` (0.7+): null for single-turn runs, else one summary per turn.
fn turns(
    metrics: Option<&Value>,
    metrics_path: &str,
    families: &[Family],
) -> Result<Vec<Turn>, ReadError> {
    let list = match metrics.and_then(|m| m.get("turns")) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(v) => {
            return Err(semantic(
                format!("{metrics_path}.turns"),
                format!("expected a list of turn summaries, found {}", short(v)),
            ));
        }
    };
    let mut out: Vec<Turn> = Vec::with_capacity(list.len());
    for (k, entry) in list.iter().enumerate() {
        let tp = format!("{metrics_path}.turns[{k}]");
        let index = entry
            .get("turn_index")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                semantic(
                    format!("{tp}.turn_index"),
                    "missing or not a non-negative integer".to_string(),
                )
            })?;
        if out.iter().any(|t| t.index == index) {
            return Err(semantic(
                format!("{tp}.turn_index"),
                format!("duplicate turn_index {index}"),
            ));
        }
        let mut totals = [None; 4];
        let totals_v = entry.get("request_totals");
        for (i, st) in cat::STATUSES.iter().enumerate() {
            totals[i] = count(totals_v, st, &tp, "request_totals")?;
        }
        let mut dists = Vec::new();
        for (fi, f) in families.iter().enumerate() {
            if f.name != "generation_delay" {
                family_dists(Some(entry), &tp, fi, f, &mut dists)?;
            }
        }
        out.push(Turn {
            index,
            totals,
            dists,
        });
    }
    Ok(out)
}

/// A benchmark's `warnings` (0.7+).
fn warnings(v: Option<&Value>, p: &str) -> Result<Option<Vec<Warning>>, ReadError> {
    let list = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(v) => {
            return Err(semantic(
                format!("{p}.warnings"),
                format!("expected a list of warnings, found {}", short(v)),
            ));
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (k, w) in list.iter().enumerate() {
        let wp = format!("{p}.warnings[{k}]");
        let code = s(w.get("code"))
            .ok_or_else(|| semantic(format!("{wp}.code"), "missing or not a string".to_string()))?;
        let number = |key: &str| match w.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| {
                semantic(
                    format!("{wp}.{key}"),
                    format!("expected a number, found {}", short(v)),
                )
            }),
        };
        out.push(Warning {
            code,
            message: s(w.get("message")),
            observed: number("observed")?,
            threshold: number("threshold")?,
            unit: s(w.get("unit")),
            sample_count: count(Some(w), "sample_count", p, &format!("warnings[{k}]"))?,
        });
    }
    Ok(Some(out))
}

fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.len() > 40 {
        format!("{}...", &t[..40])
    } else {
        t
    }
}

fn count(obj: Option<&Value>, key: &str, p: &str, sub: &str) -> Result<Option<u64>, ReadError> {
    match obj.and_then(|o| o.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) => Ok(Some(n)),
            None => Err(semantic(
                format!("{p}.{sub}.{key}"),
                format!("expected a non-negative integer, found {}", short(v)),
            )),
        },
    }
}

fn dist(
    d: &Value,
    fi: usize,
    status: usize,
    path: &str,
    out: &mut Vec<DistValue>,
) -> Result<(), ReadError> {
    if !d.is_object() {
        return Err(semantic(
            path,
            format!("expected a distribution summary object, found {}", short(d)),
        ));
    }
    for (si, stat) in cat::STATS.iter().enumerate() {
        let mut v = Some(d);
        for seg in &stat.json {
            v = v.and_then(|n| n.get(*seg));
        }
        match v {
            None | Some(Value::Null) => {}
            Some(v) => {
                let vpath = || format!("{path}.{}", stat.json.join("."));
                let x = v.as_f64().ok_or_else(|| {
                    semantic(vpath(), format!("expected a number, found {}", short(v)))
                })?;
                if si == cat::STAT_COUNT && (x < 0.0 || x.fract() != 0.0) {
                    return Err(semantic(
                        vpath(),
                        format!("expected a non-negative integer count, found {x}"),
                    ));
                }
                out.push((fi as u16, status as u8, si as u8, x));
            }
        }
    }
    Ok(())
}

/// User labels of a run (0.7+: `config.metadata.labels`).
pub fn user_labels(top: &RawTop) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(Value::Object(m)) = top
        .config
        .as_ref()
        .and_then(|c| c.get("metadata"))
        .and_then(|m| m.get("labels"))
    {
        for (k, v) in m {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push((k.clone(), v));
        }
    }
    out
}

/// A PCP label name: letters, digits and underscores, starting with a letter.
pub fn label_name(k: &str) -> String {
    let mut s: String = k
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.insert_str(0, "l_");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies() {
        assert_eq!(
            strategy_name("concurrent", Some(4.0), None, Some(4.0)),
            "concurrent@4"
        );
        assert_eq!(
            strategy_name("constant", None, Some(29.4), None),
            "constant@29.40"
        );
        assert_eq!(
            strategy_name("throughput", None, None, Some(512.0)),
            "throughput@512"
        );
        assert_eq!(
            strategy_name("synchronous", None, None, None),
            "synchronous"
        );
    }
}
