//! `[[vllm]]`, `[[lmcache]]`, `[[epp]]` in llm.conf (one section per endpoint, named after its
//! kind in `kinds.rs`): the configuration of one Prometheus endpoint.

use super::kinds::{self, EndpointKind};
use crate::config::types::{Interval, Limits};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The keys an endpoint's section may have (unknown keys are reported with this list).
pub const KEYS: &[&str] = &[
    "name",
    "url",
    "interval",
    "timeout",
    "token_file",
    "ca_file",
    "max_new_names_per_scrape",
    "max_names",
    "max_name_length",
    "max_label_length",
    "max_instance_length",
    "retained_body_bytes",
    "labels",
];

/// `[[vllm]]`, `[[lmcache]]`, `[[epp]]`: one Prometheus endpoint each.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct EndpointConfig {
    /// Instance name prefix, stable across restarts (e.g. "vllm0").
    pub name: String,
    pub url: String,
    #[serde(default = "default_interval")]
    pub interval: Interval,
    #[serde(default = "default_timeout")]
    pub timeout: Interval,
    /// File holding a bearer token (llm-d EPP); its contents are never logged.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// PEM file of CA certificates to trust for an `https://` url, besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Labels every instance of the endpoint carries besides its own (`labels = { cluster =
    /// "a" }`; a discovered pod's `namespace`, `pod`, `container`, `model_name`). A label the
    /// endpoint's series carry themselves keeps the series' value.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Bounds on what the endpoint controls (see [`Limits`]).
    #[serde(flatten)]
    pub limits: Limits,
    /// Line of the section's header in the file (0 for built-in defaults).
    #[serde(skip)]
    pub line: usize,
}

fn default_interval() -> Interval {
    Interval(Duration::from_secs(1))
}
fn default_timeout() -> Interval {
    Interval(Duration::from_millis(800))
}

impl EndpointConfig {
    /// An endpoint with every setting but its name and url at its default.
    pub fn new(name: &str, url: &str) -> Self {
        EndpointConfig {
            name: name.into(),
            url: url.into(),
            interval: default_interval(),
            timeout: default_timeout(),
            token_file: None,
            ca_file: None,
            labels: BTreeMap::new(),
            limits: Limits::default(),
            line: 0,
        }
    }

    /// The endpoint watched when llm.conf names none: a local vLLM on its default port.
    pub fn default_vllm() -> Self {
        let (name, url) = kinds::VLLM.defaults[0];
        EndpointConfig::new(name, url)
    }

    /// The endpoints of `kind` watched when llm.conf has no section of that kind.
    pub fn defaults(kind: &EndpointKind) -> Vec<EndpointConfig> {
        kind.defaults
            .iter()
            .map(|(name, url)| EndpointConfig::new(name, url))
            .collect()
    }
}

/// A URL the agent can scrape: http(s), a host, and a port (if any) in 1..=65535.
pub fn check_url(url: &str) -> Result<(), String> {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return Err("must start with http:// or https://".into());
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split_once(']').map(|(_, p)| p).unwrap_or("")
    } else {
        hostport.rsplit_once(':').map_or("", |(_, p)| p)
    };
    let host_empty = hostport.is_empty() || hostport.starts_with(':');
    if host_empty {
        return Err("has no host".into());
    }
    if let Some(p) = port
        .strip_prefix(':')
        .or(Some(port))
        .filter(|p| !p.is_empty())
    {
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => {}
            _ => return Err(format!("has port {p}, not a number from 1 to 65535")),
        }
    }
    Ok(())
}
