//! Prometheus/OpenMetrics endpoints: vLLM, LMCache and llm-d EPP `/metrics`.
//!
//! * `parse.rs`: a zero-copy parser of the text format 0.0.4;
//! * `histogram.rs`: per-interval quantiles from bucket deltas.

pub mod histogram;
pub mod parse;
