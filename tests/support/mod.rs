//! Shared helpers for tests/importer_*.rs: temp dirs, running the importer and PCP tools.
#![allow(dead_code)]

pub mod pmlogger;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_guidellm2pcp");

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/guidellm")
        .join(name)
}

/// A unique temp directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "gl2pcp-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run_importer(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run guidellm2pcp")
}

pub fn run_importer_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut c = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input).unwrap();
    c.wait_with_output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Run a PCP tool; panic with its output unless it succeeds.
pub fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .env("PCP_PYTHON_PROG", "/usr/bin/python3")
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Import `inputs` into `dir/name`; panic unless it succeeds. Returns the archive base path.
pub fn import(dir: &TempDir, name: &str, inputs: &[&Path], extra: &[&str]) -> String {
    let base = dir.path(name).to_string_lossy().into_owned();
    let mut args: Vec<String> = inputs
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    args.push("-o".into());
    args.push(base.clone());
    args.extend(extra.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_importer(&a);
    assert!(
        out.status.success(),
        "import failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    base
}

/// One archived value: (time, metric, instance name) -> value text.
pub struct Values {
    pub rows: Vec<(f64, String, String, String)>,
    pub marks: Vec<f64>,
}

impl Values {
    /// Distinct values of metric for instance.
    pub fn of(&self, metric: &str, inst: &str) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| r.1 == metric && r.2 == inst)
            .map(|r| r.3.as_str())
            .collect();
        v.dedup();
        v
    }
    /// instance name -> value of a string/summary metric (the last value).
    pub fn by_inst(&self, metric: &str) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for r in self.rows.iter().filter(|r| r.1 == metric) {
            m.insert(r.2.clone(), r.3.clone());
        }
        m
    }
}

/// Every value in the archive, exactly (via tests/support/archive-values.py and PCP's Python API).
pub fn values(archive: &str) -> Values {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/archive-values.py");
    let out = tool("/usr/bin/python3", &[script.to_str().unwrap(), archive]);
    let mut rows = Vec::new();
    let mut marks = Vec::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let t: f64 = f[0].parse().unwrap();
        if f.len() == 2 {
            marks.push(t);
        } else {
            rows.push((t, f[1].to_string(), f[2].to_string(), f[3].to_string()));
        }
    }
    Values { rows, marks }
}
