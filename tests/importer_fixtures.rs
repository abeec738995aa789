//! guidellm2pcp on real (0.5.3, 0.8.1) and hand-made (0.3, 0.4) result files: the archive is
//! readable by PCP's tools, its summary values equal the JSON's numbers exactly, the interval
//! series add up to the record counts, and instance ids are stable.

mod util;

use serde_json::Value;
use std::collections::BTreeMap;
use util::*;

const V053: &str = "v0.5.3-prefix-concurrent-2-4.json";
const V053Z: &str = "v0.5.3-prefix-concurrent-2-4.json.zst";
const V081: &str = "v0.8.1-prefix-multiturn-concurrent-2-4.json";
const V03: &str = "v0.3-handmade.json";
const V04: &str = "v0.4-handmade.json";

const STATUSES: [&str; 4] = ["successful", "errored", "incomplete", "total"];

/// Every (metric name, value) the JSON's distributions imply for one benchmark, found by
/// walking the JSON (independently of the importer's catalogue).
fn expected(bench: &Value) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    walk_summaries("guidellm", "", &bench["metrics"], &mut out);
    if let Some(g) = bench["scheduler_metrics"].get("generation_delay") {
        walk_summaries("guidellm", "generation_delay", g, &mut out);
    }
    out
}

/// Every (turn index, metric name, value) of a benchmark's per-turn summaries (0.7+).
fn expected_turns(bench: &Value) -> Vec<(u64, String, f64)> {
    let mut out = Vec::new();
    for turn in bench["metrics"]["turns"].as_array().into_iter().flatten() {
        let k = turn["turn_index"].as_u64().unwrap();
        let mut values = Vec::new();
        walk_summaries("guidellm.turns", "", turn, &mut values);
        for st in STATUSES {
            if let Some(n) = turn["request_totals"][st].as_f64() {
                values.push((format!("guidellm.turns.request_totals.{st}"), n));
            }
        }
        out.extend(values.into_iter().map(|(name, x)| (k, name, x)));
    }
    out
}

/// `<prefix>.<family>.<status>.<stat>` for every distribution summary under `v`.
fn walk_summaries(prefix: &str, path: &str, v: &Value, out: &mut Vec<(String, f64)>) {
    fn emit(family: &str, status: &str, d: &Value, out: &mut Vec<(String, f64)>) {
        for (k, leaf) in [
            ("mean", "mean"),
            ("median", "median"),
            ("mode", "mode"),
            ("std_dev", "std_dev"),
            ("variance", "variance"),
            ("min", "min"),
            ("max", "max"),
            ("count", "count"),
            ("total_sum", "sum"),
        ] {
            if let Some(x) = d.get(k).and_then(Value::as_f64) {
                out.push((format!("{family}.{status}.{leaf}"), x));
            }
        }
        if let Some(Value::Object(p)) = d.get("percentiles") {
            for (k, v) in p {
                if let Some(x) = v.as_f64() {
                    out.push((format!("{family}.{status}.{k}"), x));
                }
            }
        }
        // 0.7+ confidence intervals
        for bound in ["lower", "upper"] {
            if let Some(x) = d["mean_ci"][bound].as_f64() {
                out.push((format!("{family}.{status}.mean_ci.{bound}"), x));
            }
        }
        if let Some(Value::Object(p)) = d.get("percentile_cis") {
            for (k, ci) in p {
                for bound in ["lower", "upper"] {
                    if let Some(x) = ci[bound].as_f64() {
                        out.push((format!("{family}.{status}.{k}_ci.{bound}"), x));
                    }
                }
            }
        }
    }
    if let Value::Object(m) = v {
        if m.contains_key("mean") && m.contains_key("percentiles") {
            let family = format!("{prefix}.{path}");
            match family.rsplit_once('.') {
                Some((fam, st)) if STATUSES.contains(&st) => emit(fam, st, v, out),
                _ => emit(&family, "total", v, out),
            }
        } else {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk_summaries(prefix, &p, x, out);
            }
        }
    }
}

/// benchmark id -> instance name, from the archived guidellm.id.
fn instance_of(v: &Values) -> BTreeMap<String, String> {
    v.by_inst("guidellm.id")
        .into_iter()
        .map(|(inst, id)| (id, inst))
        .collect()
}

fn bench_id(b: &Value) -> String {
    b["config"]["id_"]
        .as_str()
        .or_else(|| b["id_"].as_str())
        .unwrap()
        .to_string()
}

/// Check every distribution value of every benchmark; returns how many were compared.
fn check_summaries(doc: &Value, v: &Values) -> usize {
    let insts = instance_of(v);
    let mut checked = 0;
    for (i, b) in doc["benchmarks"].as_array().unwrap().iter().enumerate() {
        let inst = insts
            .get(&bench_id(b))
            .unwrap_or_else(|| panic!("benchmark {i} has no instance"));
        for (name, want) in expected(b) {
            let got = v.of(&name, inst);
            assert_eq!(got.len(), 1, "{name} [{inst}]: values {got:?}");
            let got: f64 = got[0].parse().unwrap();
            assert!(
                got == want || (got.is_nan() && want.is_nan()),
                "benchmark {i} {name}: archive {got:?} != JSON {want:?}"
            );
            checked += 1;
        }
        for (turn, name, want) in expected_turns(b) {
            let (number, strategy) = inst.split_once(' ').unwrap();
            let turn_inst = format!("{number}/turn{turn} {strategy}");
            let got = v.of(&name, &turn_inst);
            assert_eq!(got.len(), 1, "{name} [{turn_inst}]: values {got:?}");
            let got: f64 = got[0].parse().unwrap();
            assert_eq!(got, want, "benchmark {i} {name} [{turn_inst}]");
            checked += 1;
        }
        checked += check_warnings(b, inst, v);
        // totals and upstream-compatible names
        let totals = if b.get("request_totals").is_some() {
            &b["request_totals"]
        } else {
            &b["metrics"]["request_totals"]
        };
        for st in STATUSES {
            assert_eq!(
                v.of(&format!("guidellm.request_totals.{st}"), inst),
                vec![totals[st].to_string()],
                "request_totals.{st}"
            );
        }
        let dur: f64 = v.of("guidellm.duration", inst)[0].parse().unwrap();
        assert_eq!(dur, b["duration"].as_f64().unwrap());
        let run_id = b["config"]["run_id"]
            .as_str()
            .or_else(|| b["run_id"].as_str())
            .unwrap();
        assert_eq!(v.of("guidellm.run_id", inst), vec![run_id]);
        let sm = if b.get("run_stats").is_some() {
            &b["run_stats"]
        } else {
            &b["scheduler_metrics"]
        };
        let rt: f64 = v.of("guidellm.run_stats.request_time_avg", inst)[0]
            .parse()
            .unwrap();
        assert_eq!(rt, sm["request_time_avg"].as_f64().unwrap());
        assert_eq!(
            v.of("guidellm.run_stats.requests_made.total", inst),
            vec![sm["requests_made"]["total"].to_string()]
        );
    }
    checked
}

/// A 0.7+ benchmark's warnings: their number, and each one's values on its own instance.
fn check_warnings(b: &Value, inst: &str, v: &Values) -> usize {
    let Some(list) = b["warnings"].as_array() else {
        assert!(v.of("guidellm.warnings", inst).is_empty());
        return 0;
    };
    assert_eq!(
        v.of("guidellm.warnings", inst),
        vec![list.len().to_string()]
    );
    let (number, strategy) = inst.split_once(' ').unwrap();
    for w in list {
        let winst = format!("{number}/{} {strategy}", w["code"].as_str().unwrap());
        let observed: f64 = v.of("guidellm.warning.observed", &winst)[0]
            .parse()
            .unwrap();
        assert_eq!(observed, w["observed"].as_f64().unwrap(), "{winst}");
        let threshold: f64 = v.of("guidellm.warning.threshold", &winst)[0]
            .parse()
            .unwrap();
        assert_eq!(threshold, w["threshold"].as_f64().unwrap(), "{winst}");
        assert_eq!(
            v.of("guidellm.warning.sample_count", &winst),
            vec![w["sample_count"].to_string()]
        );
        assert_eq!(
            v.of("guidellm.warning.message", &winst),
            vec![w["message"].as_str().unwrap()]
        );
    }
    list.len()
}

/// Per-interval counts add up to the per-status record counts of each benchmark.
fn check_intervals(doc: &Value, v: &Values) {
    let insts = instance_of(v);
    for b in doc["benchmarks"].as_array().unwrap() {
        let inst = &insts[&bench_id(b)];
        for (metric, status) in [
            ("completed", "successful"),
            ("errored", "errored"),
            ("incomplete", "incomplete"),
        ] {
            let n = b["requests"][status].as_array().map_or(0, Vec::len) as u64;
            let sum: u64 = v
                .rows
                .iter()
                .filter(|r| r.1 == format!("guidellm.interval.requests.{metric}") && &r.2 == inst)
                .map(|r| r.3.parse::<u64>().unwrap())
                .sum();
            assert_eq!(sum, n, "{inst}: interval {metric} sum vs requests.{status}");
        }
        let started: u64 = v
            .rows
            .iter()
            .filter(|r| r.1 == "guidellm.interval.requests.started" && &r.2 == inst)
            .map(|r| r.3.parse::<u64>().unwrap())
            .sum();
        let all: usize = ["successful", "errored", "incomplete"]
            .iter()
            .map(|s| b["requests"][*s].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(started, all as u64, "{inst}: started");
    }
}

fn full_check(file: &str, json: &str, min_values: usize) {
    let dir = TempDir::new("fix");
    let base = import(&dir, "a", &[&guidellm(file)], &[]);
    assert_eq!(dir.files(), vec!["a.0", "a.index", "a.meta"]);
    // PCP's tools read it
    let names = tool("pminfo", &["-a", &base]);
    assert!(names.contains("guidellm.time_to_first_token_ms.total.mean"));
    assert!(names.contains("guidellm.interval.requests.completed"));
    let dump = tool("pmdumplog", &["-a", &base]);
    assert!(dump.contains("Archive timezone: UTC"), "{dump:.400}");
    let rep = tool(
        "pmrep",
        &[
            "-a",
            &base,
            "-t",
            "1s",
            "-p",
            "guidellm.interval.requests.completed",
        ],
    );
    assert!(rep.lines().count() > 5, "{rep}");
    let doc = guidellm_json(json);
    let v = values(&base);
    let n = check_summaries(&doc, &v);
    assert!(n >= min_values, "only {n} values compared");
    check_intervals(&doc, &v);
    // no <mark> between the benchmarks of one run: nothing is missing there
    assert_eq!(v.marks, Vec::<f64>::new());
}

#[test]
fn v053_json_imports_exactly() {
    full_check(V053, V053, 2000);
}

#[test]
fn v053_zst_imports_exactly() {
    full_check(V053Z, V053, 2000);
}

#[test]
fn v081_json_imports_exactly() {
    full_check(V081, V081, 2000);
    // what 0.7+ adds is in the fixture, so the comparison above covered it
    for b in guidellm_json(V081)["benchmarks"].as_array().unwrap() {
        let turns = expected_turns(b);
        assert!(turns.iter().any(|t| t.0 == 1), "no second turn");
        assert!(turns.len() > 300, "{} per-turn values", turns.len());
        let all = expected(b);
        assert!(all.iter().any(|(n, _)| n.ends_with(".mean_ci.upper")));
        assert!(all.iter().any(|(n, _)| n.ends_with(".p90_ci.lower")));
        assert!(!b["warnings"].as_array().unwrap().is_empty());
    }
}

#[test]
fn v03_handmade_imports() {
    full_check(V03, V03, 500);
    let dir = TempDir::new("v03");
    let base = import(&dir, "a", &[&guidellm(V03)], &[]);
    let labels = tool("pmdumplog", &["-e", &base]);
    assert!(labels.contains("\"schema\":\"0.3\""), "{labels}");
    assert!(labels.contains("\"tpot_includes_ttft\":false"), "{labels}");
    assert!(labels.contains("\"target_rate\":\"5\""), "{labels}");
    // the local host by default (not the benchmark target's), as pmlogger names it
    let host = tool("pmdumplog", &["-l", &base]);
    assert!(!host.contains("host gpu-node-3"), "{host}");
    let insts = tool("pmdumplog", &["-i", &base]);
    assert!(insts.contains("0 or \"0 concurrent@2\""), "{insts}");
    assert!(insts.contains("1 or \"1 constant@5.00\""), "{insts}");
}

#[test]
fn v04_handmade_imports() {
    full_check(V04, V04, 500);
    let dir = TempDir::new("v04");
    let base = import(&dir, "a", &[&guidellm(V04)], &[]);
    let labels = tool("pmdumplog", &["-e", &base]);
    assert!(labels.contains("\"schema\":\"0.4\""), "{labels}");
    let insts = tool("pmdumplog", &["-i", &base]);
    assert!(insts.contains("1 or \"1 throughput@512\""), "{insts}");
    assert!(insts.contains("0 or \"0 synchronous\""), "{insts}");
}

#[test]
fn labels_and_help() {
    let dir = TempDir::new("labels");
    let base = import(&dir, "a", &[&guidellm(V081)], &[]);
    let labels = tool("pminfo", &["-a", &base, "-l", "guidellm.duration"]);
    for want in [
        "\"strategy\":\"concurrent\"",
        "\"target_concurrency\":\"2\"",
        "\"model\":\"mock-llama\"",
        "\"target\":\"http://127.0.0.1:8081\"",
        "\"guidellm_version\":\"0.8.1\"",
        "\"node\":\"ci-mock\"",
        "\"scenario\":\"prefix-multiturn\"",
        "\"tpot_includes_ttft\":true",
        "\"records\":\"sampled\"",
        "\"run_id\":\"fa4c8559-fd0b-4de1-9b94-635fc80842a1\"",
        "\"confidence\":\"0.95\"",
        "\"sample_size\":\"10\"",
    ] {
        assert!(labels.contains(want), "missing {want} in {labels}");
    }
    // turns and warnings carry their benchmark's labels, to join them with it
    let turn = tool(
        "pminfo",
        &["-a", &base, "-l", "guidellm.turns.request_totals.total"],
    );
    assert!(
        turn.contains("inst [0 or \"0/turn0 concurrent@2\"] labels {\"benchmark\":\"concurrent@2\",\"benchmark_id\":\"dfe44db8-9ae2-4e7c-9123-6b7767866c2a\""),
        "{turn}"
    );
    let all = tool("pmdumplog", &["-e", &base]);
    assert!(
        all.contains("InDom 510.2[1001] labels (99 bytes): {\"benchmark\":\"concurrent@4\",\"benchmark_id\":\"509d95f2-fcf8-4a02-bf5c-08305b701bd1\",\"turn_index\":\"1\"}"),
        "{all}"
    );
    let warning = tool("pminfo", &["-a", &base, "-l", "guidellm.warning.observed"]);
    assert!(
        warning.contains("\"code\":\"generation_delay_ttft\"")
            && warning.contains("\"unit\":\"ratio\""),
        "{warning}"
    );
    let help = tool(
        "pminfo",
        &[
            "-a",
            &base,
            "-t",
            "guidellm.time_per_output_token_ms.total.p95",
        ],
    );
    assert!(help.contains("includes TTFT"), "{help}");
    let desc = tool(
        "pminfo",
        &[
            "-a",
            &base,
            "-d",
            "guidellm.time_to_first_token_ms.total.mean",
            "guidellm.request_latency.total.p99",
            "guidellm.interval.requests.in_flight",
        ],
    );
    assert!(desc.contains("Units: millisec"), "{desc}");
    assert!(desc.contains("Units: sec"), "{desc}");
    assert!(desc.contains("Semantics: instant"), "{desc}");
    assert!(desc.contains("510."), "{desc}");
}

#[test]
fn instance_ids_stable_across_imports() {
    let dir = TempDir::new("stable");
    let a = import(&dir, "a", &[&guidellm(V053)], &[]);
    let b = import(&dir, "b", &[&guidellm(V053)], &[]);
    let ia = tool("pmdumplog", &["-i", &a]);
    let ib = tool("pmdumplog", &["-i", &b]);
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| {
                l.trim_start().starts_with(|c: char| c.is_ascii_digit()) || l.contains(" or ")
            })
            .map(|l| l.trim().to_string())
            .collect()
    };
    assert!(
        ia.contains("0 concurrent@2") && ia.contains("1 concurrent@4"),
        "{ia}"
    );
    assert_eq!(strip(&ia), strip(&ib));
    let va = values(&a);
    let vb = values(&b);
    assert_eq!(va.rows, vb.rows);
}

#[test]
fn stdin_and_hostname_and_v3() {
    let dir = TempDir::new("stdin");
    let base = dir.join("s").to_string_lossy().into_owned();
    let data = std::fs::read(guidellm(V053Z)).unwrap();
    let out = run_importer_stdin(
        &[
            "-",
            "-o",
            &base,
            "--hostname",
            "node-a",
            "--archive-version",
            "3",
        ],
        &data,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        summary.contains("2 benchmarks") && summary.contains("86 request records"),
        "{summary}"
    );
    let label = tool("pmdumplog", &["-l", &base]);
    assert!(label.contains("Version 3"), "{label}");
    assert!(label.contains("node-a"), "{label}");
}

#[test]
fn several_files_in_time_order() {
    let dir = TempDir::new("multi");
    // given newest first: the archive is still in time order
    let base = import(
        &dir,
        "m",
        &[&guidellm(V081), &guidellm(V03), &guidellm(V053)],
        &["--interval", "2s"],
    );
    let v = values(&base);
    let ts: Vec<f64> = v.rows.iter().map(|r| r.0).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));
    // one <mark> between two runs (three files, one run each), none between benchmarks
    assert_eq!(v.marks.len(), 2, "{:?}", v.marks);
    let none = import(
        &dir,
        "n",
        &[&guidellm(V081), &guidellm(V03), &guidellm(V053)],
        &["--interval", "2s", "--no-marks"],
    );
    assert_eq!(values(&none).marks, Vec::<f64>::new());
    let insts = v.by_inst("guidellm.strategy.type");
    let names: Vec<&String> = insts.keys().collect();
    // 0.3 run is the oldest: plain names; later runs get "<run>." prefixes
    assert!(names.contains(&&"0 concurrent@2".to_string()), "{names:?}");
    assert!(
        names.contains(&&"1.0 concurrent@2".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&&"2.1 concurrent@4".to_string()),
        "{names:?}"
    );
    for (doc, _) in [
        (guidellm_json(V081), 0),
        (guidellm_json(V03), 1),
        (guidellm_json(V053), 2),
    ] {
        check_summaries(&doc, &v);
        check_intervals(&doc, &v);
    }
}

#[test]
fn separate_imports_merge_with_pmlogextract() {
    // what merging with a node's pmlogger archive needs: the same host name
    let dir = TempDir::new("merge");
    let a = import(&dir, "a", &[&guidellm(V053)], &["--hostname", "node-x"]);
    let b = import(&dir, "b", &[&guidellm(V081)], &["--hostname", "node-x"]);
    let m = dir.join("m").to_string_lossy().into_owned();
    tool("pmlogextract", &[&a, &b, &m]);
    let v = values(&m);
    // the imports hold none; pmlogextract puts one after the end of the first
    assert_eq!(v.marks.len(), 1, "{:?}", v.marks);
    // instance names repeat across separately imported runs: compare totals
    let want: usize = [guidellm_json(V053), guidellm_json(V081)]
        .iter()
        .flat_map(|d| d["benchmarks"].as_array().unwrap().clone())
        .map(|b| b["requests"]["successful"].as_array().map_or(0, Vec::len))
        .sum();
    let got: u64 = v
        .rows
        .iter()
        .filter(|r| r.1 == "guidellm.interval.requests.completed")
        .map(|r| r.3.parse::<u64>().unwrap())
        .sum();
    assert_eq!(got, want as u64);
    let label = tool("pmdumplog", &["-l", &m]);
    assert!(label.contains("node-x"), "{label}");
}

#[test]
fn repeated_warning_codes_and_bare_turns() {
    let mut doc = guidellm_json(V081);
    for b in doc["benchmarks"].as_array_mut().unwrap() {
        b["metrics"]["turns"] = serde_json::json!([{"turn_index": 0}, {"turn_index": 3}]);
        b["warnings"] =
            serde_json::json!([{"code": "root_late"}, {"code": "root_late", "observed": 0.5}]);
    }
    let dir = TempDir::new("warn");
    let input = dir.join("in.json");
    std::fs::write(&input, doc.to_string()).unwrap();
    let base = import(&dir, "a", &[&input], &[]);
    let insts = tool("pmdumplog", &["-i", &base]);
    for want in [
        "0 or \"0/root_late concurrent@2\"",
        "1 or \"0/root_late#2 concurrent@2\"",
        "1001 or \"1/root_late#2 concurrent@4\"",
        "3 or \"0/turn3 concurrent@2\"",
        "1003 or \"1/turn3 concurrent@4\"",
    ] {
        assert!(insts.contains(want), "missing {want} in {insts}");
    }
    let v = values(&base);
    assert_eq!(v.of("guidellm.warnings", "1 concurrent@4"), vec!["2"]);
    assert_eq!(
        v.of("guidellm.warning.observed", "1/root_late#2 concurrent@4"),
        vec!["0.5"]
    );
    assert!(
        v.of("guidellm.warning.observed", "1/root_late concurrent@4")
            .is_empty()
    );
}

/// What a newer GuideLLM adds is not dropped silently: the import succeeds and one note per
/// file names every value no metric took.
#[test]
fn unknown_additions_are_reported() {
    let dir = TempDir::new("unknown");
    let clean = dir.join("clean").to_string_lossy().into_owned();
    let out = run_importer(&[guidellm(V081).to_str().unwrap(), "-o", &clean]);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "", "a known file gets no note");

    let mut doc = guidellm_json(V081);
    let summary = doc["benchmarks"][0]["metrics"]["request_latency"]["total"].clone();
    for b in doc["benchmarks"].as_array_mut().unwrap() {
        let m = &mut b["metrics"];
        m["brand_new_ms"] = serde_json::json!({"successful": summary, "total": null});
        m["time_to_first_token_ms"]["successful"]["percentiles"]["p9999"] = serde_json::json!(1.5);
        m["slo_attainment"] = serde_json::json!({"ttft": 0.9});
        m["turns"][1]["queue_depth"] = summary.clone();
    }
    let input = dir.join("new.json");
    std::fs::write(&input, doc.to_string()).unwrap();
    let base = dir.join("a").to_string_lossy().into_owned();
    let out = run_importer(&[input.to_str().unwrap(), "-o", &base]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let note = text(&out.stderr);
    assert_eq!(note.lines().count(), 1, "{note}");
    assert!(
        note.starts_with(&format!(
            "guidellm2pcp: {}: note: not imported",
            input.display()
        )),
        "{note}"
    );
    for path in [
        "benchmarks[].metrics.brand_new_ms.successful,",
        "benchmarks[].metrics.slo_attainment,",
        "benchmarks[].metrics.time_to_first_token_ms.successful.percentiles.p9999,",
        "benchmarks[].metrics.turns[].queue_depth",
    ] {
        assert!(note.contains(path), "{path} missing in {note}");
    }
    // everything known is still there
    let v = values(&base);
    check_summaries(&guidellm_json(V081), &v);
}
