//! Endpoint discovery: where the vLLM servers of this host are, without URLs in the
//! configuration. `local` finds `vllm serve` processes through /proc; `kubernetes` lists the
//! pods of this node from the API server. (Neither is wired into the agent's configuration
//! yet: they are the listing half, tested on their own.)
//!
//! Discovery only answers "which endpoints are there now"; each endpoint is named stably (from
//! what identifies it across restarts, not from a pid) so that the sources built from them keep
//! their instance names when a server restarts.

pub mod kubernetes;
pub mod local;

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
