//! What is compared: the quantities of the reports, one step (benchmark) per load point of
//! each input, and the matching of the steps of every OTHER input with BASELINE's.

use guidellm::catalogue::{self as cat, Family};
use guidellm::model::Benchmark;

/// Where a quantity's value comes from in a benchmark.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// `metrics.<family>.successful.<stat>`, with the leaves of its confidence interval.
    Dist {
        family: &'static str,
        stat: &'static str,
        ci: Option<(&'static str, &'static str)>,
    },
    /// `request_totals.<status>` (index into [`cat::STATUSES`]).
    Total(usize),
    /// Node metrics of a merged archive over the step's time window.
    System(System),
}

/// How a system quantity is computed from the node metrics recorded inside a step's window.
#[derive(Clone, Copy, Debug)]
pub struct System {
    /// The agent's metrics (values of several are added).
    pub metrics: &'static [&'static str],
    pub agg: Agg,
    /// Multiplies the metric's value (its units to the quantity's).
    pub scale: f64,
}

/// Aggregation over the instances of one record, then over the records in the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    /// Mean over instances, then mean over records.
    MeanOfMeans,
    /// Sum over instances, then mean over records.
    MeanOfSums,
    /// Sum over instances, then maximum over records.
    MaxOfSums,
    /// Maximum over everything.
    Max,
    /// Counter: per instance, last minus first value inside the window; summed.
    Increase,
    /// Counter: per instance, its increase over the span of its samples in the window (a
    /// mean rate per second); summed.
    MeanRate,
    /// Energy counter: its increase, per instance, scaled from the span of its samples to
    /// the whole window, summed, divided by the step's output tokens (all requests).
    PerOutputToken,
}

/// One quantity of the comparison tables.
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    /// Stable key (JSON and CSV output).
    pub id: &'static str,
    /// Heading of the text block.
    pub label: &'static str,
    pub unit: &'static str,
    /// Decimals shown in text, markdown and CSV.
    pub decimals: usize,
    pub source: Source,
}

/// The quantities, in the order of the reports: GuideLLM's, then the system behind each step.
pub const QUANTITIES: [Quantity; 19] = [
    Quantity {
        id: "requests_per_second",
        label: "Requests/s (successful, mean)",
        unit: "req/s",
        decimals: 3,
        source: Source::Dist {
            family: "requests_per_second",
            stat: "mean",
            ci: Some(("mean_ci.lower", "mean_ci.upper")),
        },
    },
    Quantity {
        id: "output_tokens_per_second",
        label: "Output tokens/s (successful, mean)",
        unit: "tok/s",
        decimals: 2,
        source: Source::Dist {
            family: "output_tokens_per_second",
            stat: "mean",
            ci: Some(("mean_ci.lower", "mean_ci.upper")),
        },
    },
    Quantity {
        id: "request_latency_median",
        label: "Request latency median (s)",
        unit: "s",
        decimals: 4,
        source: Source::Dist {
            family: "request_latency",
            stat: "median",
            ci: Some(("p50_ci.lower", "p50_ci.upper")),
        },
    },
    Quantity {
        id: "request_latency_p95",
        label: "Request latency p95 (s)",
        unit: "s",
        decimals: 4,
        source: Source::Dist {
            family: "request_latency",
            stat: "p95",
            ci: Some(("p95_ci.lower", "p95_ci.upper")),
        },
    },
    Quantity {
        id: "ttft_median",
        label: "TTFT median (ms)",
        unit: "ms",
        decimals: 2,
        source: Source::Dist {
            family: "time_to_first_token_ms",
            stat: "median",
            ci: Some(("p50_ci.lower", "p50_ci.upper")),
        },
    },
    Quantity {
        id: "ttft_p95",
        label: "TTFT p95 (ms)",
        unit: "ms",
        decimals: 2,
        source: Source::Dist {
            family: "time_to_first_token_ms",
            stat: "p95",
            ci: Some(("p95_ci.lower", "p95_ci.upper")),
        },
    },
    Quantity {
        id: "itl_median",
        label: "ITL median (ms)",
        unit: "ms",
        decimals: 2,
        source: Source::Dist {
            family: "inter_token_latency_ms",
            stat: "median",
            ci: Some(("p50_ci.lower", "p50_ci.upper")),
        },
    },
    Quantity {
        id: "errored",
        label: "Errored requests",
        unit: "requests",
        decimals: 0,
        source: Source::Total(1),
    },
    Quantity {
        id: "incomplete",
        label: "Incomplete requests",
        unit: "requests",
        decimals: 0,
        source: Source::Total(2),
    },
    Quantity {
        id: "gpu_utilization_mean",
        label: "GPU utilisation mean (%)",
        unit: "%",
        decimals: 1,
        source: Source::System(System {
            metrics: &["llm.gpu.util.gpu"],
            agg: Agg::MeanOfMeans,
            scale: 1.0,
        }),
    },
    Quantity {
        id: "gpu_power_mean",
        label: "GPU power mean, all GPUs (W)",
        unit: "W",
        decimals: 1,
        source: Source::System(System {
            metrics: &["llm.gpu.power.usage"],
            agg: Agg::MeanOfSums,
            scale: 1e-3,
        }),
    },
    Quantity {
        id: "energy_per_output_token",
        label: "GPU energy per output token (J/token)",
        unit: "J/token",
        decimals: 4,
        source: Source::System(System {
            metrics: &["llm.gpu.energy"],
            agg: Agg::PerOutputToken,
            scale: 1e-3,
        }),
    },
    Quantity {
        id: "gpu_memory_used_peak",
        label: "GPU memory used peak, all GPUs (GiB)",
        unit: "GiB",
        decimals: 2,
        source: Source::System(System {
            metrics: &["llm.gpu.fb.used"],
            agg: Agg::MaxOfSums,
            scale: 1.0 / (1u64 << 30) as f64,
        }),
    },
    Quantity {
        id: "kv_cache_usage_peak",
        label: "KV-cache usage peak (%)",
        unit: "%",
        decimals: 1,
        source: Source::System(System {
            metrics: &["llm.vllm.kv_cache.usage"],
            agg: Agg::Max,
            scale: 100.0,
        }),
    },
    Quantity {
        id: "requests_waiting_peak",
        label: "Requests waiting peak",
        unit: "requests",
        decimals: 0,
        source: Source::System(System {
            metrics: &["llm.vllm.requests.waiting"],
            agg: Agg::MaxOfSums,
            scale: 1.0,
        }),
    },
    Quantity {
        id: "preemptions",
        label: "Preemptions",
        unit: "count",
        decimals: 0,
        source: Source::System(System {
            metrics: &["llm.vllm.preemptions"],
            agg: Agg::Increase,
            scale: 1.0,
        }),
    },
    Quantity {
        id: "kv_offload_traffic",
        label: "KV offload traffic, loads + stores (MiB)",
        unit: "MiB",
        decimals: 2,
        source: Source::System(System {
            metrics: &[
                "llm.vllm.kv_offload.load_bytes",
                "llm.vllm.kv_offload.store_bytes",
            ],
            agg: Agg::Increase,
            scale: 1.0 / (1u64 << 20) as f64,
        }),
    },
    Quantity {
        id: "cpu_memory_bandwidth_mean",
        label: "CPU memory bandwidth mean, read + write (GB/s)",
        unit: "GB/s",
        decimals: 2,
        source: Source::System(System {
            metrics: &["llm.membw.read", "llm.membw.write"],
            agg: Agg::MeanRate,
            scale: 1e-9,
        }),
    },
    Quantity {
        id: "host_pcie_bandwidth_mean",
        label: "Host PCIe bandwidth mean, in + out (GB/s)",
        unit: "GB/s",
        decimals: 3,
        source: Source::System(System {
            metrics: &["llm.pcie.host.in", "llm.pcie.host.out"],
            agg: Agg::MeanRate,
            scale: 1e-9,
        }),
    },
];

impl Quantity {
    pub fn is_system(&self) -> bool {
        matches!(self.source, Source::System(_))
    }
}

pub const NQ: usize = QUANTITIES.len();

/// One benchmark of an input, reduced to what the tables show.
#[derive(Clone, Debug)]
pub struct Step {
    /// `concurrent@4`, `constant@29.40`, `synchronous`, ...
    pub strategy: String,
    pub kind: String,
    /// Nominal load: streams, rate, max concurrency; 1 for synchronous.
    pub load: Option<f64>,
    pub benchmark_id: String,
    /// Position of the benchmark in its file (`benchmarks[i]`).
    pub index: usize,
    pub values: [Option<f64>; NQ],
    /// Confidence interval (lower, upper) of each value, where GuideLLM gives one.
    pub ci: [Option<(f64, f64)>; NQ],
    /// Confidence level of `ci` (e.g. 0.95).
    pub confidence: Option<f64>,
    /// The benchmark's time window (Unix seconds).
    pub window: (f64, f64),
}

fn stat_index(leaf: &str) -> usize {
    cat::STATS
        .iter()
        .position(|s| s.leaf == leaf)
        .unwrap_or_else(|| panic!("no statistic {leaf} in the catalogue"))
}

/// A distribution quantity resolved to catalogue indexes.
struct Resolved {
    family: u16,
    stat: u8,
    /// (lower, upper) statistics of its confidence interval
    ci: Option<(u8, u8)>,
}

fn resolve(families: &[Family]) -> Vec<Option<Resolved>> {
    QUANTITIES
        .iter()
        .map(|q| match q.source {
            Source::Dist { family, stat, ci } => {
                let fi = families
                    .iter()
                    .position(|f| f.name == family)
                    .unwrap_or_else(|| panic!("no family {family} in the catalogue"));
                Some(Resolved {
                    family: fi as u16,
                    stat: stat_index(stat) as u8,
                    ci: ci.map(|(l, u)| (stat_index(l) as u8, stat_index(u) as u8)),
                })
            }
            Source::Total(_) | Source::System(_) => None,
        })
        .collect()
}

/// Nominal load of a strategy, for ordering the rows: streams, maximum concurrency or rate;
/// 1 for synchronous.
pub fn nominal_load(
    kind: &str,
    streams: Option<f64>,
    rate: Option<f64>,
    max_concurrency: Option<f64>,
) -> Option<f64> {
    match kind {
        "concurrent" => streams,
        "throughput" => max_concurrency,
        "constant" | "poisson" | "async" => rate,
        "synchronous" => Some(1.0),
        _ => None,
    }
}

/// Reduce interpreted benchmarks to steps.
pub fn steps(benches: &[Benchmark], families: &[Family]) -> Vec<Step> {
    let res = resolve(families);
    const SUCCESSFUL: u8 = 0;
    benches
        .iter()
        .map(|b| {
            let mut values = [None; NQ];
            let mut ci = [None; NQ];
            for (k, q) in QUANTITIES.iter().enumerate() {
                match (q.source, &res[k]) {
                    (Source::Total(st), _) => values[k] = b.totals[st].map(|v| v as f64),
                    (Source::Dist { .. }, Some(r)) => {
                        let get = |stat: u8| {
                            b.dists
                                .iter()
                                .find(|d| d.0 == r.family && d.1 == SUCCESSFUL && d.2 == stat)
                                .map(|d| d.3)
                        };
                        values[k] = get(r.stat);
                        if let Some((l, u)) = r.ci
                            && let (Some(l), Some(u)) = (get(l), get(u))
                        {
                            ci[k] = Some((l, u));
                        }
                    }
                    (Source::Dist { .. }, None) | (Source::System(_), _) => {}
                }
            }
            Step {
                strategy: b.strategy.clone(),
                kind: b.strategy_type.clone(),
                load: nominal_load(&b.strategy_type, b.streams, b.rate, b.max_concurrency),
                benchmark_id: b.id.clone(),
                index: b.index,
                values,
                ci,
                confidence: b.confidence,
                window: (b.start, b.end),
            }
        })
        .collect()
}

/// How an OTHER step was paired with a BASELINE step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// Same strategy and target (`concurrent@25` with `concurrent@25`).
    Strategy,
    /// Rate-based steps of a sweep whose rates differ: paired by position.
    Position,
}

impl MatchKind {
    pub fn name(self) -> &'static str {
        match self {
            MatchKind::Strategy => "strategy",
            MatchKind::Position => "position",
        }
    }
}

/// One row of the tables: a BASELINE step and, per OTHER, the step matched with it.
#[derive(Clone, Debug)]
pub struct Row {
    pub base: usize,
    pub others: Vec<Option<(usize, MatchKind)>>,
}

/// The matching of all inputs.
#[derive(Clone, Debug, Default)]
pub struct Matching {
    pub rows: Vec<Row>,
    /// (input index, step index, reason) of the steps in no row.
    pub unmatched: Vec<(usize, usize, String)>,
    pub warnings: Vec<String>,
}

fn is_rate(kind: &str) -> bool {
    matches!(kind, "constant" | "poisson" | "async")
}

/// Order of steps: by strategy kind (in order of first appearance), then nominal load.
fn ordered(steps: &[Step]) -> Vec<usize> {
    let mut kinds: Vec<&str> = Vec::new();
    for s in steps {
        if !kinds.contains(&s.kind.as_str()) {
            kinds.push(&s.kind);
        }
    }
    let mut idx: Vec<usize> = (0..steps.len()).collect();
    idx.sort_by(|&a, &b| {
        let ka = kinds.iter().position(|k| *k == steps[a].kind);
        let kb = kinds.iter().position(|k| *k == steps[b].kind);
        ka.cmp(&kb)
            .then(
                steps[a]
                    .load
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&steps[b].load.unwrap_or(f64::INFINITY)),
            )
            .then(a.cmp(&b))
    });
    idx
}

/// Match every OTHER input (1..) with BASELINE (input 0). `names` are the display names.
pub fn match_inputs(inputs: &[Vec<Step>], names: &[String]) -> Matching {
    let mut m = Matching::default();
    let base = &inputs[0];
    let others = inputs.len() - 1;
    // duplicates within an input: the first is used
    let mut usable: Vec<Vec<usize>> = Vec::new();
    for (ii, steps) in inputs.iter().enumerate() {
        let mut seen: Vec<&str> = Vec::new();
        let mut keep = Vec::new();
        for i in ordered(steps) {
            if seen.contains(&steps[i].strategy.as_str()) {
                m.unmatched.push((
                    ii,
                    i,
                    format!("repeats {} in the same input", steps[i].strategy),
                ));
            } else {
                seen.push(&steps[i].strategy);
                keep.push(i);
            }
        }
        usable.push(keep);
    }
    let mut rows: Vec<Row> = usable[0]
        .iter()
        .map(|&b| Row {
            base: b,
            others: vec![None; others],
        })
        .collect();
    let mut base_used = vec![false; base.len()];
    for oi in 1..inputs.len() {
        let other = &inputs[oi];
        let mut used = vec![false; other.len()];
        for row in rows.iter_mut() {
            let key = &base[row.base].strategy;
            if let Some(&j) = usable[oi].iter().find(|&&j| other[j].strategy == *key) {
                row.others[oi - 1] = Some((j, MatchKind::Strategy));
                used[j] = true;
                base_used[row.base] = true;
            }
        }
        // rate-based steps left over on both sides: a sweep, paired by position per kind
        let mut kinds: Vec<&str> = Vec::new();
        for &r in &usable[0] {
            if is_rate(&base[r].kind) && !kinds.contains(&base[r].kind.as_str()) {
                kinds.push(&base[r].kind);
            }
        }
        for kind in kinds {
            let free_rows: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.others[oi - 1].is_none() && base[r.base].kind == kind)
                .map(|(k, _)| k)
                .collect();
            let free_other: Vec<usize> = usable[oi]
                .iter()
                .copied()
                .filter(|&j| !used[j] && other[j].kind == kind)
                .collect();
            let n = free_rows.len().min(free_other.len());
            if n == 0 {
                continue;
            }
            let mut pairs = Vec::new();
            for (&k, &j) in free_rows.iter().zip(&free_other) {
                rows[k].others[oi - 1] = Some((j, MatchKind::Position));
                used[j] = true;
                base_used[rows[k].base] = true;
                pairs.push(format!(
                    "{} with {}",
                    base[rows[k].base].strategy, other[j].strategy
                ));
            }
            m.warnings.push(format!(
                "{}: {kind} rates differ from {}'s (a sweep?): matched by position: {}",
                names[oi],
                names[0],
                pairs.join(", ")
            ));
        }
        for &j in &usable[oi] {
            if !used[j] {
                m.unmatched
                    .push((oi, j, format!("no {} in {}", other[j].strategy, names[0])));
            }
        }
    }
    for &b in &usable[0] {
        if !base_used[b] {
            m.unmatched
                .push((0, b, format!("no {} in any other input", base[b].strategy)));
        }
    }
    // rows with no OTHER at all are not shown (they are listed as unmatched)
    rows.retain(|r| r.others.iter().any(Option::is_some));
    m.rows = rows;
    m
}

/// Difference and % change of `other` against `base`; % change is `None` when base is 0.
pub fn change(base: Option<f64>, other: Option<f64>) -> (Option<f64>, Option<f64>) {
    match (base, other) {
        (Some(b), Some(o)) => {
            let d = o - b;
            let pct = (b != 0.0).then(|| d / b * 100.0);
            (Some(d), pct.filter(|p| p.is_finite()))
        }
        _ => (None, None),
    }
}

/// Key findings of one OTHER: per quantity, mean % change over the matched rows, and the %
/// change at the lowest and highest load (the first and last row it has).
#[derive(Clone, Debug)]
pub struct Finding {
    pub mean_pct: Option<f64>,
    /// Number of rows averaged.
    pub n: usize,
    pub lowest: Option<(usize, Option<f64>)>,
    pub highest: Option<(usize, Option<f64>)>,
}

pub fn findings(inputs: &[Vec<Step>], m: &Matching, other: usize) -> Vec<Finding> {
    let rows: Vec<(usize, &Row)> = m
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.others[other - 1].is_some())
        .collect();
    (0..NQ)
        .map(|q| {
            let pct = |r: &Row| {
                let (j, _) = r.others[other - 1]?;
                change(inputs[0][r.base].values[q], inputs[other][j].values[q]).1
            };
            let all: Vec<f64> = rows.iter().filter_map(|(_, r)| pct(r)).collect();
            Finding {
                mean_pct: (!all.is_empty()).then(|| all.iter().sum::<f64>() / all.len() as f64),
                n: all.len(),
                lowest: rows.first().map(|(k, r)| (*k, pct(r))),
                highest: rows.last().map(|(k, r)| (*k, pct(r))),
            }
        })
        .collect()
}

/// Whether OTHER's value lies inside BASELINE's confidence interval of that quantity.
pub fn inside_ci(base: &Step, other: &Step, q: usize) -> Option<bool> {
    let (l, u) = base.ci[q]?;
    let v = other.values[q]?;
    Some(l <= v && v <= u)
}
