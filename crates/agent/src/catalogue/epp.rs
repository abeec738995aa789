//! `llm.epp.*`: the llm-d endpoint picker (Gateway API Inference Extension EPP) metrics,
//! scraped from `[[epp]]` endpoints (which usually need a bearer token file). Clusters
//! 50..=59, indom serials 50..=59. Older releases use the `inference_model_*` prefix, newer the
//! `inference_objective_*` one; both are mapped (each metric lists both families).

use super::{Indom, LogGroup, Metric, Section, Semantics::*, Type::*};
use pcp::Units;

pub const CLUSTER_OBJECTIVE: u32 = 50;
pub const CLUSTER_POOL: u32 = 51;
pub const CLUSTER_POD: u32 = 52;
pub const CLUSTER_HIST: u32 = 53;
pub const CLUSTER_OTHER: u32 = 54;

pub static OBJECTIVE: Indom = Indom {
    serial: 50,
    name: "epp_objective",
    oneline: "EPP endpoint x model x target model",
    help: "One instance per EPP endpoint, model_name and target_model_name, named \
ENDPOINT/MODEL/TARGET; labels endpoint, url, model_name, target_model_name.",
};
pub static POOL: Indom = Indom {
    serial: 51,
    name: "epp_pool",
    oneline: "EPP endpoint x inference pool",
    help: "One instance per EPP endpoint and inference pool (label name), named ENDPOINT/POOL.",
};
pub static POD: Indom = Indom {
    serial: 52,
    name: "epp_pod",
    oneline: "EPP endpoint x model server pod",
    help: "One instance per EPP endpoint and model_server_pod, named ENDPOINT/POD.",
};
pub static BUCKETS: Indom = Indom {
    serial: 53,
    name: "epp_buckets",
    oneline: "EPP histogram bucket bounds",
    help: "One instance per EPP endpoint, model, target model and bucket bound, named \
\"ENDPOINT/MODEL/TARGET le=BOUND\"; label le.",
};
pub static OTHER: Indom = Indom {
    serial: 54,
    name: "epp_other",
    oneline: "series of EPP families the agent does not know",
    help: "One instance per series of an inference_* or llm_d_* family not in the agent's \
catalogue, named \"ENDPOINT SAMPLE_NAME{LABELS}\" as exposed.",
};

pub static SECTION: Section = Section {
    metrics: METRICS,
    indoms: &[&OBJECTIVE, &POOL, &POD, &BUCKETS, &OTHER],
    groups: &[LogGroup {
        file: "epp",
        ident: "llm-d endpoint picker (EPP) metrics",
        probe: "llm.epp.pool.ready_pods",
        probe_kind: "values",
        interval: "10sec",
        metrics: &["llm.epp"],
    }],
};

pub static HIST_SECTION: Section = Section {
    metrics: HIST.as_flattened(),
    indoms: &[],
    groups: &[],
};

crate::histograms!(
    HIST,
    HIST_FAMILIES,
    CLUSTER_HIST,
    &OBJECTIVE,
    &BUCKETS,
    OBJECTIVE_KEYS,
    [(
        0,
        "llm.epp.request_duration",
        "inference_objective_request_duration_seconds" | "inference_model_request_duration_seconds",
        seconds,
        "request duration through the EPP"
    ),]
);

/// The labels naming an objective's instances (after the endpoint name).
pub const OBJECTIVE_KEYS: &[&str] = &["model_name", "target_model_name"];

scraped! {
    METRICS, ROUTES, by OBJECTIVE_KEYS;
    "llm.epp.requests.total" from ["inference_objective_request_total", "inference_objective_request", "inference_model_request_total", "inference_model_request"],
        CLUSTER_OBJECTIVE, 0, U64, Counter, Units::COUNT, &OBJECTIVE,
        "requests routed by the EPP",
        "Number of requests, from the Prometheus counter inference_objective_request_total (inference_model_request_total in older releases).";
    "llm.epp.requests.errors" from ["inference_objective_request_error_total", "inference_objective_request_error", "inference_model_request_error_total", "inference_model_request_error"],
        CLUSTER_OBJECTIVE, 1, U64, Counter, Units::COUNT, &OBJECTIVE,
        "requests that failed in the EPP",
        "Number of failed requests, from the Prometheus counter inference_objective_request_error_total.";
    "llm.epp.requests.running" from ["inference_objective_running_requests", "inference_model_running_requests"],
        CLUSTER_OBJECTIVE, 2, U64, Instant, Units::COUNT, &OBJECTIVE,
        "requests in flight through the EPP",
        "Number of running requests, from the Prometheus gauge inference_objective_running_requests.";
    "llm.epp.pool.average_kv_cache_utilization" from ["inference_pool_average_kv_cache_utilization"] by &["name"],
        CLUSTER_POOL, 0, Double, Instant, Units::NONE, &POOL,
        "average KV-cache utilization of the pool, a fraction from 0 to 1",
        "From the Prometheus gauge inference_pool_average_kv_cache_utilization.";
    "llm.epp.pool.average_queue_size" from ["inference_pool_average_queue_size"] by &["name"],
        CLUSTER_POOL, 1, Double, Instant, Units::COUNT, &POOL,
        "average queue size of the pool's model servers",
        "From the Prometheus gauge inference_pool_average_queue_size.";
    "llm.epp.pool.ready_pods" from ["inference_pool_ready_pods"] by &["name"],
        CLUSTER_POOL, 2, U64, Instant, Units::COUNT, &POOL,
        "ready model server pods in the pool",
        "From the Prometheus gauge inference_pool_ready_pods.";
    "llm.epp.pod.queue_size" from ["inference_pool_per_pod_queue_size"] by &["model_server_pod"],
        CLUSTER_POD, 0, Double, Instant, Units::COUNT, &POD,
        "queue size of one model server pod",
        "From the Prometheus gauge inference_pool_per_pod_queue_size.";
    // Fed by the series of the families of this endpoint kind that the catalogue does not know
    // (sources/openmetrics/kinds.rs).
    "llm.epp.other.value" from [],
        CLUSTER_OTHER, 0, Double, Instant, Units::NONE, &OTHER,
        "value of an EPP series the agent does not know",
        "The latest value of every series of an inference_* or llm_d_* Prometheus family not in the agent's catalogue; the instance name is the series as exposed.";
}
