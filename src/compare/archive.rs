//! Inputs that are PCP archives written by `guidellm2pcp` (or merged archives holding them):
//! the per-benchmark summary metrics, read through [`crate::pcp::archive`].

use super::model::{NQ, QUANTITIES, Source, Step, nominal_load};
use crate::guidellm::catalogue::{self as cat};
use crate::guidellm::model::strategy_name;
use crate::pcp::archive::{ArchiveReader, Value};
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
    ];
    let families = cat::families();
    const SUCCESSFUL: usize = 0;
    for (q, qd) in QUANTITIES.iter().enumerate() {
        match qd.source {
            Source::Total(st) => out.push((
                bench(&format!("request_totals.{}", cat::STATUSES[st])),
                Role::Value(q),
            )),
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
    ar.replay(&metrics, |k, inst, v| {
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
            (Role::Value(q), Value::Number(x)) => a.values[q] = Some(x),
            (Role::CiLower(q), Value::Number(x)) => a.lower[q] = Some(x),
            (Role::CiUpper(q), Value::Number(x)) => a.upper[q] = Some(x),
            _ => {}
        }
    })
    .map_err(|e| format!("cannot read the archive: {e}"))?;
    let indom = metrics[0].indom;
    let mut steps = Vec::new();
    for inst in order {
        let a = &acc[&inst];
        let Some(kind) = a.kind.clone() else {
            continue;
        };
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
        });
    }
    if steps.is_empty() {
        return Err(format!(
            "archive without GuideLLM benchmarks (no values of {})",
            names[0]
        ));
    }
    Ok(steps)
}
