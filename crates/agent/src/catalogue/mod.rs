//! The metric catalogue: the single source of truth for every metric `pmdallm` exports.
//!
//! One file per source declares its metrics (`agent.rs`, `gpu.rs`, `vllm.rs`, ...). Every
//! declaration carries the PMID (cluster, item), type, semantics, units, instance domain and
//! help text. The PMDA's tables, the `pmda/pmns`, `pmda/help`, `pmda/domain.h`, pmlogconf
//! groups and the metric table of the man page are all generated from here (`generate.rs`); a
//! test regenerates them and fails when the committed copies drift.
//!
//! To find a metric's declaration from its name: `llm.<source>.…` lives in `<source>.rs`. A
//! metric scraped from a Prometheus endpoint is declared with the families it comes from
//! (`scraped!`, `histograms!`), so a grep of its PCP name or of its Prometheus name lands on
//! the same line; the scraper routes from these declarations alone.
//!
//! PMID clusters and instance-domain serials are allocated by source, so a PMID also says
//! where it is declared (a test checks that no two metrics share one):
//!
//! | file | names | clusters | indom serials |
//! |---|---|---|---|
//! | `agent.rs` | `llm.agent.*`, `llm.other.metrics` | 0–9 | 0–9 |
//! | `gpu.rs` | `llm.gpu.*` | 10–19 | 10–19 |
//! | `vllm.rs` | `llm.vllm.*` | 20–39 | 20–39 |
//! | `lmcache.rs` | `llm.lmcache.*` | 40–49 | 40–49 |
//! | `epp.rs` | `llm.epp.*` | 50–59 | 50–59 |
//! | `membw.rs` | `llm.membw.*`, `llm.pcie.host.*` | 60–69 | 60–69 |
//! | `bench.rs` | `llm.bench.*` | 70–79 | 70–79 |
//! | (run time) | `llm.other.*`, see [`DYNAMIC_ROOT`] | 3000–4095 | — |

/// A metric over an instance domain, in the catalogue files that declare many of them:
/// `indexed_metric!(name, cluster, item, Type, Semantics, units, &INDOM, oneline, help)`.
/// Defined before the modules below so that they can all use it.
macro_rules! indexed_metric {
    ($name:literal, $c:expr, $i:expr, $ty:ident, $sem:ident, $units:expr, $indom:expr, $one:literal, $help:literal) => {
        Metric {
            name: $name,
            cluster: $c,
            item: $i,
            ty: $ty,
            sem: $sem,
            units: $units,
            indom: Some($indom),
            oneline: $one,
            help: $help,
        }
    };
}

/// Metrics scraped from Prometheus endpoints, each declared with where it comes from, so that
/// the PCP name and the Prometheus family names are on one line:
///
/// ```text
/// scraped! {
///     METRICS, ROUTES, by DEFAULT_KEYS;
///     "llm.x.name" from ["x:family", "x:older_name"] [label "l"] [by KEYS],
///         cluster, item, Type, Semantics, units, &INDOM,
///         "oneline",
///         "help";
///     ...
/// }
/// ```
///
/// declares `const METRICS: &[Metric]` for the catalogue and `pub static ROUTES: &[Route]` for
/// the scraper (see [`Route`] for the families, `label` and `by`). A metric with `from []` is
/// fed by no family of its own (the `other.value` metric of an endpoint kind).
macro_rules! scraped {
    ($metrics:ident, $routes:ident, by $keys:expr; $(
        $name:literal from [$($family:literal),* $(,)?] $(label $label:literal)? $(by $k:expr)?,
        $c:expr, $i:expr, $ty:ident, $sem:ident, $units:expr, $indom:expr,
        $one:literal,
        $help:literal;
    )*) => {
        const $metrics: &[Metric] = &[
            $(indexed_metric!($name, $c, $i, $ty, $sem, $units, $indom, $one, $help)),*
        ];
        pub static $routes: &[$crate::catalogue::Route] = &[
            $($crate::catalogue::Route {
                cluster: $c,
                item: $i,
                families: &[$($family),*],
                keys: scraped!(@or $($k)?; $keys),
                from_label: scraped!(@opt $($label)?),
            }),*
        ];
    };
    (@or ; $default:expr) => { $default };
    (@or $k:expr; $default:expr) => { $k };
    (@opt) => { None };
    (@opt $label:literal) => { Some($label) };
}

pub mod agent;
pub mod bench;
pub mod epp;
pub mod generate;
pub mod gpu;
pub mod hist;
pub mod lmcache;
pub mod membw;
pub mod vllm;

pub use pcp::{Semantics, Type, Units};

/// Default PMDA domain number, from the end-user range (385-509); `Install` may override it.
pub const DOMAIN: u32 = 505;
/// Root of our namespace.
pub const ROOT: &str = "llm";

/// Subtree of metrics found at run time (families a newer vLLM exports that this catalogue
/// does not know). It is a dynamic PMNS subtree (`other LLM:*:*`): the agent answers its names,
/// and remembers them in `$PCP_VAR_DIR/config/pmda/llm.dynamic` so that they exist from the
/// first moment after a restart.
pub const DYNAMIC_ROOT: &str = "llm.other";
/// The one catalogued metric inside the dynamic subtree (so that it is never empty).
pub const DYNAMIC_COUNT: &str = "llm.other.metrics";
/// Clusters for dynamic metrics; catalogued sources use clusters below this.
pub const DYNAMIC_FIRST_CLUSTER: u32 = 3000;
/// At most this many dynamic metrics (a guard against an endpoint inventing names).
pub const DYNAMIC_MAX: usize = 20_000;

/// The PCP name for a metric found at run time: `llm.other.<kind>.<name>`, with the name lower
/// cased, `:` as `.`, and anything but letters, digits and `_` as `_`
/// (`vllm:new_thing_total` from a vLLM endpoint is `llm.other.vllm.vllm.new_thing_total`).
pub fn dynamic_name(kind: &str, prometheus_name: &str) -> String {
    let clean = |s: &str| -> String {
        let mut out: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
            out.insert(0, '_');
        }
        out
    };
    let parts: Vec<String> = prometheus_name
        .split(':')
        .filter(|p| !p.is_empty())
        .map(clean)
        .collect();
    format!("{DYNAMIC_ROOT}.{}.{}", clean(kind), parts.join("."))
}

/// An instance domain: its serial number within our domain and its help text.
#[derive(Debug)]
pub struct Indom {
    pub serial: u32,
    /// Short symbolic name, used in generated files (`LLM_INDOM_<NAME>`).
    pub name: &'static str,
    pub oneline: &'static str,
    pub help: &'static str,
}

/// One metric.
#[derive(Debug)]
pub struct Metric {
    /// Full name, starting with `llm.`.
    pub name: &'static str,
    pub cluster: u32,
    pub item: u32,
    pub ty: Type,
    pub sem: Semantics,
    pub units: Units,
    pub indom: Option<&'static Indom>,
    pub oneline: &'static str,
    pub help: &'static str,
}

impl Metric {
    /// PMID without the domain, as `PMDA_PMID(cluster, item)` builds it.
    pub const fn local_pmid(&self) -> u32 {
        pcp::pmid(0, self.cluster, self.item)
    }
}

/// Where the values of a scraped metric come from (declared with the metric by `scraped!`).
#[derive(Debug)]
pub struct Route {
    /// The metric, as in its declaration.
    pub cluster: u32,
    pub item: u32,
    /// The Prometheus families, current name first, then older spellings, as in `# TYPE`
    /// (for counters the sample name may add `_total`: both spellings are matched).
    pub families: &'static [&'static str],
    /// Labels that, after the endpoint name, name the instance (`vllm0/0/stop`).
    pub keys: &'static [&'static str],
    /// Take the value from this label instead of the sample value (cache_config_info fields).
    pub from_label: Option<&'static str>,
}

/// A pmlogconf group generated for one source.
#[derive(Debug)]
pub struct LogGroup {
    /// File name under `pmda/pmlogconf/` (installed as `$PCP_VAR_DIR/config/pmlogconf/llm/<file>`).
    pub file: &'static str,
    pub ident: &'static str,
    /// A *leaf* metric that has values when the source is present (pmlogconf only enables a
    /// group whose probe answers; a subtree never does).
    pub probe: &'static str,
    /// `exists` (enabled whenever the metric has a value) or `values`.
    pub probe_kind: &'static str,
    pub interval: &'static str,
    /// Metric name prefixes logged by the group.
    pub metrics: &'static [&'static str],
}

/// Everything one source contributes to the catalogue.
pub struct Section {
    pub metrics: &'static [Metric],
    pub indoms: &'static [&'static Indom],
    pub groups: &'static [LogGroup],
}

/// The whole catalogue, in PMNS order.
pub fn sections() -> Vec<&'static Section> {
    vec![
        &agent::SECTION,
        &gpu::SECTION,
        &vllm::SECTION,
        &vllm::LATENCY_SECTION,
        &vllm::TOKENS_HIST_SECTION,
        &lmcache::SECTION,
        &lmcache::HIST_SECTION,
        &epp::SECTION,
        &epp::HIST_SECTION,
        &membw::SECTION,
        &bench::SECTION,
    ]
}

pub fn metrics() -> impl Iterator<Item = &'static Metric> {
    sections().into_iter().flat_map(|s| s.metrics.iter())
}

pub fn indoms() -> impl Iterator<Item = &'static Indom> {
    sections()
        .into_iter()
        .flat_map(|s| s.indoms.iter().copied())
}

pub fn groups() -> impl Iterator<Item = &'static LogGroup> {
    sections().into_iter().flat_map(|s| s.groups.iter())
}

/// Looks a metric up by name (used by tests and the generic mapping code).
pub fn find(name: &str) -> Option<&'static Metric> {
    metrics().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn names_and_pmids_are_unique_and_well_formed() {
        let mut names = HashSet::new();
        let mut pmids = HashMap::new();
        for m in metrics() {
            assert!(m.name.starts_with("llm."), "{} is not under llm.", m.name);
            assert!(
                m.name.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'.'
                    || b == b'_'),
                "{}: PCP names are lower case, digits, '.' and '_'",
                m.name
            );
            assert!(names.insert(m.name), "duplicate name {}", m.name);
            if let Some(other) = pmids.insert(m.local_pmid(), m.name) {
                panic!(
                    "{} and {} share cluster {} item {}",
                    m.name, other, m.cluster, m.item
                );
            }
            assert!(
                m.item < 1024 && m.cluster < 4096,
                "{}: pmid out of range",
                m.name
            );
            assert!(
                !m.oneline.is_empty() && !m.help.is_empty(),
                "{}: no help text",
                m.name
            );
            assert!(
                !m.oneline.contains('\n'),
                "{}: one-line help has a newline",
                m.name
            );
        }
    }

    #[test]
    fn no_name_is_both_leaf_and_subtree() {
        let names: HashSet<&str> = metrics().map(|m| m.name).collect();
        for n in &names {
            let prefix = format!("{n}.");
            assert!(
                !names.iter().any(|o| o.starts_with(&prefix)),
                "{n} is a leaf and a subtree"
            );
        }
    }

    #[test]
    fn indom_serials_are_unique_and_every_used_indom_is_declared() {
        let mut serials = HashSet::new();
        for i in indoms() {
            assert!(
                serials.insert(i.serial),
                "duplicate indom serial {}",
                i.serial
            );
        }
        for m in metrics() {
            if let Some(i) = m.indom {
                assert!(
                    serials.contains(&i.serial),
                    "{} uses undeclared indom {}",
                    m.name,
                    i.name
                );
            }
        }
    }

    #[test]
    fn dynamic_names_are_pcp_names() {
        assert_eq!(
            dynamic_name("vllm", "vllm:new_thing_total"),
            "llm.other.vllm.vllm.new_thing_total"
        );
        assert_eq!(
            dynamic_name("vllm", "Weird-Name:2x"),
            "llm.other.vllm.weird_name._2x"
        );
        for m in metrics() {
            assert!(
                m.cluster < DYNAMIC_FIRST_CLUSTER,
                "{} uses a dynamic cluster",
                m.name
            );
            let under_root = m.name.starts_with(&format!("{DYNAMIC_ROOT}."));
            assert!(
                !under_root || m.name == DYNAMIC_COUNT,
                "{} is under the dynamic root",
                m.name
            );
        }
    }

    #[test]
    fn clusters_and_indoms_stay_in_their_files_ranges() {
        let ranges: [(&str, std::ops::RangeInclusive<u32>); 8] = [
            ("llm.agent.", 0..=9),
            ("llm.gpu.", 10..=19),
            ("llm.vllm.", 20..=39),
            ("llm.lmcache.", 40..=49),
            ("llm.epp.", 50..=59),
            ("llm.membw.", 60..=69),
            ("llm.pcie.", 60..=69),
            ("llm.bench.", 70..=79),
        ];
        for m in metrics().filter(|m| m.name != DYNAMIC_COUNT) {
            let (prefix, range) = ranges
                .iter()
                .find(|(p, _)| m.name.starts_with(p))
                .unwrap_or_else(|| panic!("{} has no row in the allocation table", m.name));
            assert!(
                range.contains(&m.cluster),
                "{}: cluster {} outside {prefix}",
                m.name,
                m.cluster
            );
            if let Some(i) = m.indom {
                assert!(
                    range.contains(&i.serial),
                    "{}: indom {} outside {prefix}",
                    m.name,
                    i.serial
                );
            }
        }
    }

    #[test]
    fn counters_are_numeric() {
        for m in metrics() {
            if m.sem == Semantics::Counter {
                assert!(m.ty != Type::String, "{} is a string counter", m.name);
            }
        }
    }
}
