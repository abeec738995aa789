//! Endpoint discovery (`[discovery]` in llm.conf): where the vLLM servers of this host are,
//! without URLs in the configuration. `local` finds `vllm serve` processes through /proc;
//! `kubernetes` lists the pods of this node from the API server; `source` runs them on their
//! own schedule and hands the list to the agent, which runs one endpoint source per endpoint
//! (`plan.rs`).
//!
//! Discovery only answers "which endpoints are there now"; each endpoint is named stably (from
//! what identifies it across restarts, not from a pid) so that the sources built from them keep
//! their instance names when a server restarts.

pub mod config;
pub mod kubernetes;
pub mod local;
pub mod source;

use std::collections::BTreeMap;

/// One discovered endpoint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    /// Stable source name, e.g. `local-8000`.
    pub name: String,
    /// The /metrics URL to scrape.
    pub url: String,
    /// Labels for the source's instances (`model_name`, ...).
    pub labels: BTreeMap<String, String>,
}
