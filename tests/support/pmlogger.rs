//! A private pmcd (PCP's linux agent only) and a real pmlogger for the importer's merge tests.

use super::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A private pmcd with the linux agent, stopped on drop.
pub struct Pmcd {
    pub dir: PathBuf,
    pub port: u16,
}

impl Pmcd {
    pub fn start(dir: &Path) -> Pmcd {
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

/// Run pmlogger against `pmcd` with `config` for `samples` records; returns the archive base
/// (`dir/logger`).
pub fn pmlogger(pmcd: &Pmcd, dir: &TempDir, config: &Path, samples: u32) -> String {
    let base = dir.path("logger").to_string_lossy().into_owned();
    let out = Command::new("pmlogger")
        .arg("-h")
        .arg(format!("127.0.0.1:{}", pmcd.port))
        .arg("-c")
        .arg(config)
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
pub fn archive_host(base: &str) -> String {
    let label = tool("pmdumplog", &["-L", base]);
    label
        .lines()
        .find_map(|l| l.trim().strip_prefix("Performance metrics from host "))
        .unwrap_or_else(|| panic!("no host in {label}"))
        .trim()
        .to_string()
}

/// First and last record times of an archive (Unix seconds), from PCP's Python API.
pub fn window(base: &str) -> (f64, f64) {
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
pub fn shifted_fixture(dir: &TempDir, start: f64) -> PathBuf {
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
