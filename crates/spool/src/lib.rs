//! The benchmark-run spool: `pcp llm run` writes one `RUN_ID.jsonl` file per run into it and
//! pmdallm's progress source follows it. What both sides must agree on lives here: where the
//! spool is, what a run file is called, and which labels the agent sets itself.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

/// The spool directory when llm.conf names none (and `pcp llm run` without `--spool` or
/// `PCP_LLM_SPOOL`).
pub const DEFAULT_SPOOL: &str = "/var/tmp/pcp-llm";

/// Label names the agent sets itself; a run's own labels cannot replace them.
pub const RESERVED_LABELS: &[&str] = &["tool", "tool_version", "target", "model", "user", "run"];

/// Where `pcp llm run` writes: `--spool`, else `$PCP_LLM_SPOOL`, else the default.
pub fn spool_dir(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("PCP_LLM_SPOOL").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SPOOL))
}

/// A spool file name: `RUN_ID.jsonl`, RUN_ID of letters, digits, '.', '_', '-' (≤ 128 bytes).
pub fn run_id_of(file_name: &str) -> Option<&str> {
    let id = file_name.strip_suffix(".jsonl")?;
    let ok = !id.is_empty()
        && id.len() <= 128
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids() {
        assert_eq!(
            run_id_of("20261202T023000Z-123.jsonl"),
            Some("20261202T023000Z-123")
        );
        assert_eq!(run_id_of(".x.jsonl"), None);
        assert_eq!(run_id_of("a/b.jsonl"), None);
        assert_eq!(run_id_of("a.json"), None);
        assert_eq!(run_id_of(&format!("{}.jsonl", "a".repeat(129))), None);
    }
}
