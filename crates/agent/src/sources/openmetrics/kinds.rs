//! The kinds of Prometheus endpoint the agent scrapes, one descriptor each. Their metrics are
//! declared in the catalogue (`catalogue/<kind>.rs`, each with the families it comes from);
//! a descriptor says where a kind's endpoints are configured, which family names belong to it
//! and what its endpoints are when llm.conf names none. The scraper, `config.rs` and `plan.rs`
//! work from [`KINDS`] alone: a new kind is one more descriptor there.

use crate::catalogue::hist::HistFamily;
use crate::catalogue::{Route, epp, lmcache, vllm};

/// One kind of Prometheus endpoint.
#[derive(Debug)]
pub struct EndpointKind {
    /// Its name: families the catalogue does not know become `llm.other.<name>.*`.
    pub name: &'static str,
    /// Its sections in llm.conf: `[[section]]`, one per endpoint.
    pub section: &'static str,
    /// The PCP subtree of its catalogued metrics.
    pub subtree: &'static str,
    /// The prefixes of its Prometheus family names. A series of a family with one of them that
    /// the catalogue does not know goes to [`EndpointKind::other`] and under `llm.other`; a
    /// prefix ending in ':' also matches the OpenMetrics spelling with '_' (`vllm_x`).
    pub prefixes: &'static [&'static str],
    /// The metric that holds every series of such unknown families.
    pub other: &'static str,
    /// Its scalar metrics and its histograms, as the catalogue declares them.
    pub routes: &'static [&'static [Route]],
    pub histograms: &'static [&'static [HistFamily]],
    /// The endpoints watched when llm.conf has no section of this kind: (name, url).
    pub defaults: &'static [(&'static str, &'static str)],
}

/// vLLM's `/metrics` (LMCache's families appear there too and go to [`LMCACHE`]'s metrics).
pub static VLLM: EndpointKind = EndpointKind {
    name: "vllm",
    section: "vllm",
    subtree: "llm.vllm",
    prefixes: &["vllm:"],
    other: "llm.vllm.other.value",
    routes: &[vllm::ROUTES],
    histograms: &[vllm::LATENCY_FAMILIES, vllm::TOKENS_HIST_FAMILIES],
    defaults: &[("vllm0", "http://localhost:8000/metrics")],
};

/// A separate LMCache endpoint.
pub static LMCACHE: EndpointKind = EndpointKind {
    name: "lmcache",
    section: "lmcache",
    subtree: "llm.lmcache",
    prefixes: &["lmcache:"],
    other: "llm.lmcache.other.value",
    routes: &[lmcache::ROUTES],
    histograms: &[lmcache::HIST_FAMILIES],
    defaults: &[],
};

/// The llm-d endpoint picker (Gateway API Inference Extension EPP).
pub static EPP: EndpointKind = EndpointKind {
    name: "epp",
    section: "epp",
    subtree: "llm.epp",
    prefixes: &["inference_", "llm_d_"],
    other: "llm.epp.other.value",
    routes: &[epp::ROUTES],
    histograms: &[epp::HIST_FAMILIES],
    defaults: &[],
};

/// Every kind, in the order their sections are listed and read (a name used by endpoints of
/// two kinds stays with the first kind) and their prefixes are tried.
pub static KINDS: &[&EndpointKind] = &[&VLLM, &LMCACHE, &EPP];

/// The kind named `name`.
pub fn kind(name: &str) -> Option<&'static EndpointKind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{self, Metric};
    use std::collections::HashMap;

    fn metric(r: &Route) -> &'static Metric {
        catalogue::metrics()
            .find(|m| m.cluster == r.cluster && m.item == r.item)
            .unwrap_or_else(|| panic!("{:?} names no catalogued metric", r.families))
    }

    /// Every catalogued metric under a kind's subtree is fed: by exactly one route (whose
    /// families carry the kind's prefixes and are named in the help), as a histogram metric,
    /// or as the kind's `other` metric.
    #[test]
    fn every_metric_of_a_kind_is_routed_once_from_families_of_the_kind() {
        let mut routed_to: HashMap<&str, &str> = HashMap::new();
        for k in KINDS {
            let other = catalogue::find(k.other).expect("other is catalogued");
            assert!(other.name.starts_with(&format!("{}.", k.subtree)));
            assert!(other.indom.is_some(), "{}", k.other);
            let mut fed: HashMap<&str, usize> = HashMap::new();
            for r in k.routes.iter().copied().flatten() {
                let m = metric(r);
                *fed.entry(m.name).or_default() += 1;
                if m.name == k.other {
                    assert!(r.families.is_empty(), "{} is fed by no family", k.other);
                    continue;
                }
                assert!(!r.families.is_empty(), "{}: no family", m.name);
                assert!(
                    m.help.contains(r.families[0]),
                    "{}: help does not name {}",
                    m.name,
                    r.families[0]
                );
                for f in r.families {
                    assert!(
                        k.prefixes.iter().any(|p| f.starts_with(p)),
                        "{f} lacks a prefix of {}",
                        k.name
                    );
                    let first = routed_to.entry(f).or_insert(k.name);
                    assert_eq!(*first, k.name, "{f} is routed by two kinds");
                }
            }
            for h in k.histograms.iter().copied().flatten() {
                for f in std::iter::once(&h.prom).chain(h.also) {
                    assert!(k.prefixes.iter().any(|p| f.starts_with(p)), "{f}");
                }
                for i in 0..6 {
                    let m = catalogue::metrics()
                        .find(|m| m.cluster == h.cluster && m.item == h.base + i)
                        .unwrap_or_else(|| panic!("{}: no metric {i}", h.prom));
                    *fed.entry(m.name).or_default() += 1;
                }
            }
            let prefix = format!("{}.", k.subtree);
            for m in catalogue::metrics().filter(|m| m.name.starts_with(&prefix)) {
                assert_eq!(fed.get(m.name), Some(&1), "{} is fed once", m.name);
            }
        }
    }

    #[test]
    fn kinds_have_distinct_names_sections_and_prefixes() {
        for (i, a) in KINDS.iter().enumerate() {
            assert_eq!(kind(a.name).map(|k| k.section), Some(a.section));
            for b in &KINDS[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.section, b.section);
                for p in a.prefixes {
                    assert!(
                        !b.prefixes
                            .iter()
                            .any(|q| p.starts_with(q) || q.starts_with(p)),
                        "{p}"
                    );
                }
            }
        }
    }
}
