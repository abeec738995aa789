//! pmdallm's agent, everything behind the PCP layer: the metric catalogue (every name, PMID,
//! type, unit and help text, from which pmns, help, pmlogconf and man tables are generated),
//! one module per source (each samples off the PCP thread and publishes snapshots), and the
//! snapshot store that answers pmcd's requests through the `pcp::pmda::Agent` trait.
//! See docs/ARCHITECTURE.md for the layers and how to add a source.
#![forbid(unsafe_code)]

pub mod answer;
pub mod catalogue;
pub mod config;
mod fast_hash;
pub mod files;
pub mod plan;
pub mod single_instance;
pub mod sources;
pub mod store;

pub use plan::{Planned, Running, config_status, plan, sources_for};
