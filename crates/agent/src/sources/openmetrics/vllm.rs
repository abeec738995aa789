//! Routing of vLLM's Prometheus families onto `llm.vllm.*` (declared in
//! `crates/agent/src/catalogue/vllm.rs`).

use super::Route;
use crate::catalogue::hist::HistFamily;
use crate::catalogue::vllm::*;
use crate::sources::MetricId;

const ENGINE_KEYS: &[&str] = &["engine"];

const fn r(family: &'static str, cluster: u32, item: u32) -> Route {
    Route {
        family,
        metric: MetricId::new(cluster, item),
        keys: ENGINE_KEYS,
        from_label: None,
    }
}
const fn r2(family: &'static str, cluster: u32, item: u32, key: &'static [&'static str]) -> Route {
    Route {
        family,
        metric: MetricId::new(cluster, item),
        keys: key,
        from_label: None,
    }
}
const fn label(family: &'static str, item: u32, label: &'static str) -> Route {
    Route {
        family,
        metric: MetricId::new(CLUSTER_CACHE_CONFIG, item),
        keys: ENGINE_KEYS,
        from_label: Some(label),
    }
}

const E: u32 = CLUSTER_ENGINE;

/// Family names as in `# TYPE` (counters without `_total`: both spellings are matched).
pub static ROUTES: &[Route] = &[
    r("vllm:num_requests_running", E, ITEM_RUNNING),
    r("vllm:num_requests_waiting", E, ITEM_WAITING),
    r("vllm:kv_cache_usage_perc", E, ITEM_KV_USAGE),
    r("vllm:gpu_cache_usage_perc", E, ITEM_KV_USAGE),
    r("vllm:prefix_cache_queries", E, ITEM_PREFIX_QUERIES),
    r("vllm:gpu_prefix_cache_queries", E, ITEM_PREFIX_QUERIES),
    r("vllm:prefix_cache_hits", E, ITEM_PREFIX_HITS),
    r("vllm:gpu_prefix_cache_hits", E, ITEM_PREFIX_HITS),
    r(
        "vllm:external_prefix_cache_queries",
        E,
        ITEM_EXT_PREFIX_QUERIES,
    ),
    r("vllm:external_prefix_cache_hits", E, ITEM_EXT_PREFIX_HITS),
    r("vllm:prompt_tokens", E, ITEM_PROMPT_TOKENS),
    r("vllm:generation_tokens", E, ITEM_GENERATION_TOKENS),
    r("vllm:num_preemptions", E, ITEM_PREEMPTIONS),
    r("vllm:mm_cache_queries", E, ITEM_MM_QUERIES),
    r("vllm:mm_cache_hits", E, ITEM_MM_HITS),
    r("vllm:prompt_tokens_cached", E, ITEM_PROMPT_CACHED),
    r("vllm:corrupted_requests", E, ITEM_CORRUPTED),
    r("vllm:kv_offload_load_bytes", E, ITEM_OFFLOAD_LOAD_BYTES),
    r("vllm:kv_offload_store_bytes", E, ITEM_OFFLOAD_STORE_BYTES),
    r("vllm:kv_offload_load_time", E, ITEM_OFFLOAD_LOAD_TIME),
    r("vllm:kv_offload_store_time", E, ITEM_OFFLOAD_STORE_TIME),
    r(
        "vllm:kv_offload_cpu_cache_usage_perc",
        E,
        ITEM_OFFLOAD_CPU_USAGE,
    ),
    r(
        "vllm:kv_offload_allocation_failure",
        E,
        ITEM_OFFLOAD_ALLOC_FAILURES,
    ),
    r(
        "vllm:kv_offload_stores_skipped",
        E,
        ITEM_OFFLOAD_STORES_SKIPPED,
    ),
    r2(
        "vllm:request_success",
        CLUSTER_FINISHED,
        0,
        &["engine", "finished_reason"],
    ),
    r2(
        "vllm:num_requests_waiting_by_reason",
        CLUSTER_WAITING_REASON,
        0,
        &["engine", "reason"],
    ),
    r2(
        "vllm:prompt_tokens_by_source",
        CLUSTER_TOKEN_SOURCE,
        0,
        &["engine", "source"],
    ),
    r2(
        "vllm:prompt_tokens_cached_by_source",
        CLUSTER_TOKEN_SOURCE,
        1,
        &["engine", "source"],
    ),
    r2(
        "vllm:kv_offload_total_bytes",
        CLUSTER_OFFLOAD_TRANSFER,
        0,
        &["engine", "transfer_type"],
    ),
    r2(
        "vllm:kv_offload_total_time",
        CLUSTER_OFFLOAD_TRANSFER,
        1,
        &["engine", "transfer_type"],
    ),
    r2(
        "vllm:cache_config_info",
        CLUSTER_CACHE_CONFIG,
        0,
        ENGINE_KEYS,
    ),
    label("vllm:cache_config_info", 1, "block_size"),
    label("vllm:cache_config_info", 2, "num_gpu_blocks"),
    label("vllm:cache_config_info", 3, "gpu_memory_utilization"),
];

pub fn histograms() -> impl Iterator<Item = &'static HistFamily> {
    LATENCY_FAMILIES.iter().chain(TOKENS_HIST_FAMILIES.iter())
}
