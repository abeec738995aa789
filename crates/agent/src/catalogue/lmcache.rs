//! `llm.lmcache.*`: LMCache's Prometheus metrics. LMCache registers them in the vLLM process,
//! so they are normally scraped from vLLM's `/metrics` (any `[[vllm]]` endpoint); a separate
//! `[[lmcache]]` endpoint works too. Clusters 40..=49, indom serials 40..=49.

use super::{Indom, LogGroup, Metric, Section, Semantics::*, Type::*};
use pcp::Units;

pub const CLUSTER_COUNTERS: u32 = 40;
pub const CLUSTER_GAUGES: u32 = 41;
pub const CLUSTER_HIST: u32 = 42;
pub const CLUSTER_OTHER: u32 = 43;

pub static WORKER: Indom = Indom {
    serial: 40,
    name: "lmcache_worker",
    oneline: "LMCache endpoint x worker",
    help: "One instance per scraped endpoint and LMCache worker_id, named ENDPOINT/WORKER (e.g. \
vllm0/0). Instance labels: endpoint, url, worker_id, model_name, role, served_model_name.",
};
pub static BUCKETS: Indom = Indom {
    serial: 41,
    name: "lmcache_buckets",
    oneline: "LMCache histogram bucket bounds",
    help: "One instance per endpoint, worker and bucket upper bound of LMCache's latency \
histograms, named \"ENDPOINT/WORKER le=BOUND\"; label le.",
};
pub static OTHER: Indom = Indom {
    serial: 42,
    name: "lmcache_other",
    oneline: "series of LMCache families the agent does not know",
    help: "One instance per series of an lmcache:* family not in the agent's catalogue, named \
\"ENDPOINT SAMPLE_NAME{LABELS}\" as exposed.",
};

pub static SECTION: Section = Section {
    metrics: METRICS,
    indoms: &[&WORKER, &BUCKETS, &OTHER],
    groups: &[LogGroup {
        file: "lmcache",
        ident: "LMCache KV-cache offload metrics",
        probe: "llm.lmcache.requests.retrieve",
        probe_kind: "values",
        interval: "10sec",
        metrics: &["llm.lmcache"],
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
    &WORKER,
    &BUCKETS,
    WORKER_KEYS,
    [
        (
            0,
            "llm.lmcache.retrieve_time",
            "lmcache:time_to_retrieve",
            seconds,
            "LMCache retrieve time"
        ),
        (
            1,
            "llm.lmcache.store_time",
            "lmcache:time_to_store",
            seconds,
            "LMCache store time"
        ),
        (
            2,
            "llm.lmcache.lookup_time",
            "lmcache:time_to_lookup",
            seconds,
            "LMCache lookup time"
        ),
    ]
);

const C: u32 = CLUSTER_COUNTERS;
const G: u32 = CLUSTER_GAUGES;

/// The labels naming a worker's instances (after the endpoint name).
pub const WORKER_KEYS: &[&str] = &["worker_id"];

scraped! {
    METRICS, ROUTES, by WORKER_KEYS;
    "llm.lmcache.requests.retrieve" from ["lmcache:num_retrieve_requests"],
        C, 0, U64, Counter, Units::COUNT, &WORKER,
        "LMCache retrieve requests",
        "Number of retrieve requests, from the Prometheus counter lmcache:num_retrieve_requests_total.";
    "llm.lmcache.requests.store" from ["lmcache:num_store_requests"],
        C, 1, U64, Counter, Units::COUNT, &WORKER,
        "LMCache store requests",
        "Number of store requests, from the Prometheus counter lmcache:num_store_requests_total.";
    "llm.lmcache.requests.lookup" from ["lmcache:num_lookup_requests"],
        C, 2, U64, Counter, Units::COUNT, &WORKER,
        "LMCache lookup requests",
        "Number of lookup requests, from the Prometheus counter lmcache:num_lookup_requests_total.";
    "llm.lmcache.tokens.requested" from ["lmcache:num_requested_tokens"],
        C, 3, U64, Counter, Units::COUNT, &WORKER,
        "tokens requested from LMCache",
        "Number of tokens requested for retrieval, from the Prometheus counter lmcache:num_requested_tokens_total.";
    "llm.lmcache.tokens.hit" from ["lmcache:num_hit_tokens"],
        C, 4, U64, Counter, Units::COUNT, &WORKER,
        "tokens retrieved from LMCache",
        "Number of requested tokens found in LMCache, from the Prometheus counter lmcache:num_hit_tokens_total.";
    "llm.lmcache.tokens.stored" from ["lmcache:num_stored_tokens"],
        C, 5, U64, Counter, Units::COUNT, &WORKER,
        "tokens stored in LMCache",
        "Number of tokens stored, from the Prometheus counter lmcache:num_stored_tokens_total.";
    "llm.lmcache.tokens.lookup" from ["lmcache:num_lookup_tokens"],
        C, 6, U64, Counter, Units::COUNT, &WORKER,
        "tokens looked up in LMCache",
        "Number of tokens looked up, from the Prometheus counter lmcache:num_lookup_tokens_total.";
    "llm.lmcache.tokens.lookup_hits" from ["lmcache:num_lookup_hits"],
        C, 7, U64, Counter, Units::COUNT, &WORKER,
        "looked-up tokens found in LMCache",
        "Number of looked-up tokens that hit, from the Prometheus counter lmcache:num_lookup_hits_total.";
    "llm.lmcache.tokens.vllm_hit" from ["lmcache:num_vllm_hit_tokens"],
        C, 8, U64, Counter, Units::COUNT, &WORKER,
        "tokens hit in vLLM's own prefix cache",
        "Number of tokens vLLM's prefix cache already held, from the Prometheus counter lmcache:num_vllm_hit_tokens_total.";
    "llm.lmcache.remote.read_bytes" from ["lmcache:num_remote_read_bytes"],
        C, 9, U64, Counter, Units::BYTES, &WORKER,
        "bytes read from LMCache remote backends",
        "Bytes read from remote backends, from the Prometheus counter lmcache:num_remote_read_bytes_total.";
    "llm.lmcache.remote.write_bytes" from ["lmcache:num_remote_write_bytes"],
        C, 10, U64, Counter, Units::BYTES, &WORKER,
        "bytes written to LMCache remote backends",
        "Bytes written to remote backends, from the Prometheus counter lmcache:num_remote_write_bytes_total.";
    "llm.lmcache.local_cpu.evictions" from ["lmcache:local_cpu_evict_count"],
        C, 11, U64, Counter, Units::COUNT, &WORKER,
        "LMCache local CPU evictions",
        "Number of evictions from the local CPU backend, from the Prometheus counter lmcache:local_cpu_evict_count_total.";
    "llm.lmcache.retrieve_hit_rate" from ["lmcache:retrieve_hit_rate"],
        G, 0, Double, Instant, Units::NONE, &WORKER,
        "LMCache retrieve hit rate, a fraction from 0 to 1",
        "Fraction of requested tokens found, from the Prometheus gauge lmcache:retrieve_hit_rate.";
    "llm.lmcache.lookup_hit_rate" from ["lmcache:lookup_hit_rate"],
        G, 1, Double, Instant, Units::NONE, &WORKER,
        "LMCache lookup hit rate, a fraction from 0 to 1",
        "Fraction of looked-up tokens found, from the Prometheus gauge lmcache:lookup_hit_rate.";
    "llm.lmcache.local_cache_usage" from ["lmcache:local_cache_usage"],
        G, 2, Double, Instant, Units::BYTES, &WORKER,
        "bytes used by LMCache's local cache",
        "Bytes used by the local (CPU) cache, from the Prometheus gauge lmcache:local_cache_usage.";
    "llm.lmcache.remote_cache_usage" from ["lmcache:remote_cache_usage"],
        G, 3, Double, Instant, Units::BYTES, &WORKER,
        "bytes used by LMCache's remote cache",
        "Bytes used in the remote backend, from the Prometheus gauge lmcache:remote_cache_usage.";
    "llm.lmcache.local_storage_usage" from ["lmcache:local_storage_usage"],
        G, 4, Double, Instant, Units::BYTES, &WORKER,
        "bytes used by LMCache's local storage",
        "Bytes used by the local disk backend, from the Prometheus gauge lmcache:local_storage_usage.";
    "llm.lmcache.memory_objs.active" from ["lmcache:active_memory_objs_count"],
        G, 5, U64, Instant, Units::COUNT, &WORKER,
        "active LMCache memory objects",
        "Number of active memory objects, from the Prometheus gauge lmcache:active_memory_objs_count.";
    "llm.lmcache.memory_objs.pinned" from ["lmcache:pinned_memory_objs_count"],
        G, 6, U64, Instant, Units::COUNT, &WORKER,
        "pinned LMCache memory objects",
        "Number of pinned memory objects, from the Prometheus gauge lmcache:pinned_memory_objs_count.";
    // Fed by the series of the families of this endpoint kind that the catalogue does not know
    // (sources/openmetrics/kinds.rs).
    "llm.lmcache.other.value" from [],
        CLUSTER_OTHER, 0, Double, Instant, Units::NONE, &OTHER,
        "value of an LMCache series the agent does not know",
        "The latest value of every series of an lmcache:* Prometheus family not in the agent's catalogue; the instance name is the series as exposed.";
}
