//! Routing of the llm-d EPP (Gateway API Inference Extension) families onto `llm.epp.*`
//! (declared in `crates/agent/src/catalogue/epp.rs`), under both the `inference_objective_*` and the older
//! `inference_model_*` spelling.

use super::Route;
use crate::catalogue::epp::*;
use crate::catalogue::hist::HistFamily;
use crate::sources::MetricId;

const OBJ: &[&str] = &["model_name", "target_model_name"];

pub fn routes() -> Vec<Route> {
    let mut out = Vec::new();
    for prefix in [PREFIX, LEGACY_PREFIX] {
        for (suffix, item) in [
            ("request_total", 0),
            ("request", 0),
            ("request_error_total", 1),
            ("request_error", 1),
            ("running_requests", 2),
        ] {
            let family: &'static str = Box::leak(format!("{prefix}{suffix}").into_boxed_str());
            out.push(Route {
                family,
                metric: MetricId::new(CLUSTER_OBJECTIVE, item),
                keys: OBJ,
                from_label: None,
            });
        }
    }
    for (family, cluster, item, keys) in [
        (
            "inference_pool_average_kv_cache_utilization",
            CLUSTER_POOL,
            0,
            &["name"][..],
        ),
        (
            "inference_pool_average_queue_size",
            CLUSTER_POOL,
            1,
            &["name"][..],
        ),
        ("inference_pool_ready_pods", CLUSTER_POOL, 2, &["name"][..]),
        (
            "inference_pool_per_pod_queue_size",
            CLUSTER_POD,
            0,
            &["model_server_pod"][..],
        ),
    ] {
        out.push(Route {
            family,
            metric: MetricId::new(cluster, item),
            keys,
            from_label: None,
        });
    }
    out
}

/// The legacy spelling of the request-duration histogram, routed like the current one.
pub static LEGACY_HIST: HistFamily = HistFamily {
    prom: "inference_model_request_duration_seconds",
    cluster: CLUSTER_HIST,
    base: 0,
    indom: &OBJECTIVE,
    bucket_indom: &BUCKETS,
};

pub fn histograms() -> impl Iterator<Item = &'static HistFamily> {
    HIST_FAMILIES.iter().chain(std::iter::once(&LEGACY_HIST))
}
