//! The text PCP's tools print: `pminfo -f` values and `pmrep -o csv` tables.

use std::collections::BTreeMap;

/// Parses `pminfo -f` output for one metric into (instance, value) pairs.
pub fn parse_pminfo_values(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("inst [") {
            // inst [0 or "gpu0"] value 42
            if let Some(q1) = rest.find(" or \"") {
                let after = &rest[q1 + 5..];
                if let Some(q2) = after.find("\"] value ") {
                    out.push((after[..q2].to_string(), after[q2 + 9..].to_string()));
                }
            }
        } else if let Some(v) = l.strip_prefix("value ") {
            out.push((String::new(), v.to_string()));
        }
    }
    out
}

/// Parses `pminfo -f` output of several metrics: metric -> instance name -> value text, with
/// the quotes of string values removed.
pub fn parse_pminfo(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            current = line.trim().to_string();
            out.entry(current.clone()).or_default();
            continue;
        }
        for (inst, v) in parse_pminfo_values(line) {
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(&v);
            out.entry(current.clone())
                .or_default()
                .insert(inst, v.to_string());
        }
    }
    out
}

/// `pmrep -o csv` output, split into the header's column names and the rows' fields (each
/// unquoted). Column names spell an instance `metric-inst` on PCP 6 and `metric[inst]` on
/// PCP 7; [`PmrepCsv::column`] accepts both.
pub struct PmrepCsv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl PmrepCsv {
    pub fn parse(text: &str) -> PmrepCsv {
        let split = |l: &str| -> Vec<String> {
            l.split(',')
                .map(|f| f.trim().trim_matches('"').to_string())
                .collect()
        };
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines.next().map(split).unwrap_or_default();
        let rows = lines.map(split).collect();
        PmrepCsv { header, rows }
    }

    /// The index of the column of `metric`'s instance `inst`, in either spelling.
    pub fn column(&self, metric: &str, inst: &str) -> Option<usize> {
        let (dash, bracket) = (format!("{metric}-{inst}"), format!("{metric}[{inst}]"));
        self.header.iter().position(|h| *h == dash || *h == bracket)
    }

    /// The number in `row` at `metric`'s instance `inst`, if the row has one there.
    pub fn value(&self, row: &[String], metric: &str, inst: &str) -> Option<f64> {
        row.get(self.column(metric, inst)?)?.parse().ok()
    }
}
