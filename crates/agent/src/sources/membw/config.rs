//! `[membw]` in llm.conf: the memory and PCIe bandwidth source.

use crate::config::types::Interval;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The keys `[membw]` may have (unknown keys are reported with this list).
pub const KEYS: &[&str] = &["enabled", "interval", "sysfs", "procfs"];

/// `[membw]`: `enabled`, `interval`, and the roots of sysfs and procfs (tests point them at
/// trees of their own).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MembwConfig {
    pub enabled: bool,
    pub interval: Interval,
    /// Root of sysfs (default `/sys`): PMUs, CPU topology, PCI devices, resctrl.
    pub sysfs: PathBuf,
    /// Root of procfs (default `/proc`): the NVIDIA driver's GPU uuids, and `cpuinfo` for the
    /// few processors whose events the kernel may not name.
    pub procfs: PathBuf,
}

impl Default for MembwConfig {
    fn default() -> Self {
        MembwConfig {
            enabled: true,
            interval: Interval(Duration::from_secs(1)),
            sysfs: PathBuf::from("/sys"),
            procfs: PathBuf::from("/proc"),
        }
    }
}
