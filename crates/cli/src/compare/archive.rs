//! Inputs that are PCP archives written by `guidellm2pcp` (or merged archives holding them):
//! the per-benchmark summary metrics, read through [`pcp::archive`].

use super::model::{Agg, NQ, QUANTITIES, Source, Step, System, nominal_load};
use guidellm::catalogue::{self as cat};
use guidellm::model::strategy_name;
use pcp::archive::{ArchiveReader, Value};
use std::path::Path;

/// The archive base name if `file` names an archive (`base`, `base.meta`, `base.index` or a
/// volume `base.N`), else `None`.
pub fn archive_base(file: &str) -> Option<String> {
    if file == "-" {
        return None;
    }
    let exists = |b: &str| Path::new(&format!("{b}.meta")).is_file();
    for suffix in [".meta", ".index"] {
        if let Some(b) = file.strip_suffix(suffix)
            && exists(b)
        {
            return Some(b.to_string());
        }
    }
    if let Some((b, n)) = file.rsplit_once('.')
        && !n.is_empty()
        && n.bytes().all(|c| c.is_ascii_digit())
        && exists(b)
    {
        return Some(b.to_string());
    }
    exists(file).then(|| file.to_string())
}

/// What one archive metric is for.
#[derive(Clone, Copy)]
enum Role {
    Kind,
    Id,
    Streams,
    Rate,
    MaxConcurrency,
    Start,
    End,
    OutputTokens,
    Value(usize),
    CiLower(usize),
    CiUpper(usize),
}

#[derive(Default, Clone)]
struct Acc {
    kind: Option<String>,
    id: Option<String>,
    streams: Option<f64>,
    rate: Option<f64>,
    maxc: Option<f64>,
    start: Option<f64>,
    end: Option<f64>,
    tokens: Option<f64>,
    values: [Option<f64>; NQ],
    lower: [Option<f64>; NQ],
    upper: [Option<f64>; NQ],
}

fn stat_index(leaf: &str) -> usize {
    cat::STATS
        .iter()
        .position(|s| s.leaf == leaf)
        .unwrap_or_else(|| panic!("no statistic {leaf} in the catalogue"))
}

/// The metric names to read, with their roles.
fn wanted() -> Vec<(String, Role)> {
    let bench = |leaf: &str| {
        let i = cat::BENCH
            .iter()
            .position(|b| b.1 == leaf)
            .unwrap_or_else(|| panic!("no guidellm.{leaf} in the catalogue"));
        cat::bench_metric(i).name
    };
    let mut out = vec![
        (bench("strategy.type"), Role::Kind),
        (bench("id"), Role::Id),
        (bench("strategy.streams"), Role::Streams),
        (bench("strategy.rate"), Role::Rate),
        (bench("strategy.max_concurrency"), Role::MaxConcurrency),
        (bench("start_time"), Role::Start),
        (bench("end_time"), Role::End),
    ];
    let families = cat::families();
    const SUCCESSFUL: usize = 0;
    const TOTAL: usize = 3;
    let otc = families
        .iter()
        .find(|f| f.name == "output_token_count")
        .expect("output_token_count family");
    out.push((
        cat::family_metric(otc, TOTAL, stat_index("sum")).name,
        Role::OutputTokens,
    ));
    for (q, qd) in QUANTITIES.iter().enumerate() {
        match qd.source {
            Source::Total(st) => out.push((
                bench(&format!("request_totals.{}", cat::STATUSES[st])),
                Role::Value(q),
            )),
            Source::System(_) => {}
            Source::Dist { family, stat, ci } => {
                let f = families
                    .iter()
                    .find(|f| f.name == family)
                    .unwrap_or_else(|| panic!("no family {family} in the catalogue"));
                let name = |leaf: &str| cat::family_metric(f, SUCCESSFUL, stat_index(leaf)).name;
                out.push((name(stat), Role::Value(q)));
                if let Some((l, u)) = ci {
                    out.push((name(l), Role::CiLower(q)));
                    out.push((name(u), Role::CiUpper(q)));
                }
            }
        }
    }
    out
}

/// Read the benchmarks of an archive as steps. Errors are messages without the file name.
pub fn read_steps(base: &str) -> Result<Vec<Step>, String> {
    let ar = ArchiveReader::open(base).map_err(|e| format!("cannot open the archive: {e}"))?;
    let wanted = wanted();
    let names: Vec<String> = wanted.iter().map(|w| w.0.clone()).collect();
    let found = ar.lookup(&names)?;
    if found[0].is_none() {
        return Err(format!(
            "archive without GuideLLM metrics (no {}; import result files with guidellm2pcp)",
            names[0]
        ));
    }
    let (metrics, roles): (Vec<_>, Vec<_>) = found
        .iter()
        .zip(&wanted)
        .filter_map(|(m, w)| m.map(|m| (m, w.1)))
        .unzip();
    let mut order: Vec<i32> = Vec::new();
    let mut acc: std::collections::HashMap<i32, Acc> = std::collections::HashMap::new();
    ar.replay(&metrics, |k, inst, _t, v| {
        let a = acc.entry(inst).or_insert_with(|| {
            order.push(inst);
            Acc::default()
        });
        match (roles[k], v) {
            (Role::Kind, Value::Text(s)) => a.kind = Some(s),
            (Role::Id, Value::Text(s)) => a.id = Some(s),
            (Role::Streams, Value::Number(x)) => a.streams = Some(x),
            (Role::Rate, Value::Number(x)) => a.rate = Some(x),
            (Role::MaxConcurrency, Value::Number(x)) => a.maxc = Some(x),
            (Role::Start, Value::Number(x)) => a.start = Some(x),
            (Role::End, Value::Number(x)) => a.end = Some(x),
            (Role::OutputTokens, Value::Number(x)) => a.tokens = Some(x),
            (Role::Value(q), Value::Number(x)) => a.values[q] = Some(x),
            (Role::CiLower(q), Value::Number(x)) => a.lower[q] = Some(x),
            (Role::CiUpper(q), Value::Number(x)) => a.upper[q] = Some(x),
            _ => {}
        }
    })
    .map_err(|e| format!("cannot read the archive: {e}"))?;
    let indom = metrics[0].indom;
    let mut steps = Vec::new();
    let mut tokens = Vec::new();
    for inst in order {
        let a = &acc[&inst];
        let (Some(kind), Some(start), Some(end)) = (a.kind.clone(), a.start, a.end) else {
            continue;
        };
        tokens.push(a.tokens);
        let mut ci = [None; NQ];
        for (q, c) in ci.iter_mut().enumerate() {
            if let (Some(l), Some(u)) = (a.lower[q], a.upper[q]) {
                *c = Some((l, u));
            }
        }
        steps.push(Step {
            strategy: strategy_name(&kind, a.streams, a.rate, a.maxc),
            load: nominal_load(&kind, a.streams, a.rate, a.maxc),
            kind,
            benchmark_id: a
                .id
                .clone()
                .or_else(|| ar.instance_name(indom, inst))
                .unwrap_or_else(|| inst.to_string()),
            index: inst.max(0) as usize,
            values: a.values,
            ci,
            confidence: None,
            window: (start, end),
        });
    }
    if steps.is_empty() {
        return Err(format!(
            "archive without GuideLLM benchmarks (no values of {})",
            names[0]
        ));
    }
    drop(ar);
    system_values(base, &mut steps, &tokens)?;
    Ok(steps)
}

/// (time, instance, value) of one metric, in time order.
type Samples = Vec<(f64, i32, f64)>;

/// The system quantities of every step, from the node metrics recorded in its window (a merged
/// archive); left `None` where the archive has no value in the window. A second pass over the
/// archive, for these metrics only.
fn system_values(base: &str, steps: &mut [Step], tokens: &[Option<f64>]) -> Result<(), String> {
    // a fresh context: replay reads forward from the start of the archive
    let ar = ArchiveReader::open(base).map_err(|e| format!("cannot open the archive: {e}"))?;
    let mut names: Vec<String> = Vec::new();
    for q in QUANTITIES.iter() {
        if let Source::System(sys) = q.source {
            for m in sys.metrics {
                if !names.iter().any(|n| n == m) {
                    names.push(m.to_string());
                }
            }
        }
    }
    let found = ar.lookup(&names)?;
    let present: Vec<(usize, pcp::archive::Metric)> = found
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.map(|m| (i, m)))
        .collect();
    if present.is_empty() {
        return Ok(());
    }
    let metrics: Vec<_> = present.iter().map(|p| p.1).collect();
    let mut samples: Vec<Samples> = vec![Vec::new(); names.len()];
    ar.replay(&metrics, |k, inst, t, v| {
        if let Value::Number(x) = v {
            samples[present[k].0].push((t, inst, x));
        }
    })
    .map_err(|e| format!("cannot read the archive: {e}"))?;
    // a MIG instance (gpuN/migM) is part of its GPU: counted once, with the GPU
    for &(i, m) in &present {
        if !names[i].starts_with("llm.gpu.") {
            continue;
        }
        let mut mig: std::collections::HashMap<i32, bool> = std::collections::HashMap::new();
        samples[i].retain(|x| {
            !*mig.entry(x.1).or_insert_with(|| {
                ar.instance_name(m.indom, x.1)
                    .is_some_and(|n| n.contains("/mig"))
            })
        });
    }
    for (step, tok) in steps.iter_mut().zip(tokens) {
        let (s, e) = step.window;
        for (q, qd) in QUANTITIES.iter().enumerate() {
            let Source::System(sys) = qd.source else {
                continue;
            };
            let inside: Vec<Samples> = sys
                .metrics
                .iter()
                .map(|m| {
                    let i = names.iter().position(|n| n == m).expect("listed");
                    samples[i]
                        .iter()
                        .copied()
                        .filter(|x| x.0 >= s && x.0 <= e)
                        .collect()
                })
                .collect();
            step.values[q] = aggregate(&sys, &inside, e - s, *tok);
        }
    }
    Ok(())
}

/// One system quantity from the samples of its metrics inside a window of `span` seconds;
/// `tokens`: the step's output tokens.
pub fn aggregate(
    sys: &System,
    per_metric: &[Samples],
    span: f64,
    tokens: Option<f64>,
) -> Option<f64> {
    let v = match sys.agg {
        Agg::MeanOfMeans | Agg::MeanOfSums | Agg::MaxOfSums | Agg::Max => {
            let mut all: Samples = per_metric.concat();
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            // one record = the values with the same timestamp
            let mut records: Vec<Vec<f64>> = Vec::new();
            let mut last_t = f64::NAN;
            for (t, _, x) in all {
                if t != last_t {
                    records.push(Vec::new());
                    last_t = t;
                }
                records.last_mut().expect("pushed").push(x);
            }
            if records.is_empty() {
                return None;
            }
            let n = records.len() as f64;
            let sum = |r: &Vec<f64>| r.iter().sum::<f64>();
            match sys.agg {
                Agg::MeanOfMeans => {
                    records.iter().map(|r| sum(r) / r.len() as f64).sum::<f64>() / n
                }
                Agg::MeanOfSums => records.iter().map(sum).sum::<f64>() / n,
                Agg::MaxOfSums => records.iter().map(sum).fold(f64::NEG_INFINITY, f64::max),
                _ => records
                    .iter()
                    .flatten()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max),
            }
        }
        Agg::Increase | Agg::MeanRate | Agg::PerOutputToken => {
            let mut total = 0.0;
            let mut any = false;
            for samples in per_metric {
                let mut insts: Vec<i32> = samples.iter().map(|x| x.1).collect();
                insts.sort_unstable();
                insts.dedup();
                for inst in insts {
                    let mut it = samples.iter().filter(|x| x.1 == inst);
                    let Some(&(t0, _, v0)) = it.next() else {
                        continue;
                    };
                    let Some(&(t1, _, v1)) = it.next_back() else {
                        continue;
                    };
                    // a counter that went back (driver reload, restart) says nothing
                    if v1 < v0 || t1 <= t0 {
                        continue;
                    }
                    total += match sys.agg {
                        Agg::PerOutputToken => (v1 - v0) * span / (t1 - t0),
                        Agg::MeanRate => (v1 - v0) / (t1 - t0),
                        _ => v1 - v0,
                    };
                    any = true;
                }
            }
            if !any {
                return None;
            }
            if sys.agg == Agg::PerOutputToken {
                match tokens {
                    Some(t) if t > 0.0 => total / t,
                    _ => return None,
                }
            } else {
                total
            }
        }
    };
    Some(v * sys.scale).filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(agg: Agg) -> System {
        System {
            metrics: &["m"],
            agg,
            scale: 1.0,
        }
    }

    #[test]
    fn record_aggregations() {
        // two records of two instances: (10, 20) at t=1, (30, 50) at t=2
        let s = vec![vec![
            (1.0, 0, 10.0),
            (1.0, 1, 20.0),
            (2.0, 0, 30.0),
            (2.0, 1, 50.0),
        ]];
        assert_eq!(aggregate(&sys(Agg::MeanOfMeans), &s, 1.0, None), Some(27.5));
        assert_eq!(aggregate(&sys(Agg::MeanOfSums), &s, 1.0, None), Some(55.0));
        assert_eq!(aggregate(&sys(Agg::MaxOfSums), &s, 1.0, None), Some(80.0));
        assert_eq!(aggregate(&sys(Agg::Max), &s, 1.0, None), Some(50.0));
        assert_eq!(aggregate(&sys(Agg::Max), &[vec![]], 1.0, None), None);
    }

    #[test]
    fn counters() {
        // instance 0 rises 100 over 2 s; instance 1 goes back (reset): ignored
        let s = vec![vec![
            (1.0, 0, 1000.0),
            (1.0, 1, 500.0),
            (3.0, 0, 1100.0),
            (3.0, 1, 10.0),
        ]];
        assert_eq!(aggregate(&sys(Agg::Increase), &s, 4.0, None), Some(100.0));
        assert_eq!(aggregate(&sys(Agg::MeanRate), &s, 4.0, None), Some(50.0));
        // scaled to a 4 s window: 200 per 50 tokens
        assert_eq!(
            aggregate(&sys(Agg::PerOutputToken), &s, 4.0, Some(50.0)),
            Some(4.0)
        );
        assert_eq!(
            aggregate(&sys(Agg::PerOutputToken), &s, 4.0, Some(0.0)),
            None
        );
        assert_eq!(aggregate(&sys(Agg::PerOutputToken), &s, 4.0, None), None);
        // one sample says nothing about an increase
        assert_eq!(
            aggregate(&sys(Agg::Increase), &[vec![(1.0, 0, 5.0)]], 1.0, None),
            None
        );
        // several metrics add up
        let two = vec![
            vec![(1.0, 0, 0.0), (2.0, 0, 3.0)],
            vec![(1.0, 0, 10.0), (2.0, 0, 14.0)],
        ];
        assert_eq!(aggregate(&sys(Agg::Increase), &two, 1.0, None), Some(7.0));
    }

    #[test]
    fn archive_names() {
        assert_eq!(archive_base("-"), None);
        assert_eq!(archive_base("/nonexistent/x.meta"), None);
        assert_eq!(archive_base("/nonexistent/x.json"), None);
    }
}
