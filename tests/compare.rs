//! `pcp-llm compare` on GuideLLM result files: every number of the report checked against an
//! independent walk of the JSON files (serde_json::Value, not the command's reader or model),
//! matching (by strategy, sweeps by position, unmatched steps listed) and bad input.

mod util;

use serde_json::Value;
use std::process::Command;
use util::{PCP_LLM, TempDir, guidellm_arg, guidellm_json, repo, run_pcp_llm, text};

const V053: &str = "v0.5.3-prefix-concurrent-2-4.json";
const V053Z: &str = "v0.5.3-prefix-concurrent-2-4.json.zst";
const V081: &str = "v0.8.1-prefix-multiturn-concurrent-2-4.json";
const V03: &str = "v0.3-handmade.json";
const V04: &str = "v0.4-handmade.json";

/// (id, JSON path under a benchmark's metrics.<family>.successful, text decimals)
const QUANTITIES: [(&str, &str, usize); 9] = [
    ("requests_per_second", "requests_per_second/mean", 3),
    (
        "output_tokens_per_second",
        "output_tokens_per_second/mean",
        2,
    ),
    ("request_latency_median", "request_latency/median", 4),
    ("request_latency_p95", "request_latency/percentiles/p95", 4),
    ("ttft_median", "time_to_first_token_ms/median", 2),
    ("ttft_p95", "time_to_first_token_ms/percentiles/p95", 2),
    ("itl_median", "inter_token_latency_ms/median", 2),
    ("errored", "", 0),
    ("incomplete", "", 0),
];

/// One benchmark of a result file, walked independently: (strategy, values per quantity).
fn walk(file: &str) -> Vec<(String, Vec<Option<f64>>)> {
    let doc: Value = guidellm_json(file);
    let mut out = Vec::new();
    for b in doc["benchmarks"].as_array().unwrap() {
        let strategy = if b.get("config").is_some() {
            &b["config"]["strategy"]
        } else {
            &b["args"]["strategy"]
        };
        let ty = strategy["type_"].as_str().unwrap();
        let name = match ty {
            "concurrent" => format!("concurrent@{}", strategy["streams"].as_u64().unwrap()),
            "constant" => format!("constant@{:.2}", strategy["rate"].as_f64().unwrap()),
            "throughput" => format!(
                "throughput@{}",
                strategy["max_concurrency"].as_u64().unwrap()
            ),
            other => other.to_string(),
        };
        let totals = b
            .get("request_totals")
            .unwrap_or(&b["metrics"]["request_totals"]);
        let values = QUANTITIES
            .iter()
            .map(|(id, path, _)| match *id {
                "errored" | "incomplete" => totals[*id].as_f64(),
                _ => {
                    let (family, rest) = path.split_once('/').unwrap();
                    let mut v = &b["metrics"][family]["successful"];
                    for seg in rest.split('/') {
                        v = &v[seg];
                    }
                    v.as_f64()
                }
            })
            .collect();
        out.push((name, values));
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

fn assert_num(got: &Value, want: Option<f64>, what: &str) {
    match want {
        None => assert!(got.is_null(), "{what}: expected null, got {got}"),
        Some(w) => {
            let g = got
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: expected {w}, got {got}"));
            assert!(close(g, w), "{what}: expected {w}, got {g}");
        }
    }
}

fn pct(b: f64, o: f64) -> Option<f64> {
    (b != 0.0).then(|| (o - b) / b * 100.0)
}

fn json_report(args: &[&str]) -> (Value, String) {
    let mut a = vec!["compare", "--format", "json"];
    a.extend_from_slice(args);
    let o = run_pcp_llm(&a);
    assert!(o.status.success(), "failed: {}", text(&o.stderr));
    (serde_json::from_slice(&o.stdout).unwrap(), text(&o.stderr))
}

#[test]
fn json_numbers_match_an_independent_walk_of_the_files() {
    let (base, other) = (walk(V081), walk(V053));
    let (doc, _) = json_report(&[
        "-n",
        "new",
        "-n",
        "old",
        &guidellm_arg(V081),
        &guidellm_arg(V053),
    ]);
    assert_eq!(doc["inputs"][0]["name"], "new");
    assert_eq!(doc["inputs"][1]["name"], "old");
    assert_eq!(doc["inputs"][1]["guidellm_version"], "0.5.3");
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), base.len());
    assert_eq!(doc["unmatched"].as_array().unwrap().len(), 0);
    let mut pcts: Vec<Vec<f64>> = vec![Vec::new(); QUANTITIES.len()];
    for (k, (strategy, bv)) in base.iter().enumerate() {
        let s = &steps[k];
        assert_eq!(s["strategy"], strategy.as_str());
        let (_, ov) = other.iter().find(|(n, _)| n == strategy).unwrap();
        let o = &s["others"][0];
        assert_eq!(o["matched_by"], "strategy");
        assert_eq!(o["strategy"], strategy.as_str());
        for (q, (id, _, _)) in QUANTITIES.iter().enumerate() {
            let what = format!("{strategy} {id}");
            assert_num(&s["baseline"]["values"][id], bv[q], &what);
            assert_num(&o["values"][id], ov[q], &what);
            let (b, v) = (bv[q].unwrap(), ov[q].unwrap());
            assert_num(&o["difference"][id], Some(v - b), &format!("{what} diff"));
            assert_num(&o["pct_change"][id], pct(b, v), &format!("{what} %"));
            if let Some(p) = pct(b, v) {
                pcts[q].push(p);
            }
        }
    }
    // key findings: mean % change, lowest load (concurrent@2) and highest (concurrent@4)
    let f = &doc["findings"][0]["quantities"];
    for (q, (id, _, _)) in QUANTITIES.iter().enumerate() {
        let mean =
            (!pcts[q].is_empty()).then(|| pcts[q].iter().sum::<f64>() / pcts[q].len() as f64);
        assert_num(&f[id]["mean_pct_change"], mean, &format!("{id} mean %"));
        assert_eq!(f[id]["steps"], pcts[q].len());
        assert_eq!(f[id]["lowest_load"]["strategy"], "concurrent@2");
        assert_eq!(f[id]["highest_load"]["strategy"], "concurrent@4");
        let at = |s: &str| {
            let b = base.iter().find(|x| x.0 == s).unwrap().1[q].unwrap();
            let o = other.iter().find(|x| x.0 == s).unwrap().1[q].unwrap();
            pct(b, o)
        };
        assert_num(&f[id]["lowest_load"]["pct_change"], at("concurrent@2"), id);
        assert_num(&f[id]["highest_load"]["pct_change"], at("concurrent@4"), id);
    }
    // 0.8.1 has confidence intervals (not for every percentile): inside_ci is decided from
    // the baseline's bounds, and is null where the baseline has none
    let doc_file: Value = guidellm_json(V081);
    let benches = doc_file["benchmarks"].as_array().unwrap();
    assert_eq!(benches.len(), steps.len());
    let (mut with, mut without) = (0, 0);
    for (k, b) in benches.iter().enumerate() {
        let (s, o) = (&steps[k], &steps[k]["others"][0]);
        assert_eq!(s["baseline"]["confidence"], b["config"]["confidence"]);
        for (id, family, p) in [
            ("request_latency_median", "request_latency", "p50"),
            ("request_latency_p95", "request_latency", "p95"),
            ("ttft_median", "time_to_first_token_ms", "p50"),
            ("ttft_p95", "time_to_first_token_ms", "p95"),
        ] {
            let ci = &b["metrics"][family]["successful"]["percentile_cis"][p];
            if ci.is_null() {
                without += 1;
                assert!(o["inside_ci"][id].is_null(), "{id}");
                assert!(s["baseline"]["ci"][id].is_null(), "{id}");
                continue;
            }
            with += 1;
            let (l, u) = (ci["lower"].as_f64().unwrap(), ci["upper"].as_f64().unwrap());
            let v = o["values"][id].as_f64().unwrap();
            assert_eq!(o["inside_ci"][id], l <= v && v <= u, "{id}");
            assert_eq!(s["baseline"]["ci"][id][0], l);
            assert_eq!(s["baseline"]["ci"][id][1], u);
        }
    }
    assert!(with > 0 && without > 0, "{with} {without}");
}

/// The rows of the block titled `title` in the text report, split on white space.
fn text_block(report: &str, title: &str) -> Vec<Vec<String>> {
    let mut lines = report.lines().skip_while(|l| *l != title).skip(2);
    let mut rows = Vec::new();
    for l in lines.by_ref() {
        if l.trim().is_empty() {
            break;
        }
        rows.push(l.split_whitespace().map(str::to_string).collect());
    }
    assert!(!rows.is_empty(), "no block {title:?} in\n{report}");
    rows
}

#[test]
fn text_tables_show_the_same_numbers_rounded() {
    let (base, other) = (walk(V053), walk(V081));
    let o = run_pcp_llm(&["compare", &guidellm_arg(V053), &guidellm_arg(V081)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let report = text(&o.stdout);
    let titles = [
        "Requests/s (successful, mean)",
        "Output tokens/s (successful, mean)",
        "Request latency median (s)",
        "Request latency p95 (s)",
        "TTFT median (ms)",
        "TTFT p95 (ms)",
        "ITL median (ms)",
        "Errored requests",
        "Incomplete requests",
    ];
    for (q, ((id, _, dec), title)) in QUANTITIES.iter().zip(titles).enumerate() {
        let rows = text_block(&report, title);
        assert_eq!(rows.len(), base.len(), "{id}");
        for (row, (strategy, bv)) in rows.iter().zip(&base) {
            let ov = &other.iter().find(|(n, _)| n == strategy).unwrap().1;
            let (b, v) = (bv[q].unwrap(), ov[q].unwrap());
            let want_pct = pct(b, v).map_or("-".into(), |p| format!("{p:+.2}%"));
            let want = vec![
                strategy.clone(),
                format!("{b:.dec$}"),
                format!("{v:.dec$}"),
                format!("{:+.dec$}", v - b),
                want_pct,
            ];
            assert_eq!(row, &want, "{title}");
        }
    }
    let findings = text_block(
        &report,
        "Key findings: v0.8.1-prefix-multiturn-concurrent-2-4 against v0.5.3-prefix-concurrent-2-4",
    );
    assert_eq!(findings.len(), QUANTITIES.len());
    // Requests/s row: label words then mean, lowest, highest
    let r = &findings[0];
    let p: Vec<f64> = base
        .iter()
        .map(|(s, bv)| {
            let ov = &other.iter().find(|(n, _)| n == s).unwrap().1;
            pct(bv[0].unwrap(), ov[0].unwrap()).unwrap()
        })
        .collect();
    let n = r.len();
    assert_eq!(
        r[n - 3..],
        [
            format!("{:+.2}%", p.iter().sum::<f64>() / p.len() as f64),
            format!("{:+.2}%", p[0]),
            format!("{:+.2}%", p[p.len() - 1]),
        ]
    );
}

#[test]
fn compressed_and_plain_copies_compare_equal() {
    let (doc, _) = json_report(&[&guidellm_arg(V053), &guidellm_arg(V053Z)]);
    for s in doc["steps"].as_array().unwrap() {
        for (id, _, _) in QUANTITIES {
            let d = &s["others"][0]["difference"][id];
            assert_eq!(d.as_f64(), Some(0.0), "{id}: {d}");
        }
    }
    // the same file name twice: the names are told apart
    assert_ne!(doc["inputs"][0]["name"], doc["inputs"][1]["name"]);
}

#[test]
fn unmatched_steps_are_listed_not_dropped() {
    // 0.3: concurrent@2 and constant@5.00; 0.5.3: concurrent@2 and concurrent@4
    let (doc, _) = json_report(&[&guidellm_arg(V03), &guidellm_arg(V053)]);
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["strategy"], "concurrent@2");
    let mut un: Vec<(u64, String)> = doc["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["input"].as_u64().unwrap(),
                u["strategy"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    un.sort();
    assert_eq!(
        un,
        [(0, "constant@5.00".to_string()), (1, "concurrent@4".into())]
    );
    let o = run_pcp_llm(&["compare", &guidellm_arg(V03), &guidellm_arg(V053)]);
    let report = text(&o.stdout);
    assert!(
        report.contains("unmatched: v0.3-handmade: constant@5.00"),
        "{report}"
    );
    assert!(report.contains("unmatched: v0.5.3-prefix-concurrent-2-4: concurrent@4"));
}

#[test]
fn sweep_rates_that_differ_are_matched_by_position_with_a_warning() {
    let dir = TempDir::new("compare-sweep");
    let mut doc: Value = guidellm_json(V03);
    let b = &mut doc["benchmarks"][1]["args"]["strategy"];
    assert_eq!(b["type_"], "constant");
    b["rate"] = Value::from(6.25);
    let moved = dir.join("moved.json");
    std::fs::write(&moved, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (rep, stderr) = json_report(&[&guidellm_arg(V03), moved.to_str().unwrap()]);
    let steps = rep["steps"].as_array().unwrap();
    let c = steps
        .iter()
        .find(|s| s["strategy"] == "constant@5.00")
        .unwrap();
    assert_eq!(c["others"][0]["matched_by"], "position");
    assert_eq!(c["others"][0]["strategy"], "constant@6.25");
    assert!(stderr.contains("matched by position"), "{stderr}");
    assert_eq!(rep["warnings"].as_array().unwrap().len(), 1);
}

#[test]
fn three_inputs_give_one_column_group_per_other() {
    let (doc, _) = json_report(&[
        &guidellm_arg(V053),
        &guidellm_arg(V081),
        &guidellm_arg(V053Z),
    ]);
    for s in doc["steps"].as_array().unwrap() {
        assert_eq!(s["others"].as_array().unwrap().len(), 2);
        assert_eq!(s["others"][0]["input"], 1);
        assert_eq!(s["others"][1]["input"], 2);
    }
    assert_eq!(doc["findings"].as_array().unwrap().len(), 2);
}

/// Bad input: one line on stderr naming the file, exit status 1, nothing on stdout.
fn fails(args: &[&str], needle: &str) -> String {
    let mut a = vec!["compare"];
    a.extend_from_slice(args);
    let o = run_pcp_llm(&a);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(o.stdout.is_empty(), "wrote: {}", text(&o.stdout));
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("pcp-llm compare: "), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
    err
}

#[test]
fn bad_input_is_one_line_and_exit_status_1() {
    let dir = TempDir::new("compare-bad");
    let junk = dir.join("notes.txt");
    std::fs::write(&junk, "this is not a result file\n").unwrap();
    let junk = junk.to_string_lossy().into_owned();
    fails(&[&guidellm_arg(V053), &junk], &junk);
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "").unwrap();
    fails(
        &[&empty.to_string_lossy(), &guidellm_arg(V053)],
        "empty file",
    );
    let nobench = dir.join("nobench.json");
    std::fs::write(
        &nobench,
        r#"{"metadata": {"version": 2}, "benchmarks": []}"#,
    )
    .unwrap();
    fails(
        &[&guidellm_arg(V053), &nobench.to_string_lossy()],
        "empty benchmark list",
    );
    fails(
        &[&guidellm_arg(V053), "/nonexistent/b.json"],
        "/nonexistent/b.json",
    );
    // 0.4: synchronous and throughput@512; 0.5.3: concurrent@2 and @4
    let e = fails(
        &[&guidellm_arg(V053), &guidellm_arg(V04)],
        "nothing in common",
    );
    assert!(
        e.contains("synchronous") && e.contains("concurrent@4"),
        "{e}"
    );
    fails(
        &["--format", "json", &guidellm_arg(V053), &guidellm_arg(V04)],
        "nothing in common",
    );
}

#[test]
fn usage_errors_and_other_commands() {
    for args in [
        vec!["compare", "only-one.json"],
        vec!["compare", "--format", "xml", "a", "b"],
        vec!["compare", "--bogus", "a", "b"],
        vec!["compare", "-n", "a", "-n", "b", "-n", "c", "x", "y"],
        vec!["frobnicate"],
        vec![],
    ] {
        let o = run_pcp_llm(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty());
        assert!(text(&o.stderr).contains("Usage: pcp llm"), "{args:?}");
    }
    let o = run_pcp_llm(&["compare", "--help"]);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("BASELINE OTHER"));
}

/// The JSON layout documented in man/pcp-llm.1: (path, allowed types).
fn documented_schema() -> Vec<(String, Vec<String>)> {
    let man = std::fs::read_to_string(repo().join("man/pcp-llm.1")).unwrap();
    let body = man
        .split_once("JSON-SCHEMA-BEGIN")
        .unwrap()
        .1
        .split_once("JSON-SCHEMA-END")
        .unwrap()
        .0;
    let lines: Vec<(String, Vec<String>)> = body
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with(".\\\""))
        .map(|l| {
            let mut w = l.split_whitespace();
            let path = w.next().unwrap().to_string();
            let types = w.next().unwrap().split('|').map(str::to_string).collect();
            assert!(w.next().is_none(), "bad schema line {l:?}");
            (path, types)
        })
        .collect();
    assert!(lines.len() > 50, "schema lines: {}", lines.len());
    lines
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Check `v` at documented `path` (Q for quantity ids, [] for elements); record what was seen.
fn check_schema(
    v: &Value,
    path: &str,
    schema: &[(String, Vec<String>)],
    qids: &[String],
    seen: &mut std::collections::BTreeSet<String>,
) {
    let types = &schema
        .iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| panic!("undocumented JSON member {path}"))
        .1;
    assert!(
        types.iter().any(|t| t == json_type(v)),
        "{path}: {} is not {types:?}",
        json_type(v)
    );
    seen.insert(format!("{path} {}", json_type(v)));
    let child = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Array(a) => {
            for e in a {
                check_schema(e, &format!("{path}[]"), schema, qids, seen);
            }
        }
        Value::Object(m) => {
            let by_quantity = schema.iter().any(|(p, _)| *p == child("Q"));
            if by_quantity {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut want: Vec<&String> = qids.iter().collect();
                want.sort();
                assert_eq!(keys, want, "{path}: keys are not the quantity ids");
            }
            for (k, x) in m {
                let p = if by_quantity { child("Q") } else { child(k) };
                check_schema(x, &p, schema, qids, seen);
            }
            // every documented member is present
            for (p, _) in schema {
                if let Some(rest) = p.strip_prefix(&child("")).filter(|_| !path.is_empty())
                    && !rest.contains(['.', '['])
                    && rest != "Q"
                {
                    assert!(m.contains_key(rest), "{path}: no member {rest}");
                }
            }
        }
        _ => {}
    }
}

#[test]
fn json_output_follows_the_schema_in_the_man_page() {
    let schema = documented_schema();
    let dir = TempDir::new("compare-schema");
    // a sweep moved, for a position match and a warning; a missing step, for a null OTHER
    let mut doc: Value = guidellm_json(V03);
    doc["benchmarks"][1]["args"]["strategy"]["rate"] = Value::from(7.5);
    let moved = dir.join("moved.json");
    std::fs::write(&moved, serde_json::to_vec(&doc).unwrap()).unwrap();
    let moved = moved.to_string_lossy().into_owned();
    let mut seen = std::collections::BTreeSet::new();
    for args in [
        vec![guidellm_arg(V081), guidellm_arg(V053)],
        vec![guidellm_arg(V03), guidellm_arg(V053), moved.clone()],
        vec![guidellm_arg(V053), guidellm_arg(V03)],
    ] {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (doc, _) = json_report(&a);
        assert_eq!(doc["schema"], "pcp-llm-compare/1");
        let qids: Vec<String> = doc["quantities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(qids.len(), QUANTITIES.len());
        // the root: every top-level member documented and present
        for (k, v) in doc.as_object().unwrap() {
            check_schema(v, k, &schema, &qids, &mut seen);
        }
        for (p, _) in &schema {
            if !p.contains(['.', '[']) {
                assert!(doc.get(p).is_some(), "no top-level {p}");
            }
        }
    }
    // every documented path was exercised
    for (p, _) in &schema {
        assert!(
            seen.iter().any(|s| s.split(' ').next() == Some(p.as_str())),
            "{p} never seen"
        );
    }
    for must in [
        "steps[].others[] null",
        "steps[].baseline.ci.Q array",
        "steps[].others[].inside_ci.Q boolean",
        "warnings[] string",
        "unmatched[] object",
    ] {
        assert!(seen.contains(must), "{must} never seen");
    }
}

/// The rows of the markdown table under `## title`.
fn md_table(report: &str, title: &str) -> Vec<Vec<String>> {
    let head = format!("## {title}");
    let rows: Vec<Vec<String>> = report
        .lines()
        .skip_while(|l| *l != head)
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    assert!(rows.len() > 2, "no table {title:?} in\n{report}");
    rows
}

#[test]
fn markdown_has_the_text_tables() {
    let args = ["compare", &guidellm_arg(V053), &guidellm_arg(V081)];
    let t = text(&run_pcp_llm(&args).stdout);
    let o = run_pcp_llm(&[
        "compare",
        "--format",
        "markdown",
        &guidellm_arg(V053),
        &guidellm_arg(V081),
    ]);
    assert!(o.status.success());
    let md = text(&o.stdout);
    for title in ["TTFT p95 (ms)", "Incomplete requests"] {
        let rows = md_table(&md, title);
        assert_eq!(rows[0][0], "strategy");
        assert!(
            rows[1].iter().all(|c| c.starts_with("---")),
            "{:?}",
            rows[1]
        );
        let want = text_block(&t, title);
        assert_eq!(rows[2..], want[..], "{title}");
    }
}

#[test]
fn csv_has_every_number_at_full_precision() {
    let (base, other) = (walk(V053), walk(V081));
    let o = run_pcp_llm(&[
        "compare",
        "-F",
        "csv",
        &guidellm_arg(V053),
        &guidellm_arg(V081),
    ]);
    assert!(o.status.success());
    let csv = text(&o.stdout);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let mut steps = 0;
    let mut means = 0;
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), header.len(), "{l}");
        let q = QUANTITIES
            .iter()
            .position(|x| x.0 == f[col("quantity")])
            .unwrap();
        let num = |n: &str| f[col(n)].parse::<f64>().ok();
        match f[col("row")] {
            "step" => {
                steps += 1;
                let s = f[col("strategy")];
                let b = base.iter().find(|x| x.0 == s).unwrap().1[q].unwrap();
                let v = other.iter().find(|x| x.0 == s).unwrap().1[q].unwrap();
                assert!(close(num("baseline_value").unwrap(), b), "{l}");
                assert!(close(num("other_value").unwrap(), v), "{l}");
                assert!(close(num("difference").unwrap(), v - b), "{l}");
                match pct(b, v) {
                    Some(p) => assert!(close(num("pct_change").unwrap(), p), "{l}"),
                    None => assert_eq!(f[col("pct_change")], "", "{l}"),
                }
                assert_eq!(f[col("matched_by")], "strategy");
            }
            "mean" => means += 1,
            "lowest_load" | "highest_load" => {}
            r => panic!("unknown row kind {r}"),
        }
    }
    assert_eq!(steps, QUANTITIES.len() * base.len());
    assert_eq!(means, QUANTITIES.len());
}

/// The `<td>` cells of each `<tr>` of the first `<table>` in `html`.
fn html_table_rows(html: &str) -> Vec<Vec<String>> {
    let t = &html[html.find("<table>").unwrap()..];
    let t = &t[..t.find("</table>").unwrap()];
    t.split("<tr>")
        .filter(|r| r.contains("<td>"))
        .map(|r| {
            r.split("<td>")
                .skip(1)
                .map(|c| c[..c.find("</td>").unwrap()].to_string())
                .collect()
        })
        .collect()
}

#[test]
fn html_page_has_a_chart_and_the_table_per_quantity() {
    let dir = TempDir::new("compare-html");
    let page = dir.join("report.html");
    let page_s = page.to_string_lossy().into_owned();
    let args = [
        "compare",
        "-n",
        "old",
        "-n",
        "new",
        &guidellm_arg(V053),
        &guidellm_arg(V081),
    ];
    let text_report = text(&run_pcp_llm(&args).stdout);
    let mut with_html = args.to_vec();
    with_html.extend(["--html", &page_s]);
    let o = run_pcp_llm(&with_html);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), text_report, "stdout changed by --html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // self-contained: nothing fetched, nothing run
    for bad in ["<script", " src=", "href=", "<link", "@import"] {
        assert!(!html.contains(bad), "page has {bad}");
    }
    assert_eq!(
        html.matches("http").count(),
        html.matches("http://www.w3.org/2000/svg").count(),
        "a URL other than the SVG namespace"
    );
    let sections: Vec<&str> = html.split("<section class=\"quantity\"").skip(1).collect();
    assert_eq!(sections.len(), QUANTITIES.len());
    let titles = [
        "Requests/s (successful, mean)",
        "Output tokens/s (successful, mean)",
        "Request latency median (s)",
        "Request latency p95 (s)",
        "TTFT median (ms)",
        "TTFT p95 (ms)",
        "ITL median (ms)",
        "Errored requests",
        "Incomplete requests",
    ];
    for (s, title) in sections.iter().zip(titles) {
        let s = &s[..s.find("</section>").unwrap()];
        assert_eq!(s.matches("<svg").count(), 1, "{title}: one chart");
        let svg = &s[s.find("<svg").unwrap()..s.find("</svg>").unwrap()];
        assert!(svg.contains(title), "{title}: chart caption");
        // one line per configuration, named in the legend
        assert!(
            svg.contains("old") && svg.contains("new"),
            "{title}: legend"
        );
        assert!(svg.matches("<polyline").count() >= 2, "{title}: lines");
        assert_eq!(
            html_table_rows(s),
            text_block(&text_report, title),
            "{title}"
        );
    }
    let findings = &html[html.find("<section class=\"findings\"").unwrap()..];
    assert_eq!(findings.matches("<svg").count(), 1);
    assert!(findings.contains("Mean % change against the baseline"));
    let key = text_block(&text_report, "Key findings: new against old");
    let rows = html_table_rows(findings);
    assert_eq!(rows.len(), key.len());
    for (r, k) in rows.iter().zip(&key) {
        // text splits the quantity's label into words; the HTML cell holds it whole
        assert_eq!(
            r[0].split_whitespace().collect::<Vec<_>>(),
            k[..k.len() - 3]
        );
        assert_eq!(r[1..], k[k.len() - 3..]);
    }

    // a page that cannot be written: one line, exit 1, no report
    let bad = dir.join("no/such/dir/report.html");
    let mut a = args.to_vec();
    let bad_s = bad.to_string_lossy().into_owned();
    a.extend(["--html", &bad_s]);
    let o = run_pcp_llm(&a);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&bad_s), "{err}");
}

#[test]
fn help_into_a_closed_pipe_is_not_an_error() {
    use std::process::Stdio;
    for args in [vec!["--help"], vec!["compare", "--help"]] {
        let mut child = Command::new(PCP_LLM)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before anything is written
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
        assert!(o.stderr.is_empty(), "{args:?}: {}", text(&o.stderr));
    }
}
