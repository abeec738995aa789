//! The report: aligned text, markdown, CSV and JSON (schema in man/pcp-llm.1).

use super::model::{self, Finding, QUANTITIES};
use super::{Comparison, Input};
use serde_json::{Map, Value, json};
use std::fmt::Write;

fn fixed(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) => format!("{v:.decimals$}"),
        None => "-".into(),
    }
}

fn signed(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) => format!("{v:+.decimals$}"),
        None => "-".into(),
    }
}

fn percent(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{v:+.2}%"),
        None => "-".into(),
    }
}

/// A table: header and rows of cells.
struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn others(c: &Comparison) -> std::ops::Range<usize> {
    1..c.inputs.len()
}

/// The table of one quantity: rows by step, columns baseline then per OTHER value, difference
/// and % change (a `*` after the % change: inside BASELINE's confidence interval).
fn quantity_table(c: &Comparison, q: usize) -> Table {
    let qd = &QUANTITIES[q];
    let base = &c.inputs[0];
    let mut header = vec!["strategy".to_string(), base.name.clone()];
    for oi in others(c) {
        let n = &c.inputs[oi].name;
        if c.inputs.len() > 2 {
            header.extend([n.clone(), format!("diff {n}"), format!("% change {n}")]);
        } else {
            header.extend([n.clone(), "difference".into(), "% change".into()]);
        }
    }
    let mut rows = Vec::new();
    for r in &c.matching.rows {
        let b = &base.steps[r.base];
        let mut cells = vec![b.strategy.clone(), fixed(b.values[q], qd.decimals)];
        for (k, oi) in others(c).enumerate() {
            match r.others[k] {
                Some((j, kind)) => {
                    let o = &c.inputs[oi].steps[j];
                    let (d, p) = model::change(b.values[q], o.values[q]);
                    let mut v = fixed(o.values[q], qd.decimals);
                    if kind == model::MatchKind::Position {
                        v = format!("{v} ({})", o.strategy);
                    }
                    let mut pc = percent(p);
                    if model::inside_ci(b, o, q) == Some(true) {
                        pc.push('*');
                    }
                    cells.extend([v, signed(d, qd.decimals), pc]);
                }
                None => cells.extend(["-".into(), "-".into(), "-".into()]),
            }
        }
        rows.push(cells);
    }
    Table {
        title: qd.label.to_string(),
        header,
        rows,
    }
}

fn finding_cell(at: Option<(usize, Option<f64>)>) -> String {
    match at {
        Some((_, p)) => percent(p),
        None => "-".into(),
    }
}

fn findings_table(c: &Comparison, oi: usize, f: &[Finding]) -> Table {
    let row_name = |at: Option<(usize, Option<f64>)>| {
        at.map(|(k, _)| c.inputs[0].steps[c.matching.rows[k].base].strategy.clone())
            .unwrap_or_else(|| "-".into())
    };
    let lo = f.iter().find_map(|x| x.lowest).map(|(k, _)| (k, None));
    let hi = f.iter().find_map(|x| x.highest).map(|(k, _)| (k, None));
    let header = vec![
        "quantity".to_string(),
        "mean % change".into(),
        format!("lowest load ({})", row_name(lo)),
        format!("highest load ({})", row_name(hi)),
    ];
    let rows = c
        .shown
        .iter()
        .map(|&q| (&QUANTITIES[q], &f[q]))
        .map(|(q, x)| {
            vec![
                q.label.to_string(),
                percent(x.mean_pct),
                finding_cell(x.lowest),
                finding_cell(x.highest),
            ]
        })
        .collect();
    Table {
        title: format!(
            "Key findings: {} against {}",
            c.inputs[oi].name, c.inputs[0].name
        ),
        header,
        rows,
    }
}

fn describe(i: &Input) -> String {
    if i.shape == "archive" {
        return format!("{} = {} (PCP archive)", i.name, i.file);
    }
    let v = i
        .guidellm_version
        .as_ref()
        .map(|v| format!("GuideLLM {v}"))
        .unwrap_or_else(|| format!("GuideLLM {} report", i.shape));
    format!("{} = {} ({v})", i.name, i.file)
}

fn notes(c: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    let conf = c.inputs[0].steps.iter().find_map(|s| {
        s.ci.iter()
            .any(Option::is_some)
            .then_some(s.confidence)
            .flatten()
    });
    if c.inputs[0]
        .steps
        .iter()
        .any(|s| s.ci.iter().any(Option::is_some))
    {
        let level = conf.map(|c| format!("{}% ", c * 100.0)).unwrap_or_default();
        out.push(format!(
            "* the OTHER value is inside {}'s {level}confidence interval (GuideLLM >= 0.7)",
            c.inputs[0].name
        ));
    }
    if !c.omitted.is_empty() {
        if c.inputs.iter().any(|i| i.shape == "archive") {
            let labels: Vec<&str> = c.omitted.iter().map(|&q| QUANTITIES[q].label).collect();
            out.push(format!(
                "system columns omitted (no values in the time window of any step): {}",
                labels.join("; ")
            ));
        } else {
            out.push(
                "no system columns: GuideLLM result files hold no node metrics (compare archives merged with the node's pmlogger archive for them)"
                    .into(),
            );
        }
    }
    for (ii, si, why) in &c.matching.unmatched {
        let s = &c.inputs[*ii].steps[*si];
        out.push(format!(
            "unmatched: {}: {} (benchmarks[{}]): {why}",
            c.inputs[*ii].name, s.strategy, s.index
        ));
    }
    for w in &c.matching.warnings {
        out.push(format!("warning: {w}"));
    }
    out
}

fn tables(c: &Comparison) -> Vec<Table> {
    let mut t: Vec<Table> = c.shown.iter().map(|&q| quantity_table(c, q)).collect();
    for oi in others(c) {
        let f = model::findings(&steps(c), &c.matching, oi);
        t.push(findings_table(c, oi, &f));
    }
    t
}

/// The tables of the text report, for the HTML page: (header, rows), the quantities' in
/// `c.shown` order, then the key findings' per OTHER.
pub(super) fn tables_for_html(c: &Comparison) -> Vec<(Vec<String>, Vec<Vec<String>>)> {
    tables(c).into_iter().map(|t| (t.header, t.rows)).collect()
}

pub(super) fn notes_for_html(c: &Comparison) -> Vec<String> {
    notes(c)
}

fn steps(c: &Comparison) -> Vec<Vec<model::Step>> {
    c.inputs.iter().map(|i| i.steps.clone()).collect()
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Aligned text: one block per quantity, then the key findings and the notes.
pub fn text(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Baseline: {}", describe(&c.inputs[0]));
    for oi in others(c) {
        let _ = writeln!(out, "Other:    {}", describe(&c.inputs[oi]));
    }
    for t in tables(c) {
        let mut w: Vec<usize> = t.header.iter().map(|h| width(h)).collect();
        for r in &t.rows {
            for (k, cell) in r.iter().enumerate() {
                w[k] = w[k].max(width(cell));
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::from(" ");
            for (k, cell) in cells.iter().enumerate() {
                let pad = w[k] - width(cell);
                if k == 0 {
                    s.push(' ');
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str("  ");
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                }
            }
            s.trim_end().to_string()
        };
        let _ = writeln!(out, "\n{}", t.title);
        let _ = writeln!(out, "{}", line(&t.header));
        for r in &t.rows {
            let _ = writeln!(out, "{}", line(r));
        }
    }
    let n = notes(c);
    if !n.is_empty() {
        out.push('\n');
        for l in n {
            let _ = writeln!(out, "{l}");
        }
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Markdown: the same tables, as GitHub-flavoured pipe tables.
pub fn markdown(c: &Comparison) -> String {
    let mut out = String::from("# GuideLLM comparison\n\n");
    let _ = writeln!(out, "- Baseline: {}", md_cell(&describe(&c.inputs[0])));
    for oi in others(c) {
        let _ = writeln!(out, "- Other: {}", md_cell(&describe(&c.inputs[oi])));
    }
    for t in tables(c) {
        let _ = writeln!(out, "\n## {}\n", md_cell(&t.title));
        let row = |cells: &[String]| {
            format!(
                "| {} |",
                cells
                    .iter()
                    .map(|s| md_cell(s))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        };
        let _ = writeln!(out, "{}", row(&t.header));
        let align: Vec<String> = (0..t.header.len())
            .map(|k| if k == 0 { "---".into() } else { "---:".into() })
            .collect();
        let _ = writeln!(out, "| {} |", align.join(" | "));
        for r in &t.rows {
            let _ = writeln!(out, "{}", row(r));
        }
    }
    let n = notes(c);
    if !n.is_empty() {
        out.push_str("\n## Notes\n\n");
        for l in n {
            let _ = writeln!(out, "- {}", md_cell(&l));
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn full(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// CSV, one line per (quantity, step, OTHER) and per key finding, every number at full
/// precision (empty: no value).
pub const CSV_HEADER: &str = "row,quantity,unit,strategy,baseline,baseline_value,other,other_strategy,other_value,difference,pct_change,matched_by,inside_ci";

pub fn csv(c: &Comparison) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    let base = &c.inputs[0];
    let mut line = |cells: &[String]| {
        let l: Vec<String> = cells.iter().map(|s| csv_field(s)).collect();
        out.push_str(&l.join(","));
        out.push('\n');
    };
    for &q in &c.shown {
        let qd = &QUANTITIES[q];
        for r in &c.matching.rows {
            let b = &base.steps[r.base];
            for (k, oi) in others(c).enumerate() {
                let Some((j, kind)) = r.others[k] else {
                    continue;
                };
                let o = &c.inputs[oi].steps[j];
                let (d, p) = model::change(b.values[q], o.values[q]);
                line(&[
                    "step".into(),
                    qd.id.into(),
                    qd.unit.into(),
                    b.strategy.clone(),
                    base.name.clone(),
                    full(b.values[q]),
                    c.inputs[oi].name.clone(),
                    o.strategy.clone(),
                    full(o.values[q]),
                    full(d),
                    full(p),
                    kind.name().into(),
                    model::inside_ci(b, o, q)
                        .map(|x| x.to_string())
                        .unwrap_or_default(),
                ]);
            }
        }
    }
    let st = steps(c);
    for oi in others(c) {
        let f = model::findings(&st, &c.matching, oi);
        for (qd, x) in c.shown.iter().map(|&q| (&QUANTITIES[q], &f[q])) {
            let strat = |k: usize| base.steps[c.matching.rows[k].base].strategy.clone();
            let mut add = |row: &str, strategy: String, p: Option<f64>| {
                line(&[
                    row.into(),
                    qd.id.into(),
                    "%".into(),
                    strategy,
                    base.name.clone(),
                    String::new(),
                    c.inputs[oi].name.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                    full(p),
                    String::new(),
                    String::new(),
                ])
            };
            add("mean", String::new(), x.mean_pct);
            if let Some((k, p)) = x.lowest {
                add("lowest_load", strat(k), p);
            }
            if let Some((k, p)) = x.highest {
                add("highest_load", strat(k), p);
            }
        }
    }
    out
}

fn num(v: Option<f64>) -> Value {
    v.filter(|v| v.is_finite()).map_or(Value::Null, Value::from)
}

fn per_quantity(shown: &[usize], f: impl Fn(usize) -> Value) -> Value {
    let mut m = Map::new();
    for &q in shown {
        m.insert(QUANTITIES[q].id.into(), f(q));
    }
    Value::Object(m)
}

/// Identifies the JSON layout; changes only when the layout changes incompatibly.
pub const JSON_SCHEMA: &str = "pcp-llm-compare/1";

/// JSON, every number at full precision (layout: man/pcp-llm.1, JSON OUTPUT).
pub fn json(c: &Comparison) -> String {
    let base = &c.inputs[0];
    let inputs: Vec<Value> = c
        .inputs
        .iter()
        .map(|i| {
            json!({
                "name": i.name,
                "file": i.file,
                "guidellm_version": i.guidellm_version,
                "shape": i.shape,
            })
        })
        .collect();
    let quantities: Vec<Value> = c
        .shown
        .iter()
        .map(|&q| &QUANTITIES[q])
        .map(|q| json!({"id": q.id, "label": q.label, "unit": q.unit, "system": q.is_system()}))
        .collect();
    let omitted: Vec<&str> = c.omitted.iter().map(|&q| QUANTITIES[q].id).collect();
    let steps: Vec<Value> = c
        .matching
        .rows
        .iter()
        .map(|r| {
            let b = &base.steps[r.base];
            let others: Vec<Value> = others(c)
                .enumerate()
                .map(|(k, oi)| match r.others[k] {
                    None => Value::Null,
                    Some((j, kind)) => {
                        let o = &c.inputs[oi].steps[j];
                        json!({
                            "input": oi,
                            "strategy": o.strategy,
                            "benchmark_id": o.benchmark_id,
                            "index": o.index,
                            "matched_by": kind.name(),
                            "values": per_quantity(&c.shown, |q| num(o.values[q])),
                            "difference": per_quantity(&c.shown, |q| num(model::change(b.values[q], o.values[q]).0)),
                            "pct_change": per_quantity(&c.shown, |q| num(model::change(b.values[q], o.values[q]).1)),
                            "inside_ci": per_quantity(&c.shown, |q| model::inside_ci(b, o, q).map_or(Value::Null, Value::Bool)),
                        })
                    }
                })
                .collect();
            json!({
                "strategy": b.strategy,
                "kind": b.kind,
                "load": num(b.load),
                "baseline": {
                    "benchmark_id": b.benchmark_id,
                    "index": b.index,
                    "values": per_quantity(&c.shown, |q| num(b.values[q])),
                    "ci": per_quantity(&c.shown, |q| b.ci[q].map_or(Value::Null, |(l, u)| json!([l, u]))),
                    "confidence": num(b.confidence),
                },
                "others": others,
            })
        })
        .collect();
    let st: Vec<Vec<model::Step>> = c.inputs.iter().map(|i| i.steps.clone()).collect();
    let findings: Vec<Value> = others(c)
        .map(|oi| {
            let f = model::findings(&st, &c.matching, oi);
            let at = |x: Option<(usize, Option<f64>)>| match x {
                None => Value::Null,
                Some((k, p)) => json!({
                    "strategy": base.steps[c.matching.rows[k].base].strategy,
                    "pct_change": num(p),
                }),
            };
            json!({
                "input": oi,
                "quantities": per_quantity(&c.shown, |q| json!({
                    "mean_pct_change": num(f[q].mean_pct),
                    "steps": f[q].n,
                    "lowest_load": at(f[q].lowest),
                    "highest_load": at(f[q].highest),
                })),
            })
        })
        .collect();
    let unmatched: Vec<Value> = c
        .matching
        .unmatched
        .iter()
        .map(|(ii, si, why)| {
            let s = &c.inputs[*ii].steps[*si];
            json!({
                "input": ii,
                "strategy": s.strategy,
                "benchmark_id": s.benchmark_id,
                "index": s.index,
                "reason": why,
            })
        })
        .collect();
    let doc = json!({
        "schema": JSON_SCHEMA,
        "baseline": 0,
        "inputs": inputs,
        "quantities": quantities,
        "steps": steps,
        "findings": findings,
        "omitted": omitted,
        "unmatched": unmatched,
        "warnings": c.matching.warnings,
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON of plain values");
    s.push('\n');
    s
}
