//! pcp-pmda-llm: a Performance Co-Pilot agent (`pmdallm`) for hosts that serve and benchmark
//! large language models, and an importer (`guidellm2pcp`) for GuideLLM result files.
//!
//! Layout: [`pcp`] is the only module with `unsafe` (PCP's C libraries); [`catalogue`] declares
//! every metric; [`sources`] holds one module per data source; [`agent`] ties them together.
#![deny(unsafe_code)]

pub mod agent;
pub mod catalogue;
pub mod compare;
pub mod guidellm;
pub mod pcp;
pub mod runcmd;
pub mod sources;
