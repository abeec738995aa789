//! Merging an import with a real pmlogger archive (a private pmcd with PCP's linux agent, and
//! pmlogger run by the test): the import names the host as pmlogger does, so pmlogextract
//! merges the two, and with `--merge-with` the merged archive's pmlogger columns are the same
//! as the pmlogger archive's at every time (no `<mark>` blanks them at the import's end or
//! between its benchmarks).

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A private pmcd with the linux agent, stopped on drop.
struct Pmcd {
    dir: PathBuf,
    port: u16,
}

impl Pmcd {
    fn start(dir: &Path) -> Pmcd {
        let dir = dir.join("pmcd");
        let mut last = String::new();
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let out = Command::new("bash")
                .arg(repo().join("tests/private-pmcd.sh"))
                .arg("start")
                .arg(&dir)
                .arg(port.to_string())
                .args(["--pmns-file", "/var/lib/pcp/pmns/root_linux", "--agent"])
                .arg("linux 60 dso linux_init /var/lib/pcp/pmdas/linux/pmda_linux.so")
                .output()
                .unwrap();
            if out.status.success() {
                return Pmcd { dir, port };
            }
            last = format!("{}{}", text(&out.stdout), text(&out.stderr));
        }
        panic!("private pmcd did not start: {last}");
    }
}

impl Drop for Pmcd {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo().join("tests/private-pmcd.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

/// Run pmlogger against `pmcd` for `samples` records at 500 ms; returns the archive base.
fn pmlogger(pmcd: &Pmcd, dir: &TempDir, samples: u32) -> String {
    let config = dir.path("logger.config");
    std::fs::write(
        &config,
        "log mandatory on 500 msec {\n    kernel.all.load\n    kernel.all.cpu.user\n    kernel.all.pswitch\n}\n",
    )
    .unwrap();
    let base = dir.path("logger").to_string_lossy().into_owned();
    let out = Command::new("pmlogger")
        .arg("-h")
        .arg(format!("127.0.0.1:{}", pmcd.port))
        .arg("-c")
        .arg(&config)
        .args(["-s", &samples.to_string(), "-l"])
        .arg(dir.path("pmlogger.log"))
        .arg(&base)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pmlogger: {}{}",
        text(&out.stderr),
        std::fs::read_to_string(dir.path("pmlogger.log")).unwrap_or_default()
    );
    base
}

/// The archive's host (`pmdumplog -L`: "Performance metrics from host NAME").
fn archive_host(base: &str) -> String {
    let label = tool("pmdumplog", &["-L", base]);
    label
        .lines()
        .find_map(|l| l.trim().strip_prefix("Performance metrics from host "))
        .unwrap_or_else(|| panic!("no host in {label}"))
        .trim()
        .to_string()
}

/// First and last record times of an archive (Unix seconds), from PCP's Python API.
fn window(base: &str) -> (f64, f64) {
    let v = tool(
        "/usr/bin/python3",
        &[
            "-c",
            "import sys\nfrom pcp import pmapi\nimport cpmapi as c\nx=pmapi.pmContext(c.PM_CONTEXT_ARCHIVE, sys.argv[1])\nl=x.pmGetArchiveLabel()\ne=x.pmGetArchiveEnd()\nprint(float(l.start), float(e))",
            base,
        ],
    );
    let f: Vec<f64> = v.split_whitespace().map(|x| x.parse().unwrap()).collect();
    (f[0], f[1])
}

/// The 0.4 hand-made fixture (two benchmarks, 5 s in all) moved to start at `start`.
fn shifted_fixture(dir: &TempDir, start: f64) -> PathBuf {
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(fixture("v0.4-handmade.json")).unwrap()).unwrap();
    let first = doc["benchmarks"][0]["start_time"].as_f64().unwrap();
    let delta = (start - first).round();
    fn shift(v: &mut Value, d: f64) {
        match v {
            Value::Object(m) => m.values_mut().for_each(|x| shift(x, d)),
            Value::Array(a) => a.iter_mut().for_each(|x| shift(x, d)),
            Value::Number(n) if n.as_f64().is_some_and(|x| x > 1e9) => {
                *v = serde_json::json!(n.as_f64().unwrap() + d)
            }
            _ => {}
        }
    }
    shift(&mut doc, delta);
    let p = dir.path("shifted.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    p
}

/// pmrep's view of the pmlogger columns, every 100 ms over the archive's window (counters
/// rate-converted, as users read them; an unknown value shows as N/A).
fn live_columns(archive: &str) -> String {
    tool(
        "pmrep",
        &[
            "-a",
            archive,
            "-z",
            "-o",
            "csv",
            "-t",
            "0.1",
            "kernel.all.load",
            "kernel.all.cpu.user",
            "kernel.all.pswitch",
        ],
    )
}

#[test]
fn import_merges_with_pmlogger_and_keeps_its_columns() {
    let dir = TempDir::new("merge-logger");
    let pmcd = Pmcd::start(&dir.0);
    let logger = pmlogger(&pmcd, &dir, 24);
    drop(pmcd);
    let (start, end) = window(&logger);
    assert!(end - start > 10.0, "pmlogger ran {:.1} s", end - start);
    let input = shifted_fixture(&dir, start + 3.0);

    // 3. the default host is the one pmlogger recorded: pmlogextract merges the two as they are
    let plain = import(&dir, "plain", &[&input], &[]);
    assert_eq!(archive_host(&plain), archive_host(&logger));
    let merged_plain = dir.path("merged-plain").to_string_lossy().into_owned();
    let out = Command::new("pmlogextract")
        .args([&logger, &plain, &merged_plain])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pmlogextract: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        !text(&out.stderr).contains("mismatch"),
        "{}",
        text(&out.stderr)
    );
    // no mark between the two benchmarks of the run (only pmlogextract's own at its end)
    assert_eq!(values(&plain).marks, Vec::<f64>::new());

    // 2. --merge-with: the merged archive's pmlogger columns equal the pmlogger archive's
    let imp = import(&dir, "imp", &[&input], &["--merge-with", &logger]);
    let merged = dir.path("merged").to_string_lossy().into_owned();
    tool("pmlogextract", &[&logger, &imp, &merged]);
    let m = values(&merged);
    assert_eq!(m.marks, Vec::<f64>::new(), "marks in the merged archive");
    assert_eq!(
        m.rows,
        values(&imp).rows,
        "GuideLLM values changed by the merge"
    );
    let want = live_columns(&logger);
    let got = live_columns(&merged);
    assert!(want.lines().count() > 90, "{want}");
    assert!(!want.contains("N/A") || want.lines().skip(2).all(|l| !l.contains("N/A")));
    if want != got {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("pmlogger: {a}\nmerged:   {b}"))
            .collect();
        panic!("merged columns differ:\n{}", diff.join("\n"));
    }
    for base in [&imp, &merged] {
        let out = Command::new("pmlogcheck").arg(base).output().unwrap();
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "pmlogcheck {base}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

/// --merge-with on an archive that is not there: one line naming it, no archive written.
#[test]
fn merge_with_names_an_archive_that_exists() {
    let dir = TempDir::new("merge-missing");
    let missing = dir.path("nothing-here").to_string_lossy().into_owned();
    let base = dir.path("a").to_string_lossy().into_owned();
    let out = run_importer(&[
        fixture("v0.4-handmade.json").to_str().unwrap(),
        "-o",
        &base,
        "--merge-with",
        &missing,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(
        e.starts_with(&format!("guidellm2pcp: {missing}: cannot open archive")),
        "{e}"
    );
    assert_eq!(dir.files(), Vec::<String>::new());
}
