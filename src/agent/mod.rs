//! The agent: configuration, the snapshot store and start-up (which sources to run).

pub mod config;
pub mod single_instance;
pub mod store;

use crate::sources::scheduler::Scheduled;
use config::Config;

/// The sources to run for a configuration. Each source module adds its own here.
pub fn sources_for(_config: &Config) -> Vec<Scheduled> {
    Vec::new()
}
