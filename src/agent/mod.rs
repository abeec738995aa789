//! The agent: configuration, the snapshot store and start-up (which sources to run).

pub mod config;
pub mod single_instance;
pub mod store;

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
    sources
}
