//! `llm.vllm.*`: metrics scraped from vLLM's Prometheus `/metrics` (one or more endpoints,
//! `[[vllm]]` in llm.conf; by default http://localhost:8000/metrics). Clusters 20..=39, indom
//! serials 20..=39. Each metric is declared with the Prometheus families it comes from (current
//! name first, then older ones), which is all the scraper needs to route them.

use super::{Indom, LogGroup, Metric, Section, Semantics::*, Type::*};
use pcp::Units;

pub const CLUSTER_ENGINE: u32 = 20;
pub const CLUSTER_FINISHED: u32 = 21;
pub const CLUSTER_WAITING_REASON: u32 = 22;
pub const CLUSTER_TOKEN_SOURCE: u32 = 23;
pub const CLUSTER_OFFLOAD_TRANSFER: u32 = 24;
pub const CLUSTER_CACHE_CONFIG: u32 = 25;
pub const CLUSTER_OTHER: u32 = 26;
pub const CLUSTER_LATENCY: u32 = 30;
pub const CLUSTER_TOKENS_HIST: u32 = 31;

macro_rules! ind {
    ($id:ident, $serial:expr, $name:literal, $one:literal, $help:literal) => {
        pub static $id: Indom = Indom {
            serial: $serial,
            name: $name,
            oneline: $one,
            help: $help,
        };
    };
}

ind!(
    ENGINE,
    20,
    "vllm_engine",
    "vLLM endpoint x engine",
    "One instance per scraped vLLM endpoint and engine index, named ENDPOINT/ENGINE (e.g. vllm0/0 \
for engine \"0\" of the endpoint configured as vllm0). Instance labels: endpoint, url, engine, \
model_name. Stable across agent restarts."
);
ind!(
    FINISHED,
    21,
    "vllm_finished",
    "vLLM endpoint x engine x finished reason",
    "One instance per endpoint, engine and finished_reason of vllm:request_success_total, named \
ENDPOINT/ENGINE/REASON (e.g. vllm0/0/stop); label finished_reason."
);
ind!(
    WAITING_REASON,
    22,
    "vllm_waiting_reason",
    "vLLM endpoint x engine x waiting reason",
    "One instance per endpoint, engine and reason of vllm:num_requests_waiting_by_reason, named \
ENDPOINT/ENGINE/REASON (e.g. vllm0/0/capacity); label reason."
);
ind!(
    TOKEN_SOURCE,
    23,
    "vllm_token_source",
    "vLLM endpoint x engine x prompt token source",
    "One instance per endpoint, engine and source label of vllm:prompt_tokens_by_source_total \
(local_compute, local_cache_hit, external_kv_transfer) and vllm:prompt_tokens_cached_by_source_total \
(cache tier), named ENDPOINT/ENGINE/SOURCE; label source."
);
ind!(
    OFFLOAD_TRANSFER,
    24,
    "vllm_offload_transfer",
    "vLLM endpoint x engine x KV offload transfer type",
    "One instance per endpoint, engine and transfer_type (CPU_to_GPU, GPU_to_CPU) of the \
vllm:kv_offload_total_* families, named ENDPOINT/ENGINE/TYPE; label transfer_type."
);
ind!(
    LATENCY_BUCKETS,
    25,
    "vllm_latency_buckets",
    "vLLM latency histogram bucket bounds",
    "One instance per endpoint, engine and bucket upper bound of vLLM's latency histograms, named \
\"ENDPOINT/ENGINE le=BOUND\" (e.g. \"vllm0/0 le=0.25\", \"vllm0/0 le=+Inf\"); label le. The \
histograms have different bounds, so each metric has values for a subset of the instances."
);
ind!(
    TOKEN_BUCKETS,
    26,
    "vllm_token_buckets",
    "vLLM token-count histogram bucket bounds",
    "One instance per endpoint, engine and bucket upper bound of vLLM's token-count histograms, \
named \"ENDPOINT/ENGINE le=BOUND\"; label le."
);
ind!(
    CACHE_CONFIG,
    27,
    "vllm_cache_config",
    "vLLM cache configuration, one per endpoint x engine",
    "One instance per endpoint and engine, named ENDPOINT/ENGINE, whose instance labels are every \
label of vllm:cache_config_info (block_size, cache_dtype, enable_prefix_caching, \
gpu_memory_utilization, num_gpu_blocks, ...)."
);
ind!(
    OTHER,
    28,
    "vllm_other",
    "series of vLLM families the agent does not know",
    "One instance per series of a vllm:* family that is not in the agent's catalogue (a newer \
vLLM), named \"ENDPOINT SAMPLE_NAME{LABELS}\" exactly as exposed; instance labels are the \
series' labels plus family, type and url."
);

pub static SECTION: Section = Section {
    metrics: SCALARS,
    indoms: &[
        &ENGINE,
        &FINISHED,
        &WAITING_REASON,
        &TOKEN_SOURCE,
        &OFFLOAD_TRANSFER,
        &LATENCY_BUCKETS,
        &TOKEN_BUCKETS,
        &CACHE_CONFIG,
        &OTHER,
    ],
    groups: &[LogGroup {
        file: "vllm",
        ident: "vLLM serving metrics (requests, KV cache, tokens, latency histograms)",
        probe: "llm.vllm.requests.running",
        probe_kind: "values",
        interval: "10sec",
        metrics: &["llm.vllm"],
    }],
};

pub static LATENCY_SECTION: Section = Section {
    metrics: LATENCY.as_flattened(),
    indoms: &[],
    groups: &[],
};

pub static TOKENS_HIST_SECTION: Section = Section {
    metrics: TOKENS_HIST.as_flattened(),
    indoms: &[],
    groups: &[],
};

crate::histograms!(
    LATENCY,
    LATENCY_FAMILIES,
    CLUSTER_LATENCY,
    &ENGINE,
    &LATENCY_BUCKETS,
    ENGINE_KEYS,
    [
        (
            0,
            "llm.vllm.ttft",
            "vllm:time_to_first_token_seconds",
            seconds,
            "time to first token"
        ),
        (
            1,
            "llm.vllm.itl",
            "vllm:inter_token_latency_seconds",
            seconds,
            "inter-token latency"
        ),
        (
            2,
            "llm.vllm.tpot",
            "vllm:time_per_output_token_seconds",
            seconds,
            "time per output token (deprecated by vLLM)"
        ),
        (
            3,
            "llm.vllm.request_tpot",
            "vllm:request_time_per_output_token_seconds",
            seconds,
            "per-request mean time per output token"
        ),
        (
            4,
            "llm.vllm.e2e",
            "vllm:e2e_request_latency_seconds",
            seconds,
            "end-to-end request latency"
        ),
        (
            5,
            "llm.vllm.queue_time",
            "vllm:request_queue_time_seconds",
            seconds,
            "time requests spent waiting in the queue"
        ),
        (
            6,
            "llm.vllm.prefill_time",
            "vllm:request_prefill_time_seconds",
            seconds,
            "time requests spent in prefill"
        ),
        (
            7,
            "llm.vllm.decode_time",
            "vllm:request_decode_time_seconds",
            seconds,
            "time requests spent in decode"
        ),
        (
            8,
            "llm.vllm.inference_time",
            "vllm:request_inference_time_seconds",
            seconds,
            "time requests spent running (prefill, decode)"
        ),
    ]
);

crate::histograms!(
    TOKENS_HIST,
    TOKENS_HIST_FAMILIES,
    CLUSTER_TOKENS_HIST,
    &ENGINE,
    &TOKEN_BUCKETS,
    ENGINE_KEYS,
    [
        (
            0,
            "llm.vllm.request_prompt_tokens",
            "vllm:request_prompt_tokens",
            count,
            "prompt tokens per request"
        ),
        (
            1,
            "llm.vllm.request_generation_tokens",
            "vllm:request_generation_tokens",
            count,
            "generated tokens per request"
        ),
        (
            2,
            "llm.vllm.iteration_tokens",
            "vllm:iteration_tokens_total",
            count,
            "tokens per engine step"
        ),
        (
            3,
            "llm.vllm.request_max_generation_tokens",
            "vllm:request_max_num_generation_tokens",
            count,
            "max_tokens asked for per request"
        ),
        (
            4,
            "llm.vllm.request_params_n",
            "vllm:request_params_n",
            count,
            "the n parameter of requests"
        ),
        (
            5,
            "llm.vllm.request_params_max_tokens",
            "vllm:request_params_max_tokens",
            count,
            "the max_tokens parameter of requests"
        ),
    ]
);

/// The labels naming an engine's instances (after the endpoint name).
pub const ENGINE_KEYS: &[&str] = &["engine"];

const E: u32 = CLUSTER_ENGINE;

scraped! {
    SCALARS, ROUTES, by ENGINE_KEYS;
    "llm.vllm.requests.running" from ["vllm:num_requests_running"],
        E, 0, U64, Instant, Units::COUNT, &ENGINE,
        "requests running in the engine",
        "Number of requests in the model execution batches, from the Prometheus gauge \
vllm:num_requests_running. In multiprocess mode series that differ only by pid are combined \
(the last one exposed, as vLLM's mostrecent mode).";
    "llm.vllm.requests.waiting" from ["vllm:num_requests_waiting"],
        E, 1, U64, Instant, Units::COUNT, &ENGINE,
        "requests waiting to be scheduled",
        "Number of requests waiting to be processed, from the Prometheus gauge \
vllm:num_requests_waiting.";
    "llm.vllm.kv_cache.usage" from ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
        E, 2, Double, Instant, Units::NONE, &ENGINE,
        "KV-cache usage, a fraction from 0 to 1",
        "Fraction of the GPU KV-cache blocks in use, from 0 (empty) to 1 (full), from the \
Prometheus gauge vllm:kv_cache_usage_perc (or vllm:gpu_cache_usage_perc, its name before vLLM \
0.11). Despite the Prometheus name it is a fraction, not a percentage.";
    "llm.vllm.prefix_cache.queries" from ["vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries"],
        E, 3, U64, Counter, Units::COUNT, &ENGINE,
        "tokens looked up in the prefix cache",
        "Number of prompt tokens queried in the prefix cache, from the Prometheus counter \
vllm:prefix_cache_queries_total (vllm:gpu_prefix_cache_queries_total before 0.11). Hit ratio: \
rate of llm.vllm.prefix_cache.hits over the rate of this.";
    "llm.vllm.prefix_cache.hits" from ["vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits"],
        E, 4, U64, Counter, Units::COUNT, &ENGINE,
        "tokens found in the prefix cache",
        "Number of prompt tokens served from the prefix cache, from the Prometheus counter \
vllm:prefix_cache_hits_total (vllm:gpu_prefix_cache_hits_total before 0.11).";
    "llm.vllm.external_prefix_cache.queries" from ["vllm:external_prefix_cache_queries"],
        E, 5, U64, Counter, Units::COUNT, &ENGINE,
        "tokens looked up in the external (KV connector) prefix cache",
        "Number of prompt tokens queried in an external prefix cache through a KV connector \
(e.g. LMCache), from the Prometheus counter vllm:external_prefix_cache_queries_total \
(vLLM 0.11.2 and later).";
    "llm.vllm.external_prefix_cache.hits" from ["vllm:external_prefix_cache_hits"],
        E, 6, U64, Counter, Units::COUNT, &ENGINE,
        "tokens found in the external (KV connector) prefix cache",
        "Number of prompt tokens served from an external prefix cache through a KV connector, \
from the Prometheus counter vllm:external_prefix_cache_hits_total.";
    "llm.vllm.tokens.prompt" from ["vllm:prompt_tokens"],
        E, 7, U64, Counter, Units::COUNT, &ENGINE,
        "prompt (prefill) tokens processed",
        "Number of prefill tokens processed, from the Prometheus counter vllm:prompt_tokens_total.";
    "llm.vllm.tokens.generation" from ["vllm:generation_tokens"],
        E, 8, U64, Counter, Units::COUNT, &ENGINE,
        "generation (decode) tokens produced",
        "Number of generation tokens processed, from the Prometheus counter \
vllm:generation_tokens_total. Its rate is the engine's output throughput in tokens per second.";
    "llm.vllm.preemptions" from ["vllm:num_preemptions"],
        E, 9, U64, Counter, Units::COUNT, &ENGINE,
        "requests preempted by the scheduler",
        "Cumulative number of preemptions from the engine, from the Prometheus counter \
vllm:num_preemptions_total.";
    "llm.vllm.mm_cache.queries" from ["vllm:mm_cache_queries"],
        E, 10, U64, Counter, Units::COUNT, &ENGINE,
        "multi-modal cache queries",
        "Number of multi-modal cache queries, from the Prometheus counter \
vllm:mm_cache_queries_total (vLLM 0.11.2 and later).";
    "llm.vllm.mm_cache.hits" from ["vllm:mm_cache_hits"],
        E, 11, U64, Counter, Units::COUNT, &ENGINE,
        "multi-modal cache hits",
        "Number of multi-modal cache hits, from the Prometheus counter vllm:mm_cache_hits_total.";
    "llm.vllm.tokens.prompt_cached" from ["vllm:prompt_tokens_cached"],
        E, 12, U64, Counter, Units::COUNT, &ENGINE,
        "prompt tokens served from any cache tier",
        "Number of prompt tokens served from a cache, from the Prometheus counter \
vllm:prompt_tokens_cached_total (newer vLLM).";
    "llm.vllm.requests.corrupted" from ["vllm:corrupted_requests"],
        E, 13, U64, Counter, Units::COUNT, &ENGINE,
        "requests with NaNs in their logits",
        "Number of corrupted requests, from the Prometheus counter vllm:corrupted_requests_total \
(only with VLLM_COMPUTE_NANS_IN_LOGITS).";
    "llm.vllm.kv_offload.load_bytes" from ["vllm:kv_offload_load_bytes"],
        E, 14, U64, Counter, Units::BYTES, &ENGINE,
        "bytes loaded from the KV offload tier into GPU memory",
        "Bytes of KV cache loaded from the offload (CPU) tier, from the Prometheus counter \
vllm:kv_offload_load_bytes (newer vLLM with the OffloadingConnector).";
    "llm.vllm.kv_offload.store_bytes" from ["vllm:kv_offload_store_bytes"],
        E, 15, U64, Counter, Units::BYTES, &ENGINE,
        "bytes stored from GPU memory into the KV offload tier",
        "Bytes of KV cache stored into the offload (CPU) tier, from the Prometheus counter \
vllm:kv_offload_store_bytes.";
    "llm.vllm.kv_offload.load_time" from ["vllm:kv_offload_load_time"],
        E, 16, Double, Counter, Units::SEC, &ENGINE,
        "time spent loading from the KV offload tier",
        "Seconds spent loading KV cache from the offload tier, from the Prometheus counter \
vllm:kv_offload_load_time.";
    "llm.vllm.kv_offload.store_time" from ["vllm:kv_offload_store_time"],
        E, 17, Double, Counter, Units::SEC, &ENGINE,
        "time spent storing into the KV offload tier",
        "Seconds spent storing KV cache into the offload tier, from the Prometheus counter \
vllm:kv_offload_store_time.";
    "llm.vllm.kv_offload.cpu_usage" from ["vllm:kv_offload_cpu_cache_usage_perc"],
        E, 18, Double, Instant, Units::NONE, &ENGINE,
        "usage of the CPU KV offload tier, a fraction from 0 to 1",
        "Fraction of the CPU offload tier in use, from 0 to 1, from the Prometheus gauge \
vllm:kv_offload_cpu_cache_usage_perc.";
    "llm.vllm.kv_offload.allocation_failures" from ["vllm:kv_offload_allocation_failure"],
        E, 19, U64, Counter, Units::COUNT, &ENGINE,
        "failed allocations in the KV offload tier",
        "Number of failed allocations in the offload tier, from the Prometheus counter \
vllm:kv_offload_allocation_failure.";
    "llm.vllm.kv_offload.stores_skipped" from ["vllm:kv_offload_stores_skipped"],
        E, 20, U64, Counter, Units::COUNT, &ENGINE,
        "KV offload stores skipped",
        "Number of stores to the offload tier that were skipped, from the Prometheus counter \
vllm:kv_offload_stores_skipped.";
    "llm.vllm.requests.success" from ["vllm:request_success"] by &["engine", "finished_reason"],
        CLUSTER_FINISHED, 0, U64, Counter, Units::COUNT, &FINISHED,
        "finished requests, by finished reason",
        "Number of finished requests by finished_reason (stop, length, abort, error, ...), from \
the Prometheus counter vllm:request_success_total.";
    "llm.vllm.requests.waiting_by_reason" from ["vllm:num_requests_waiting_by_reason"] by &["engine", "reason"],
        CLUSTER_WAITING_REASON, 0, U64, Instant, Units::COUNT, &WAITING_REASON,
        "requests waiting, by reason",
        "Number of waiting requests by reason (capacity, deferred), from the Prometheus gauge \
vllm:num_requests_waiting_by_reason (newer vLLM); the sum equals llm.vllm.requests.waiting.";
    "llm.vllm.tokens.prompt_by_source" from ["vllm:prompt_tokens_by_source"] by &["engine", "source"],
        CLUSTER_TOKEN_SOURCE, 0, U64, Counter, Units::COUNT, &TOKEN_SOURCE,
        "prompt tokens by where they came from",
        "Number of prompt tokens by source (local_compute, local_cache_hit, \
external_kv_transfer), from the Prometheus counter vllm:prompt_tokens_by_source_total (newer vLLM).";
    "llm.vllm.tokens.prompt_cached_by_source" from ["vllm:prompt_tokens_cached_by_source"] by &["engine", "source"],
        CLUSTER_TOKEN_SOURCE, 1, U64, Counter, Units::COUNT, &TOKEN_SOURCE,
        "cached prompt tokens by cache tier",
        "Number of prompt tokens served from a cache, by tier (device, host, disk, p2p), from \
the Prometheus counter vllm:prompt_tokens_cached_by_source_total (newer vLLM).";
    "llm.vllm.kv_offload.transfer.bytes" from ["vllm:kv_offload_total_bytes"] by &["engine", "transfer_type"],
        CLUSTER_OFFLOAD_TRANSFER, 0, U64, Counter, Units::BYTES, &OFFLOAD_TRANSFER,
        "KV offload bytes by transfer direction",
        "Bytes transferred between GPU and CPU by transfer_type, from the (deprecated but still \
emitted) Prometheus counter vllm:kv_offload_total_bytes.";
    "llm.vllm.kv_offload.transfer.time" from ["vllm:kv_offload_total_time"] by &["engine", "transfer_type"],
        CLUSTER_OFFLOAD_TRANSFER, 1, Double, Counter, Units::SEC, &OFFLOAD_TRANSFER,
        "KV offload transfer time by direction",
        "Seconds spent transferring KV cache between GPU and CPU by transfer_type, from the \
Prometheus counter vllm:kv_offload_total_time.";
    "llm.vllm.cache_config.info" from ["vllm:cache_config_info"],
        CLUSTER_CACHE_CONFIG, 0, U32, Discrete, Units::NONE, &CACHE_CONFIG,
        "1 for each engine: the cache configuration is in the instance labels",
        "Always 1 when vLLM exposes the Prometheus gauge vllm:cache_config_info; the configuration \
(block_size, cache_dtype, num_gpu_blocks, ...) is in the instance labels (pminfo -l).";
    "llm.vllm.cache_config.block_size" from ["vllm:cache_config_info"] label "block_size",
        CLUSTER_CACHE_CONFIG, 1, U64, Discrete, Units::COUNT, &CACHE_CONFIG,
        "KV-cache block size in tokens",
        "The block_size label of the Prometheus gauge vllm:cache_config_info, in tokens.";
    "llm.vllm.cache_config.num_gpu_blocks" from ["vllm:cache_config_info"] label "num_gpu_blocks",
        CLUSTER_CACHE_CONFIG, 2, U64, Discrete, Units::COUNT, &CACHE_CONFIG,
        "number of GPU KV-cache blocks",
        "The num_gpu_blocks label of the Prometheus gauge vllm:cache_config_info.";
    "llm.vllm.cache_config.gpu_memory_utilization" from ["vllm:cache_config_info"] label "gpu_memory_utilization",
        CLUSTER_CACHE_CONFIG, 3, Double, Discrete, Units::NONE, &CACHE_CONFIG,
        "fraction of GPU memory vLLM may use",
        "The gpu_memory_utilization label of the Prometheus gauge vllm:cache_config_info, a \
fraction from 0 to 1.";
    // Fed by the series of the families of this endpoint kind that the catalogue does not know
    // (sources/openmetrics/kinds.rs).
    "llm.vllm.other.value" from [],
        CLUSTER_OTHER, 0, Double, Instant, Units::NONE, &OTHER,
        "value of a vLLM series the agent does not know",
        "The latest value of every series of a vllm:* Prometheus family that is not in the \
agent's catalogue (a newer vLLM), so nothing is lost; the instance name is the series as \
exposed. Counters appear here as their raw value (the instance label type says counter); \
no units, no rate conversion.";
}

#[cfg(test)]
mod tests {
    use crate::catalogue::metrics;

    /// Every scraped metric names the Prometheus family it comes from in its help text, and
    /// pmlogconf groups of scraped sources only enable themselves when there are values.
    #[test]
    fn help_names_the_prometheus_family() {
        for m in metrics() {
            let family = if m.name.starts_with("llm.vllm.") {
                "vllm:"
            } else if m.name.starts_with("llm.lmcache.") {
                "lmcache:"
            } else if m.name.starts_with("llm.epp.") {
                "inference_"
            } else {
                continue;
            };
            assert!(
                m.help.contains(family),
                "{}: help does not name its Prometheus family",
                m.name
            );
        }
        for g in crate::catalogue::groups() {
            if g.file != "agent"
                && g.metrics.iter().all(|p| {
                    p.starts_with("llm.vllm")
                        || p.starts_with("llm.lmcache")
                        || p.starts_with("llm.epp")
                })
            {
                assert_eq!(g.probe_kind, "values", "{}", g.file);
                assert!(
                    crate::catalogue::find(g.probe).is_some(),
                    "{}: probe is not a leaf",
                    g.file
                );
            }
        }
    }
}
