//! The importer's metric catalogue: every name the archive can hold, with a stable PMID in
//! domain 510 (the domain upstream PCP's `guidellm2pcp` uses; not the agent's 505).
//!
//! Layout:
//! * cluster 0: per-benchmark facts (`guidellm.duration`, `guidellm.run_id`, strategy, totals);
//! * cluster 1: `guidellm.run_stats.*` (0.3 `run_stats`, 0.4+ `scheduler_metrics`);
//! * cluster 2: `guidellm.interval.*`, the time series built from the per-request records;
//! * cluster 3: `guidellm.turns.request_totals.*`, per conversation turn (GuideLLM 0.7+);
//! * cluster 4: `guidellm.warning.*`, the warnings GuideLLM 0.7+ attaches to a benchmark;
//! * clusters 10+: one per distribution family (`guidellm.<family>.<status>.<stat>`), item
//!   [`stat_item`]. New families are only ever appended, so PMIDs never change;
//! * clusters 2058+ (family + 2048): the same families per conversation turn
//!   (`guidellm.turns.<family>.<status>.<stat>`).
//!
//! Instance domains: 1 the benchmarks; 2 the turns of each benchmark; 3 the warnings of each
//! benchmark. A turn's or a warning's instance id is its benchmark's id * 1000 + its index.

use pcp::{Semantics, Type, Units};
use std::sync::LazyLock;

pub const DOMAIN: u32 = 510;
/// The benchmark instance domain (serial 1, as upstream).
pub const INDOM_SERIAL: u32 = 1;
/// The (benchmark, conversation turn) instance domain.
pub const TURN_INDOM_SERIAL: u32 = 2;
/// The (benchmark, warning) instance domain.
pub const WARNING_INDOM_SERIAL: u32 = 3;
/// Per-turn families live in the family's cluster plus this.
pub const TURN_CLUSTER_OFFSET: u32 = 2048;
/// Turns and warnings per benchmark: their instance ids are benchmark id * this + index.
pub const SUB_INSTANCES: i64 = 1000;

pub const fn indom() -> u32 {
    pcp::indom(DOMAIN, INDOM_SERIAL)
}

pub const fn turn_indom() -> u32 {
    pcp::indom(DOMAIN, TURN_INDOM_SERIAL)
}

pub const fn warning_indom() -> u32 {
    pcp::indom(DOMAIN, WARNING_INDOM_SERIAL)
}

/// The instance id of a benchmark's turn or warning number `index`, if it fits.
pub fn sub_instance_id(bench: i32, index: u64) -> Option<i32> {
    if index >= SUB_INSTANCES as u64 {
        return None;
    }
    i32::try_from(bench as i64 * SUB_INSTANCES + index as i64).ok()
}

pub const fn pmid(cluster: u32, item: u32) -> u32 {
    pcp::pmid(DOMAIN, cluster, item)
}

/// A metric definition, resolved to a full name.
#[derive(Clone, Debug)]
pub struct MetricDef {
    pub pmid: u32,
    pub name: String,
    pub ty: Type,
    pub sem: Semantics,
    pub units: Units,
    pub indom: u32,
    pub help: String,
}

pub const STATUSES: [&str; 4] = ["successful", "errored", "incomplete", "total"];

/// One statistic of a DistributionSummary.
#[derive(Clone, Debug)]
pub struct Stat {
    /// Where it is inside one status's summary: `["mean"]`, `["percentiles", "p50"]`,
    /// `["mean_ci", "lower"]`, `["percentile_cis", "p50", "lower"]`.
    pub json: Vec<&'static str>,
    /// The last part(s) of the metric name: `mean`, `p50`, `mean_ci.lower`, `p50_ci.lower`.
    pub leaf: String,
    /// Help text words that go before the family's description.
    pub what: String,
}

/// (JSON key, metric leaf) of the moments GuideLLM reports; `count` is item 7, `total_sum` 8.
const MOMENTS: [(&str, &str); 9] = [
    ("mean", "mean"),
    ("median", "median"),
    ("mode", "mode"),
    ("std_dev", "std_dev"),
    ("variance", "variance"),
    ("min", "min"),
    ("max", "max"),
    ("count", "count"),
    ("total_sum", "sum"),
];
const PERCENTILES: [&str; 11] = [
    "p001", "p01", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "p999",
];

/// Every statistic, in item order: the moments, the percentiles (under `percentiles.<key>` in
/// the JSON, directly under the status in the archive), then the confidence intervals that
/// GuideLLM 0.7+ adds (`mean_ci`, `percentile_cis`). New statistics are only ever appended.
pub static STATS: LazyLock<Vec<Stat>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for (key, leaf) in MOMENTS {
        let what = match key {
            "count" => "number of samples of".to_string(),
            "total_sum" => "sum of".to_string(),
            "variance" => "variance (squared units) of".to_string(),
            _ => format!("{leaf} of"),
        };
        out.push(Stat {
            json: vec![key],
            leaf: leaf.to_string(),
            what,
        });
    }
    for p in PERCENTILES {
        out.push(Stat {
            json: vec!["percentiles", p],
            leaf: p.to_string(),
            what: format!("{} percentile of", percentile_words(p)),
        });
    }
    for bound in ["lower", "upper"] {
        out.push(Stat {
            json: vec!["mean_ci", bound],
            leaf: format!("mean_ci.{bound}"),
            what: format!(
                "{bound} bound of the confidence interval (at the benchmark's confidence label) of the mean of"
            ),
        });
    }
    for p in PERCENTILES {
        for bound in ["lower", "upper"] {
            out.push(Stat {
                json: vec!["percentile_cis", p, bound],
                leaf: format!("{p}_ci.{bound}"),
                what: format!(
                    "{bound} bound of the confidence interval (at the benchmark's confidence label) of the {} percentile of",
                    percentile_words(p)
                ),
            });
        }
    }
    out
});
pub const FIRST_PERCENTILE: usize = 9;
pub const STAT_COUNT: usize = 7;
const STAT_VARIANCE: usize = 4;

/// The item of `(status, stat)` within a family's cluster: `status * 32 + stat` for the first
/// 32 statistics (the PMIDs of the first releases), then the same pattern from item 128.
pub const fn stat_item(status: usize, stat: usize) -> u32 {
    ((stat / 32) * 128 + status * 32 + stat % 32) as u32
}

/// What a family measures, for units and help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Millis,
    Seconds,
    Count,
    PerSecond,
    Level,
}

impl Kind {
    fn units(self) -> Units {
        match self {
            Kind::Millis => Units::MSEC,
            Kind::Seconds => Units::SEC,
            Kind::Count => Units::COUNT,
            Kind::PerSecond => Units::COUNT_PER_SEC,
            Kind::Level => Units::NONE,
        }
    }
}

/// Base families (JSON path under `metrics`, or `scheduler_metrics` for generation_delay).
const BASE: [(&str, Kind, &str); 24] = [
    (
        "requests_per_second",
        Kind::PerSecond,
        "requests completed per second (time-weighted distribution)",
    ),
    (
        "request_concurrency",
        Kind::Level,
        "requests in flight (time-weighted distribution)",
    ),
    (
        "request_latency",
        Kind::Seconds,
        "end-to-end request latency",
    ),
    (
        "request_streaming_iterations_count",
        Kind::Count,
        "streaming iterations per request",
    ),
    (
        "prompt_token_count",
        Kind::Count,
        "prompt tokens per request",
    ),
    (
        "output_token_count",
        Kind::Count,
        "output tokens per request",
    ),
    (
        "total_token_count",
        Kind::Count,
        "prompt plus output tokens per request",
    ),
    (
        "time_to_first_token_ms",
        Kind::Millis,
        "time to first token (TTFT)",
    ),
    (
        "time_per_output_token_ms",
        Kind::Millis,
        "time per output token (TPOT); GuideLLM >= 0.5 includes TTFT in it, 0.3/0.4 do not (see the tpot_includes_ttft label); token-weighted",
    ),
    (
        "inter_token_latency_ms",
        Kind::Millis,
        "inter-token latency (ITL), excludes the first token; token-weighted",
    ),
    (
        "prompt_tokens_per_second",
        Kind::PerSecond,
        "prompt tokens per second",
    ),
    (
        "output_tokens_per_second",
        Kind::PerSecond,
        "output tokens per second; token-weighted",
    ),
    (
        "tokens_per_second",
        Kind::PerSecond,
        "prompt plus output tokens per second",
    ),
    (
        "output_tokens_per_iteration",
        Kind::Count,
        "output tokens per streaming iteration",
    ),
    (
        "iter_tokens_per_iteration",
        Kind::Count,
        "tokens per streaming iteration",
    ),
    (
        "time_to_first_output_token_ms",
        Kind::Millis,
        "time to first output token, excluding reasoning (GuideLLM >= 0.7)",
    ),
    (
        "time_to_last_round_trip_ms",
        Kind::Millis,
        "time to the last round trip (GuideLLM >= 0.7)",
    ),
    (
        "avg_round_trip_time_ms",
        Kind::Millis,
        "average round-trip time (GuideLLM >= 0.7)",
    ),
    (
        "request_dispatch_delay",
        Kind::Seconds,
        "delay between targeted and actual dispatch (GuideLLM >= 0.7)",
    ),
    (
        "request_scheduled_latency",
        Kind::Seconds,
        "latency from scheduling to completion (GuideLLM >= 0.7)",
    ),
    (
        "turn_predecessor_delay",
        Kind::Seconds,
        "delay after the preceding turn completed (GuideLLM >= 0.7)",
    ),
    (
        "turn_scheduling_delay",
        Kind::Seconds,
        "scheduling delay of a conversation turn (GuideLLM >= 0.7)",
    ),
    (
        "root_dispatch_delay",
        Kind::Seconds,
        "dispatch delay of conversation roots (GuideLLM >= 0.7; one distribution, archived as .total)",
    ),
    (
        "generation_delay",
        Kind::Seconds,
        "request data generation delay, from scheduler_metrics (GuideLLM >= 0.7; archived as .total)",
    ),
];

const MODALITIES: [(&str, &[&str]); 5] = [
    ("text", &["tokens", "words", "characters"]),
    ("image", &["tokens", "images", "pixels", "bytes"]),
    ("video", &["tokens", "frames", "seconds", "bytes"]),
    ("audio", &["tokens", "samples", "seconds", "bytes"]),
    ("tool_call", &["count", "tokens", "mixed_tokens"]),
];
const MODALITY_PARTS: [&str; 9] = [
    "input",
    "input_per_second",
    "input_concurrency",
    "output",
    "output_per_second",
    "output_concurrency",
    "total",
    "total_per_second",
    "total_concurrency",
];

/// A distribution family: its dotted name (= JSON path under `metrics`), cluster, kind, help.
#[derive(Clone, Debug)]
pub struct Family {
    pub name: String,
    pub cluster: u32,
    pub kind: Kind,
    pub help: String,
}

/// Every distribution family, in PMID order.
pub fn families() -> Vec<Family> {
    let mut out = Vec::new();
    let mut cluster = 10;
    for (name, kind, help) in BASE {
        out.push(Family {
            name: name.to_string(),
            cluster,
            kind,
            help: help.to_string(),
        });
        cluster += 1;
    }
    for (modality, measures) in MODALITIES {
        for measure in measures.iter() {
            for part in MODALITY_PARTS {
                let kind = if part.ends_with("_per_second") {
                    Kind::PerSecond
                } else if part.ends_with("_concurrency") {
                    Kind::Level
                } else if *measure == "seconds" {
                    Kind::Seconds
                } else {
                    Kind::Count
                };
                out.push(Family {
                    name: format!("{modality}.{measure}.{part}"),
                    cluster,
                    kind,
                    help: format!("{modality} {measure}, {}", part.replace('_', " ")),
                });
                cluster += 1;
            }
        }
    }
    out
}

/// The metric for `(family, status, stat)`.
pub fn family_metric(f: &Family, status: usize, stat: usize) -> MetricDef {
    let mut m = summary_metric(f, status, stat);
    m.help = format!("{}, per benchmark", m.help);
    m
}

/// The metric for `(family, status, stat)` of one conversation turn (GuideLLM 0.7+ `turns`).
pub fn turn_family_metric(f: &Family, status: usize, stat: usize) -> MetricDef {
    let mut m = summary_metric(f, status, stat);
    m.pmid = pmid(f.cluster + TURN_CLUSTER_OFFSET, stat_item(status, stat));
    m.name = m.name.replacen("guidellm.", "guidellm.turns.", 1);
    m.indom = turn_indom();
    m.help = format!("{}, per benchmark and conversation turn", m.help);
    m
}

fn summary_metric(f: &Family, status: usize, stat: usize) -> MetricDef {
    let st = &STATS[stat];
    let (ty, units) = match stat {
        STAT_COUNT => (Type::U64, Units::COUNT),
        STAT_VARIANCE => (Type::Double, Units::NONE),
        _ => (Type::Double, f.kind.units()),
    };
    MetricDef {
        pmid: pmid(f.cluster, stat_item(status, stat)),
        name: format!("guidellm.{}.{}.{}", f.name, STATUSES[status], st.leaf),
        ty,
        sem: Semantics::Discrete,
        units,
        indom: indom(),
        help: format!(
            "GuideLLM {} {} ({} requests)",
            st.what, f.help, STATUSES[status]
        ),
    }
}

/// `guidellm.turns.request_totals.<status>`: requests of one conversation turn.
pub fn turn_totals_metric(status: usize) -> MetricDef {
    MetricDef {
        pmid: pmid(3, status as u32),
        name: format!("guidellm.turns.request_totals.{}", STATUSES[status]),
        ty: Type::U64,
        sem: Semantics::Discrete,
        units: Units::COUNT,
        indom: turn_indom(),
        help: format!(
            "GuideLLM {} requests of one conversation turn, per benchmark and turn",
            STATUSES[status]
        ),
    }
}

/// Cluster 4: one GuideLLM warning of a benchmark. (item, leaf, type, units, help)
pub const WARNING: [(u32, &str, Type, Units, &str); 4] = [
    (
        0,
        "observed",
        Type::Double,
        Units::NONE,
        "the value GuideLLM observed (its unit is the instance's unit label)",
    ),
    (
        1,
        "threshold",
        Type::Double,
        Units::NONE,
        "the threshold the observed value crossed (its unit is the instance's unit label)",
    ),
    (
        2,
        "sample_count",
        Type::U64,
        Units::COUNT,
        "samples the observed value is based on",
    ),
    (
        3,
        "message",
        Type::String,
        Units::NONE,
        "the warning's message",
    ),
];

pub fn warning_metric(i: usize) -> MetricDef {
    let (item, leaf, ty, units, help) = WARNING[i];
    MetricDef {
        pmid: pmid(4, item),
        name: format!("guidellm.warning.{leaf}"),
        ty,
        sem: Semantics::Discrete,
        units,
        indom: warning_indom(),
        help: format!("GuideLLM benchmark warning (0.7+): {help}"),
    }
}

fn percentile_words(p: &str) -> String {
    let digits = &p[1..];
    // p001 = 0.1th, p01 = 1st, p05 = 5th, p999 = 99.9th
    let v: f64 = match digits {
        "001" => 0.1,
        "999" => 99.9,
        d => d.parse().unwrap_or(0.0),
    };
    format!("{v}th")
}

/// Cluster 0: per-benchmark facts. (item, leaf name, type, units, help)
pub const BENCH: [(u32, &str, Type, Units, &str); 20] = [
    (
        0,
        "duration",
        Type::Double,
        Units::SEC,
        "measured duration of the benchmark",
    ),
    (
        1,
        "run_id",
        Type::String,
        Units::NONE,
        "GuideLLM run id (shared by the benchmarks of one run)",
    ),
    (
        2,
        "start_time",
        Type::Double,
        Units::SEC,
        "benchmark start, Unix epoch seconds",
    ),
    (
        3,
        "end_time",
        Type::Double,
        Units::SEC,
        "benchmark end, Unix epoch seconds",
    ),
    (
        4,
        "warmup_duration",
        Type::Double,
        Units::SEC,
        "warm-up duration",
    ),
    (
        5,
        "cooldown_duration",
        Type::Double,
        Units::SEC,
        "cool-down duration",
    ),
    (
        6,
        "run_index",
        Type::U64,
        Units::COUNT,
        "index of the benchmark within its run",
    ),
    (
        7,
        "strategy.type",
        Type::String,
        Units::NONE,
        "load strategy (synchronous, concurrent, throughput, constant, poisson, async)",
    ),
    (
        8,
        "strategy.streams",
        Type::Double,
        Units::COUNT,
        "target concurrency (concurrent strategy)",
    ),
    (
        9,
        "strategy.rate",
        Type::Double,
        Units::COUNT_PER_SEC,
        "target request rate (constant, poisson, async strategies)",
    ),
    (
        10,
        "strategy.max_concurrency",
        Type::Double,
        Units::COUNT,
        "maximum concurrency of the strategy",
    ),
    (
        11,
        "request_totals.successful",
        Type::U64,
        Units::COUNT,
        "successful requests reported by GuideLLM",
    ),
    (
        12,
        "request_totals.errored",
        Type::U64,
        Units::COUNT,
        "errored requests reported by GuideLLM",
    ),
    (
        13,
        "request_totals.incomplete",
        Type::U64,
        Units::COUNT,
        "incomplete (cancelled) requests reported by GuideLLM",
    ),
    (
        14,
        "request_totals.total",
        Type::U64,
        Units::COUNT,
        "all requests reported by GuideLLM",
    ),
    (15, "id", Type::String, Units::NONE, "GuideLLM benchmark id"),
    (
        16,
        "records",
        Type::U64,
        Units::COUNT,
        "per-request records in the file (all statuses; may be a sample)",
    ),
    (
        17,
        "warnings",
        Type::U64,
        Units::COUNT,
        "warnings attached to the benchmark (0.7+; each is an instance of guidellm.warning.*)",
    ),
    (
        18,
        "slo_determined_requests",
        Type::U64,
        Units::COUNT,
        "requests whose SLO attainment could be determined (0.7+)",
    ),
    (
        19,
        "dataset_incomplete",
        Type::U64,
        Units::NONE,
        "1 if the trace dataset was not fully loaded during the benchmark, else 0 (0.7+ scheduler_metrics)",
    ),
];

/// Cluster 1: `guidellm.run_stats.*`. Items 0-3 are `requests_made.<status>`; then these.
pub const RUN_STATS_AVG: [&str; 18] = [
    // GuideLLM 0.3 run_stats (upstream guidellm2pcp's names)
    "queued_time_avg",
    "scheduled_time_delay_avg",
    "scheduled_time_sleep_avg",
    "worker_start_delay_avg",
    "worker_time_avg",
    "worker_start_time_targeted_delay_avg",
    "request_start_time_delay_avg",
    "request_start_time_targeted_delay_avg",
    "request_time_delay_avg",
    "request_time_avg",
    // GuideLLM 0.4+ scheduler_metrics
    "resolve_start_delay_avg",
    "resolve_targeted_start_delay_avg",
    "request_start_delay_avg",
    "request_targeted_start_delay_avg",
    "resolve_end_delay_avg",
    "resolve_time_avg",
    "finalized_delay_avg",
    "processed_delay_avg",
];

pub fn bench_metric(i: usize) -> MetricDef {
    let (item, leaf, ty, units, help) = BENCH[i];
    MetricDef {
        pmid: pmid(0, item),
        name: format!("guidellm.{leaf}"),
        ty,
        sem: Semantics::Discrete,
        units,
        indom: indom(),
        help: format!("GuideLLM {help}"),
    }
}

pub fn requests_made_metric(status: usize) -> MetricDef {
    MetricDef {
        pmid: pmid(1, status as u32),
        name: format!("guidellm.run_stats.requests_made.{}", STATUSES[status]),
        ty: Type::U64,
        sem: Semantics::Discrete,
        units: Units::COUNT,
        indom: indom(),
        help: format!(
            "GuideLLM scheduler: {} requests made (run_stats / scheduler_metrics.requests_made)",
            STATUSES[status]
        ),
    }
}

pub fn run_stat_metric(i: usize) -> MetricDef {
    MetricDef {
        pmid: pmid(1, 4 + i as u32),
        name: format!("guidellm.run_stats.{}", RUN_STATS_AVG[i]),
        ty: Type::Double,
        sem: Semantics::Discrete,
        units: Units::SEC,
        indom: indom(),
        help: format!(
            "GuideLLM scheduler average {} (0.3 run_stats, 0.4+ scheduler_metrics)",
            RUN_STATS_AVG[i].trim_end_matches("_avg").replace('_', " ")
        ),
    }
}

/// Cluster 2: time series per interval. (item, leaf, units, help)
pub const INTERVAL: [(u32, &str, Units, &str); 19] = [
    (
        0,
        "requests.started",
        Units::COUNT,
        "requests started in the interval",
    ),
    (
        1,
        "requests.completed",
        Units::COUNT,
        "successful requests that ended in the interval",
    ),
    (
        2,
        "requests.errored",
        Units::COUNT,
        "errored requests that ended in the interval",
    ),
    (
        3,
        "requests.incomplete",
        Units::COUNT,
        "incomplete (cancelled) requests that ended in the interval",
    ),
    (
        4,
        "requests.in_flight",
        Units::COUNT,
        "requests in flight at the end of the interval",
    ),
    (
        5,
        "tokens.prompt",
        Units::COUNT,
        "prompt tokens of the requests that ended in the interval",
    ),
    (
        6,
        "tokens.output",
        Units::COUNT,
        "output tokens of the requests that ended in the interval",
    ),
    (
        7,
        "time_to_first_token.mean",
        Units::MSEC,
        "mean TTFT of the successful requests that ended in the interval",
    ),
    (
        8,
        "time_to_first_token.max",
        Units::MSEC,
        "max TTFT of the successful requests that ended in the interval",
    ),
    (
        9,
        "time_to_first_token.p50",
        Units::MSEC,
        "median TTFT of the successful requests that ended in the interval",
    ),
    (
        10,
        "time_to_first_token.p95",
        Units::MSEC,
        "95th percentile TTFT of the successful requests that ended in the interval",
    ),
    (
        11,
        "inter_token_latency.mean",
        Units::MSEC,
        "mean ITL of the successful requests that ended in the interval",
    ),
    (
        12,
        "inter_token_latency.max",
        Units::MSEC,
        "max ITL of the successful requests that ended in the interval",
    ),
    (
        13,
        "inter_token_latency.p50",
        Units::MSEC,
        "median ITL of the successful requests that ended in the interval",
    ),
    (
        14,
        "inter_token_latency.p95",
        Units::MSEC,
        "95th percentile ITL of the successful requests that ended in the interval",
    ),
    (
        15,
        "request_latency.mean",
        Units::SEC,
        "mean latency of the successful requests that ended in the interval",
    ),
    (
        16,
        "request_latency.max",
        Units::SEC,
        "max latency of the successful requests that ended in the interval",
    ),
    (
        17,
        "request_latency.p50",
        Units::SEC,
        "median latency of the successful requests that ended in the interval",
    ),
    (
        18,
        "request_latency.p95",
        Units::SEC,
        "95th percentile latency of the successful requests that ended in the interval",
    ),
];

pub fn interval_metric(i: usize) -> MetricDef {
    let (item, leaf, units, help) = INTERVAL[i];
    MetricDef {
        pmid: pmid(2, item),
        name: format!("guidellm.interval.{leaf}"),
        ty: if i <= 6 { Type::U64 } else { Type::Double },
        sem: Semantics::Instant,
        units,
        indom: indom(),
        help: format!("GuideLLM per-interval: {help} (from the per-request records)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn pmids_and_names_unique() {
        let mut pmids = HashSet::new();
        let mut names = HashSet::new();
        let mut all = Vec::new();
        for f in families() {
            for s in 0..4 {
                for st in 0..STATS.len() {
                    all.push(family_metric(&f, s, st));
                    all.push(turn_family_metric(&f, s, st));
                }
            }
        }
        all.extend((0..4).map(turn_totals_metric));
        all.extend((0..WARNING.len()).map(warning_metric));
        all.extend((0..BENCH.len()).map(bench_metric));
        all.extend((0..4).map(requests_made_metric));
        all.extend((0..RUN_STATS_AVG.len()).map(run_stat_metric));
        all.extend((0..INTERVAL.len()).map(interval_metric));
        for m in &all {
            assert!(pmids.insert(m.pmid), "dup pmid {}", m.name);
            assert!(names.insert(m.name.clone()), "dup name {}", m.name);
        }
        assert!(names.contains("guidellm.time_to_first_token_ms.total.mean"));
        assert!(names.contains("guidellm.run_stats.request_time_avg"));
        assert!(names.contains("guidellm.duration"));
        assert!(names.contains("guidellm.turns.inter_token_latency_ms.successful.p99"));
        assert!(names.contains("guidellm.request_latency.total.p90_ci.upper"));
        assert!(families().last().unwrap().cluster < TURN_CLUSTER_OFFSET);
        // the PMIDs of the first releases did not move
        let f = &families()[7];
        assert_eq!(f.name, "time_to_first_token_ms");
        assert_eq!(family_metric(f, 3, 15).pmid, pmid(17, 3 * 32 + 15));
        assert_eq!(STATS[15].leaf, "p75");
        // the largest item still fits PCP's 10 bits
        assert!(stat_item(3, STATS.len() - 1) < 1024);
    }

    #[test]
    fn sub_instance_ids() {
        assert_eq!(sub_instance_id(2003, 1), Some(2_003_001));
        assert_eq!(sub_instance_id(0, 999), Some(999));
        assert_eq!(sub_instance_id(0, 1000), None);
        assert_eq!(sub_instance_id(2_147_483, 648), None);
    }
}
