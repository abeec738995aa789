//! The agent: configuration, the snapshot store and start-up (which sources to run).

pub mod config;
pub mod single_instance;
pub mod store;

use crate::sources::openmetrics::Endpoint;
use crate::sources::scheduler::Scheduled;
use config::Config;

/// The sources to run for a configuration. Each source module adds its own here.
pub fn sources_for(config: &Config) -> Vec<Scheduled> {
    let mut sources = Vec::new();
    if config.gpu.enabled {
        sources.push(crate::sources::gpu::GpuSource::scheduled(
            config.gpu.interval.0,
            config.gpu.library.clone(),
        ));
    }
    if config.membw.enabled {
        sources.push(crate::sources::membw::MembwSource::scheduled(&config.membw));
    }
    // Prometheus endpoints: one source each, retried at their normal interval (back-off 1) so
    // the first sample after an endpoint comes up is never delayed.
    for ep in config.vllm.iter().chain(&config.lmcache).chain(&config.epp) {
        sources.push(Scheduled::new(Box::new(Endpoint::new(ep))));
    }
    sources
}
