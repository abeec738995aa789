//! Archives written by guidellm2pcp pass PCP's own integrity checks: `pmlogcheck` on the
//! import of every fixture (archive versions 2 and 3), every value read back by `pmdumplog`,
//! and `pcp2arrow` where it is installed.

mod util;

use std::process::Command;
use util::*;

/// Every GuideLLM fixture shipped in tests/fixtures/guidellm (.json and .json.zst).
fn all_fixtures() -> Vec<std::path::PathBuf> {
    let dir = guidellm("");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".json") || n.ends_with(".json.zst")
        })
        .collect();
    v.sort();
    assert!(v.len() >= 5, "fixtures missing in {}: {v:?}", dir.display());
    v
}

fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

/// `pmlogcheck ARCHIVE`: no complaint, exit status 0.
fn pmlogcheck(base: &str) {
    let out = Command::new("pmlogcheck").arg(base).output().unwrap();
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success() && said.trim().is_empty(),
        "pmlogcheck {base}: {:?}\n{said}",
        out.status
    );
}

#[test]
fn every_fixture_import_passes_pmlogcheck() {
    let dir = TempDir::new("check");
    let mut checked = 0;
    for f in all_fixtures() {
        let stem = f.file_name().unwrap().to_string_lossy().replace('.', "_");
        for version in ["2", "3"] {
            let name = format!("{stem}-v{version}");
            let base = import(&dir, &name, &[&f], &["-V", version]);
            pmlogcheck(&base);
            // every record decodes: pmdumplog reads all values (it stops at a corrupt record)
            let dump = tool("pmdumplog", &["-a", &base]);
            assert!(!dump.contains("Corrupted"), "{name}: {dump:.2000}");
            assert!(dump.contains("guidellm.warnings") || !stem.starts_with("v0_8"));
            checked += 1;
        }
    }
    assert!(checked >= 10);
}

/// Several runs in one archive, with marks: still consistent.
#[test]
fn merged_runs_pass_pmlogcheck() {
    let dir = TempDir::new("check-multi");
    let files = all_fixtures();
    let refs: Vec<&std::path::Path> = files
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".json"))
        .map(|p| p.as_path())
        .collect();
    let base = import(&dir, "all", &refs, &["-i", "500ms"]);
    pmlogcheck(&base);
}

/// PCP's pcp2arrow (PCP 6.2+) converts the archive: every metric and row. Skipped, with the
/// reason printed, where it is not installed (Debian's PCP 6.0.3 has no pcp2arrow).
#[test]
fn pcp2arrow_converts_where_installed() {
    if !on_path("pcp2arrow") {
        eprintln!("SKIPPED pcp2arrow_converts_where_installed: pcp2arrow is not installed here");
        return;
    }
    let dir = TempDir::new("arrow");
    let base = import(
        &dir,
        "a",
        &[&guidellm("v0.8.1-prefix-multiturn-concurrent-2-4.json")],
        &[],
    );
    let out_file = dir.join("a.parquet");
    let out = Command::new("pcp2arrow")
        .env("PCP_PYTHON_PROG", "/usr/bin/python3")
        .args(["-a", &base, "-o", out_file.to_str().unwrap(), "guidellm"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pcp2arrow: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let size = std::fs::metadata(&out_file).map(|m| m.len()).unwrap_or(0);
    assert!(size > 0, "pcp2arrow wrote nothing");
}
