//! `[bench]` and `[[progress]]` in llm.conf: the spool source and the followed GuideLLM logs.

use super::guidellm;
use crate::config::types::Interval;
use llm_spool::DEFAULT_SPOOL;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[bench]`: the spool source.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BenchConfig {
    pub enabled: bool,
    /// The spool directory.
    pub spool: PathBuf,
    pub interval: Interval,
    /// A run file not modified for this long is forgotten (its instance disappears).
    pub expire: Interval,
    /// A running run whose file was not modified for this long is taken as failed (its
    /// writer went away without recording an end).
    pub stale_after: Interval,
    /// Most run files followed at once (the most recently modified ones).
    pub max_runs: usize,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            enabled: true,
            spool: PathBuf::from(DEFAULT_SPOOL),
            interval: Interval(Duration::from_secs(1)),
            expire: Interval(Duration::from_secs(600)),
            stale_after: Interval(Duration::from_secs(120)),
            max_runs: 64,
        }
    }
}

pub const BENCH_KEYS: &[&str] = &[
    "enabled",
    "spool",
    "interval",
    "expire",
    "stale_after",
    "max_runs",
];

/// `[[progress]]`: one followed GuideLLM log.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FollowConfig {
    /// Instance name of the run (no '/', so never the name of a spool run).
    pub name: String,
    pub path: PathBuf,
    /// `guidellm-jsonl` or `guidellm-stderr`; guessed from the first line when absent.
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default = "one_second")]
    pub interval: Interval,
    #[serde(skip)]
    pub line: usize,
}

pub const FOLLOW_KEYS: &[&str] = &["name", "path", "format", "interval"];

fn one_second() -> Interval {
    Interval(Duration::from_secs(1))
}

impl FollowConfig {
    /// What is wrong with the section, if anything.
    pub fn check(&self) -> Result<(), String> {
        if self.name.is_empty() || self.name.len() > 64 || self.name.contains(['/', ' ', '"']) {
            return Err(format!(
                "name \"{}\" must be 1 to 64 bytes, without '/', '\"' or spaces",
                self.name
            ));
        }
        if let Some(f) = &self.format
            && guidellm::Format::parse(f).is_none()
        {
            return Err(format!(
                "format \"{f}\" is not guidellm-jsonl or guidellm-stderr"
            ));
        }
        if !self.path.is_absolute() {
            return Err(format!("path \"{}\" is not absolute", self.path.display()));
        }
        Ok(())
    }
}
