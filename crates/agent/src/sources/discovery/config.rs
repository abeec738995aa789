//! `[discovery]` in llm.conf: which finders run, how often, and what the endpoints they find
//! are scraped with.

use crate::config::types::Interval;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The keys `[discovery]` may have (unknown keys are reported with this list).
pub const KEYS: &[&str] = &[
    "local",
    "kubernetes",
    "interval",
    "scrape_interval",
    "timeout",
    "proc",
    "api",
    "node",
    "selector",
    "token_file",
    "ca_file",
];

/// Where a pod's service-account credentials are mounted.
const SERVICE_ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// `[discovery]`: endpoint discovery. Off unless `local` or `kubernetes` is set.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DiscoveryConfig {
    /// `vllm serve` processes on this host (through `proc`).
    pub local: bool,
    /// vLLM pods scheduled on this node, listed from the API server.
    pub kubernetes: bool,
    /// How often to look again.
    pub interval: Interval,
    /// How often each discovered endpoint is scraped.
    pub scrape_interval: Interval,
    /// Timeout of one listing and of one scrape of a discovered endpoint.
    pub timeout: Interval,
    /// Root of procfs (default `/proc`; tests point it at a tree of their own).
    pub proc: PathBuf,
    /// The API server (default: the in-cluster service).
    pub api: String,
    /// This node's name; empty: `$NODE_NAME` (set it from the Downward API's spec.nodeName).
    pub node: String,
    /// Label selector of the pods to take besides those annotated `prometheus.io/scrape`.
    pub selector: String,
    /// The service-account token (read at every listing; never logged).
    pub token_file: PathBuf,
    /// CA certificates of the API server (the service account's `ca.crt`).
    pub ca_file: Option<PathBuf>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            local: false,
            kubernetes: false,
            interval: Interval(Duration::from_secs(10)),
            scrape_interval: Interval(Duration::from_secs(1)),
            timeout: Interval(Duration::from_secs(2)),
            proc: PathBuf::from("/proc"),
            api: "https://kubernetes.default.svc".into(),
            node: String::new(),
            selector: String::new(),
            token_file: PathBuf::from(format!("{SERVICE_ACCOUNT}/token")),
            ca_file: Some(PathBuf::from(format!("{SERVICE_ACCOUNT}/ca.crt"))),
        }
    }
}

impl DiscoveryConfig {
    /// Whether any finder is on.
    pub fn enabled(&self) -> bool {
        self.local || self.kubernetes
    }

    /// `node`, else `$NODE_NAME`.
    pub fn node_name(&self) -> String {
        if self.node.is_empty() {
            std::env::var("NODE_NAME").unwrap_or_default()
        } else {
            self.node.clone()
        }
    }
}
