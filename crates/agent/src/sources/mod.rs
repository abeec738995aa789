//! Data sources. Each source samples on its own schedule, off the PCP thread, and hands the
//! agent an immutable [`Snapshot`]; the PCP thread only ever reads the latest snapshot of each
//! source, so a slow or hung source never delays a fetch.
//!
//! A source implements [`Source`]: a name (its instance in `llm.agent.source.*`), an interval,
//! and `sample()`, which may block (NVML, perf, files) because it runs on the source's own
//! thread. A source that only waits on sockets (a Prometheus endpoint) implements
//! [`AsyncSource`] instead and runs as a task on the I/O thread all such sources share.

pub mod discovery;
pub mod gpu;
pub mod gpu_config;
pub mod membw;
pub mod openmetrics;
pub mod progress;
pub mod scheduler;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A metric value. The variant must match the catalogue's declared type (checked when the
/// snapshot is applied: a mismatch is logged once and the value dropped).
pub use pcp::Value;

/// Identifies a catalogued metric inside a snapshot: its cluster and item (the domain is the
/// agent's). Use the constants from the source's catalogue file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricId {
    pub cluster: u32,
    pub item: u32,
}

impl MetricId {
    pub const fn new(cluster: u32, item: u32) -> Self {
        MetricId { cluster, item }
    }
}

/// Instance id for singular metrics (PCP's `PM_IN_NULL`).
pub const SINGULAR: u32 = pcp::pmda::IN_NULL;

/// One instance of an instance domain, as a source reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// Instance id: stable across agent restarts for the same `name` (see [`stable_instance_id`]
    /// for sources without a natural number).
    pub id: u32,
    /// External instance name: stable, unique within the indom, no leading/trailing spaces.
    pub name: String,
    /// PCP instance labels (name, value), e.g. `("uuid", "GPU-...")`.
    pub labels: Vec<(String, String)>,
}

/// The instances a source currently contributes to one instance domain. Several sources may
/// contribute to the same indom (one vLLM endpoint each); each replaces only its own.
#[derive(Clone, Debug, PartialEq)]
pub struct IndomInstances {
    /// Serial of the catalogue's [`crate::catalogue::Indom`].
    pub indom_serial: u32,
    pub instances: Vec<Instance>,
}

/// Everything a source knows after one sample. It replaces the source's previous snapshot as a
/// whole: values and instances it no longer reports disappear.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub values: Vec<(MetricId, u32, Value)>,
    pub indoms: Vec<IndomInstances>,
    /// Metrics the catalogue does not know (a newer vLLM's families), described by the source.
    /// The agent adds each new name under `llm.other` once, and remembers it across restarts.
    pub dynamic_metrics: Vec<DynamicMetric>,
    /// Values of dynamic metrics, by full metric name.
    pub dynamic_values: Vec<(String, u32, Value)>,
    /// Series refused because a name, label or instance name was longer than the source's
    /// bounds (counted in `llm.agent.source.refused_series`).
    pub refused_series: u64,
    /// Lines for the agent's log about this sample (the agent rate-limits them).
    pub notes: Vec<String>,
    /// The source's instances are those of its previous snapshot (`indoms` is then empty):
    /// a source whose instance set rarely changes need not rebuild it every sample.
    pub instances_unchanged: bool,
    /// The discovery source's answer: the endpoints that exist now (the agent starts, keeps or
    /// stops one endpoint source each). Every other source leaves it `None`.
    pub discovered: Option<Vec<discovery::Endpoint>>,
}

/// Description of a metric found at run time (see [`crate::catalogue::DYNAMIC_ROOT`]).
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicMetric {
    /// Full name under `llm.other.` (use [`crate::catalogue::dynamic_name`]).
    pub name: String,
    pub ty: crate::catalogue::Type,
    pub sem: crate::catalogue::Semantics,
    pub units: pcp::Units,
    /// Serial of a catalogued instance domain, or None for a singular metric.
    pub indom_serial: Option<u32>,
    pub oneline: String,
    pub help: String,
}

impl Snapshot {
    pub fn put(&mut self, metric: MetricId, inst: u32, value: Value) {
        self.values.push((metric, inst, value));
    }
    pub fn put_singular(&mut self, metric: MetricId, value: Value) {
        self.values.push((metric, SINGULAR, value));
    }
}

/// Why a sample failed. The text goes to `llm.agent.source.last_error` and the log, so it must
/// say what failed and why in one line ("http://127.0.0.1:8000/metrics: connection refused").
#[derive(Clone, Debug, PartialEq)]
pub struct SourceError(pub String);

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for SourceError {
    fn from(e: E) -> Self {
        SourceError(e.to_string())
    }
}

/// A data source. `sample` runs on the source's own thread and may block, but should bound its
/// own time (HTTP timeouts); the scheduler never runs two samples of one source at once.
pub trait Source: Send + 'static {
    /// Instance name in the sources indom (`gpu`, the endpoint's configured name, ...).
    fn name(&self) -> &str;
    /// Bounds on what this source may make the agent keep (dynamic names).
    fn limits(&self) -> crate::config::Limits {
        crate::config::Limits::default()
    }
    /// How often to sample.
    fn interval(&self) -> Duration;
    /// Take one sample. On `Err` the source's previous values are withdrawn (a fetch returns no
    /// values rather than stale ones) and the error is reported in `llm.agent.source.*`.
    fn sample(&mut self) -> Result<Snapshot, SourceError>;
}

/// One sample of an [`AsyncSource`], to be awaited on the I/O thread.
pub type SampleFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Snapshot, SourceError>> + Send + 'a>>;

/// A source whose sample waits only on sockets and timers: it runs as a task on the agent's
/// one I/O thread ([`scheduler::io_runtime`]) with every other such source, not on a thread of
/// its own. Sixteen endpoints then wake one thread once a second instead of sixteen threads
/// twice each (for the timer and for the answer), which is most of what an endpoint costs
/// (`bench/footprint.sh`). `sample` must never block: it awaits its I/O, and its CPU work
/// (mapping a body whose size is bounded) holds the other tasks for that long only.
pub trait AsyncSource: Send + 'static {
    /// As [`Source::name`].
    fn name(&self) -> &str;
    /// As [`Source::limits`].
    fn limits(&self) -> crate::config::Limits {
        crate::config::Limits::default()
    }
    /// As [`Source::interval`]; tasks of one interval sample on the same ticks.
    fn interval(&self) -> Duration;
    /// Take one sample, as [`Source::sample`]; it should bound its own time (HTTP timeouts).
    fn sample(&mut self) -> SampleFuture<'_>;
}

/// A stable 30-bit instance id derived from an instance name (FNV-1a), for instance domains
/// without a natural number. Identical names give identical ids in every run.
pub fn stable_instance_id(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h & 0x3fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn stable_ids_are_deterministic_and_distinct() {
        assert_eq!(stable_instance_id("vllm0/0"), stable_instance_id("vllm0/0"));
        assert_ne!(stable_instance_id("vllm0/0"), stable_instance_id("vllm0/1"));
        assert!(stable_instance_id("x") < 1 << 30);
    }
}
