//! The discovery source: on its own schedule it asks the configured finders (`local`,
//! `kubernetes`) which vLLM endpoints exist now, and hands the list to the agent in its
//! snapshot ([`Snapshot::discovered`]). The agent then starts, keeps or stops one endpoint
//! source per endpoint (`plan.rs`), named stably by the finder, so a pod that comes back keeps
//! its instances. Its own health is the `discovery` instance of `llm.agent.source.*`: a
//! failed listing (an API server answering 401, a timeout) is an error there, and the endpoints
//! found last stay as they were until a listing succeeds again.

use super::config::DiscoveryConfig;
use super::{Endpoint, kubernetes, local};
use crate::sources::scheduler::Scheduled;
use crate::sources::{Snapshot, Source, SourceError};
use std::path::PathBuf;
use std::time::Duration;

/// Instance name of the source in `llm.agent.source.*`.
pub const NAME: &str = "discovery";

/// The Kubernetes side: what to list, and the client and runtime to list it with.
struct Cluster {
    config: kubernetes::Config,
    token_file: PathBuf,
    ca_file: Option<PathBuf>,
    client: Option<reqwest::Client>,
    runtime: Option<tokio::runtime::Runtime>,
}

pub struct DiscoverySource {
    interval: Duration,
    proc_root: Option<PathBuf>,
    cluster: Option<Cluster>,
}

impl DiscoverySource {
    pub fn new(cfg: &DiscoveryConfig) -> DiscoverySource {
        let cluster = cfg.kubernetes.then(|| Cluster {
            config: kubernetes::Config {
                api: cfg.api.clone(),
                node: cfg.node_name(),
                token: String::new(),
                selector: (!cfg.selector.is_empty()).then(|| cfg.selector.clone()),
                timeout: cfg.timeout.0,
            },
            token_file: cfg.token_file.clone(),
            ca_file: cfg.ca_file.clone().filter(|p| p.exists()),
            client: None,
            runtime: None,
        });
        DiscoverySource {
            interval: cfg.interval.0,
            proc_root: cfg.local.then(|| cfg.proc.clone()),
            cluster,
        }
    }

    pub fn scheduled(cfg: &DiscoveryConfig) -> Scheduled {
        Scheduled::new(Box::new(DiscoverySource::new(cfg)))
    }
}

impl Cluster {
    /// This node's pods' endpoints. The token is read at every listing (service-account
    /// tokens rotate) and goes only into the Authorization header.
    fn list(&mut self) -> Result<Vec<Endpoint>, String> {
        if self.config.node.is_empty() {
            return Err(
                "no node name: set node in [discovery] or NODE_NAME (the Downward API's spec.nodeName)"
                    .into(),
            );
        }
        let token = std::fs::read_to_string(&self.token_file)
            .map_err(|e| format!("token file {}: {e}", self.token_file.display()))?;
        self.config.token = token.trim().to_string();
        if self.client.is_none() {
            self.client = Some(client(self.ca_file.as_deref())?);
        }
        if self.runtime.is_none() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the discovery runtime: {e}"))?;
            self.runtime = Some(rt);
        }
        let (Some(rt), Some(client)) = (&self.runtime, &self.client) else {
            unreachable!("both set above")
        };
        let found = rt.block_on(kubernetes::list(client, &self.config));
        self.config.token.clear();
        found
    }
}

/// The API server's client: the system's CAs and the service account's `ca.crt`.
fn client(ca_file: Option<&std::path::Path>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder().no_proxy();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

impl Source for DiscoverySource {
    fn name(&self) -> &str {
        NAME
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn sample(&mut self) -> Result<Snapshot, SourceError> {
        let mut found: Vec<Endpoint> = Vec::new();
        if let Some(root) = &self.proc_root {
            found.extend(local::discover(root));
        }
        if let Some(cluster) = &mut self.cluster {
            found.extend(cluster.list().map_err(SourceError)?);
        }
        found.sort();
        found.dedup_by(|a, b| a.name == b.name);
        Ok(Snapshot {
            discovered: Some(found),
            ..Snapshot::default()
        })
    }
}
