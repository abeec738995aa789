//! Reading an archive back: every value (PCP's Python API), its time window and host, and the
//! times `pmdumplog` prints.

use super::{repo, tool};
use std::collections::BTreeMap;
use std::process::Command;

/// Every value of an archive: (time, metric, instance name, value text) rows, and the times
/// of its `<mark>` records.
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

/// Every value in the archive, exactly (via tests/util/archive-values.py and PCP's Python API).
pub fn values(archive: &str) -> Values {
    let script = repo().join("tests/util/archive-values.py");
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

/// Seconds since midnight of a time as `pmdumplog` prints it (HH:MM:SS.ffffff).
pub fn seconds_of_day(ts: &str) -> Option<f64> {
    let mut it = ts.split(':');
    let h: f64 = it.next()?.parse().ok()?;
    let m: f64 = it.next()?.parse().ok()?;
    let s: f64 = it.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// Seconds since midnight now, as `pmdumplog` of a live recording would print it.
pub fn now_of_day() -> f64 {
    let out = Command::new("date").arg("+%H:%M:%S.%N").output().unwrap();
    seconds_of_day(String::from_utf8_lossy(&out.stdout).trim()).unwrap()
}
