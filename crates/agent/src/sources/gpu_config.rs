//! `[gpu]` in llm.conf: the NVML source's configuration (the source is `gpu.rs`).

use crate::config::types::Interval;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The keys `[gpu]` may have (unknown keys are reported with this list).
pub const KEYS: &[&str] = &["enabled", "interval", "library"];

/// `[gpu]`: the NVML source.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GpuConfig {
    pub enabled: bool,
    pub interval: Interval,
    /// Path of libnvidia-ml.so to load instead of the system one.
    pub library: Option<PathBuf>,
}

impl Default for GpuConfig {
    fn default() -> Self {
        GpuConfig {
            enabled: true,
            interval: Interval(Duration::from_secs(1)),
            library: None,
        }
    }
}
