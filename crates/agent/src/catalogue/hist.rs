//! Shared declarations for Prometheus histograms: every histogram family becomes six metrics
//! (`.sum`, `.count`, `.bucket`, `.p50`, `.p90`, `.p99`) built by the [`histogram!`] macro, and
//! a [`HistFamily`] entry the scraper uses to route the family's samples.

use super::Indom;

/// Item offsets of the six metrics of a histogram, from its base item.
pub const SUM: u32 = 0;
pub const COUNT: u32 = 1;
pub const BUCKET: u32 = 2;
pub const P50: u32 = 3;
pub const P90: u32 = 4;
pub const P99: u32 = 5;
/// Items reserved per histogram within a cluster.
pub const STRIDE: u32 = 8;
/// The quantiles computed per interval, with their item offsets.
pub const QUANTILES: [(f64, u32); 3] = [(0.5, P50), (0.9, P90), (0.99, P99)];

/// Routes one Prometheus histogram family to its metrics.
#[derive(Debug)]
pub struct HistFamily {
    /// Family name as in `# TYPE` (samples are `<prom>_bucket/_sum/_count`).
    pub prom: &'static str,
    /// Older names of the same family, routed alike.
    pub also: &'static [&'static str],
    /// Labels that, after the endpoint name, name the instance (`vllm0/0`).
    pub keys: &'static [&'static str],
    pub cluster: u32,
    /// Item of `.sum`; the others follow (see the offsets above).
    pub base: u32,
    /// Instance domain of the non-bucket metrics (one instance per endpoint x engine/worker).
    pub indom: &'static Indom,
    /// Instance domain of `.bucket` (one instance per endpoint x engine x `le` bound).
    pub bucket_indom: &'static Indom,
}

/// Six [`super::Metric`]s for a histogram, as an array expression:
/// `histogram!(name, prom family, cluster, base item, indom, bucket indom, unit kind, what)`,
/// unit kind `seconds` or `count`.
#[macro_export]
macro_rules! histogram {
    ($name:literal, $prom:literal, $cluster:expr, $base:expr, $indom:expr, $bindom:expr, seconds, $what:literal) => {
        $crate::histogram!(@six $name, $prom, $cluster, $base, $indom, $bindom, $crate::catalogue::Units::SEC, "seconds", $what)
    };
    ($name:literal, $prom:literal, $cluster:expr, $base:expr, $indom:expr, $bindom:expr, count, $what:literal) => {
        $crate::histogram!(@six $name, $prom, $cluster, $base, $indom, $bindom, $crate::catalogue::Units::COUNT, "a count", $what)
    };
    (@six $name:literal, $prom:literal, $cluster:expr, $base:expr, $indom:expr, $bindom:expr, $units:expr, $unitword:literal, $what:literal) => {
        [
            $crate::catalogue::Metric {
                name: concat!($name, ".sum"),
                cluster: $cluster,
                item: $base + $crate::catalogue::hist::SUM,
                ty: $crate::catalogue::Type::Double,
                sem: $crate::catalogue::Semantics::Counter,
                units: $units,
                indom: Some($indom),
                oneline: concat!("sum of ", $what),
                help: concat!("Sum of all observed values of ", $what, " (", $unitword, "), from the Prometheus histogram ", $prom, "_sum. A counter: rate-convert it and divide by the rate of .count for the mean over an interval."),
            },
            $crate::catalogue::Metric {
                name: concat!($name, ".count"),
                cluster: $cluster,
                item: $base + $crate::catalogue::hist::COUNT,
                ty: $crate::catalogue::Type::U64,
                sem: $crate::catalogue::Semantics::Counter,
                units: $crate::catalogue::Units::COUNT,
                indom: Some($indom),
                oneline: concat!("number of observations of ", $what),
                help: concat!("Number of observations of ", $what, ", from the Prometheus histogram ", $prom, "_count."),
            },
            $crate::catalogue::Metric {
                name: concat!($name, ".bucket"),
                cluster: $cluster,
                item: $base + $crate::catalogue::hist::BUCKET,
                ty: $crate::catalogue::Type::U64,
                sem: $crate::catalogue::Semantics::Counter,
                units: $crate::catalogue::Units::COUNT,
                indom: Some($bindom),
                oneline: concat!("cumulative histogram buckets of ", $what),
                help: concat!("Cumulative bucket counts of ", $what, " from the Prometheus histogram ", $prom, "_bucket: the instance for bound \"le=X\" counts the observations <= X (", $unitword, "); the instance label le holds the bound."),
            },
            $crate::catalogue::Metric {
                name: concat!($name, ".p50"),
                cluster: $cluster,
                item: $base + $crate::catalogue::hist::P50,
                ty: $crate::catalogue::Type::Double,
                sem: $crate::catalogue::Semantics::Instant,
                units: $units,
                indom: Some($indom),
                oneline: concat!("median of ", $what, " over the last scrape interval"),
                help: concat!("50th percentile of ", $what, " (", $unitword, ") among the observations made during the agent's last scrape interval, interpolated from the deltas of the Prometheus histogram ", $prom, "_bucket as histogram_quantile() does. No value when nothing was observed in the interval, on the first scrape, or after the server restarted."),
            },
            $crate::catalogue::Metric {
                name: concat!($name, ".p90"),
                cluster: $cluster,
                item: $base + $crate::catalogue::hist::P90,
                ty: $crate::catalogue::Type::Double,
                sem: $crate::catalogue::Semantics::Instant,
                units: $units,
                indom: Some($indom),
                oneline: concat!("90th percentile of ", $what, " over the last scrape interval"),
                help: concat!("90th percentile of ", $what, " (", $unitword, ") among the observations made during the agent's last scrape interval, interpolated from the deltas of the Prometheus histogram ", $prom, "_bucket. No value when nothing was observed in the interval, on the first scrape, or after the server restarted."),
            },
            $crate::catalogue::Metric {
                name: concat!($name, ".p99"),
                cluster: $cluster,
                item: $base + $crate::catalogue::hist::P99,
                ty: $crate::catalogue::Type::Double,
                sem: $crate::catalogue::Semantics::Instant,
                units: $units,
                indom: Some($indom),
                oneline: concat!("99th percentile of ", $what, " over the last scrape interval"),
                help: concat!("99th percentile of ", $what, " (", $unitword, ") among the observations made during the agent's last scrape interval, interpolated from the deltas of the Prometheus histogram ", $prom, "_bucket. No value when nothing was observed in the interval, on the first scrape, or after the server restarted."),
            },
        ]
    };
}

/// Declares a list of histograms: a `[[Metric; 6]]` constant for the catalogue and a
/// `[HistFamily]` constant for the scraper, from one table:
/// `histograms!(METRICS, FAMILIES, cluster, &INDOM, &BUCKET_INDOM, KEYS, [rows])`, a row
/// `(n, "llm.x.name", "family" | "older_name", seconds or count, "what")`.
#[macro_export]
macro_rules! histograms {
    ($metrics:ident, $families:ident, $cluster:expr, $indom:expr, $bindom:expr, $keys:expr, [$(($n:expr, $name:literal, $prom:literal $(| $also:literal)*, $kind:ident, $what:literal)),* $(,)?]) => {
        const $metrics: &[[$crate::catalogue::Metric; 6]] = &[
            $($crate::histogram!($name, $prom, $cluster, $n * $crate::catalogue::hist::STRIDE, $indom, $bindom, $kind, $what)),*
        ];
        pub static $families: &[$crate::catalogue::hist::HistFamily] = &[
            $($crate::catalogue::hist::HistFamily {
                prom: $prom,
                also: &[$($also),*],
                keys: $keys,
                cluster: $cluster,
                base: $n * $crate::catalogue::hist::STRIDE,
                indom: $indom,
                bucket_indom: $bindom,
            }),*
        ];
    };
}
