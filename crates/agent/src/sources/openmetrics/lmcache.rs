//! Routing of LMCache's Prometheus families onto `llm.lmcache.*` (declared in
//! `crates/agent/src/catalogue/lmcache.rs`). Instances are keyed by worker_id.

use super::Route;
use crate::catalogue::hist::HistFamily;
use crate::catalogue::lmcache::*;
use crate::sources::MetricId;

pub fn routes() -> Vec<Route> {
    let keys: &'static [&'static str] = &["worker_id"];
    COUNTER_FAMILIES
        .iter()
        .map(|&(item, family)| (CLUSTER_COUNTERS, item, family))
        .chain(
            GAUGE_FAMILIES
                .iter()
                .map(|&(item, family)| (CLUSTER_GAUGES, item, family)),
        )
        .map(|(cluster, item, family)| Route {
            family,
            metric: MetricId::new(cluster, item),
            keys,
            from_label: None,
        })
        .collect()
}

pub fn histograms() -> impl Iterator<Item = &'static HistFamily> {
    HIST_FAMILIES.iter()
}
