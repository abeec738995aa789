//! The Grafana dashboards in deploy/grafana/: each file is a dashboard of the shape Grafana's
//! dashboard schema asks (uid, title, schemaVersion, panels with ids, types, grid positions and
//! targets), reads from one of grafana-pcp's data sources (the Redis/Valkey one for pmseries,
//! Vector for one live pmcd), and every metric a target queries is a leaf of the generated
//! namespace pmda/pmns (the agent's catalogue) or a name guidellm2pcp writes for the fixtures.

mod util;

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;
use util::*;

const DATA_SOURCES: [&str; 3] = [
    "performancecopilot-redis-datasource",
    "performancecopilot-valkey-datasource",
    "performancecopilot-vector-datasource",
];

/// Leaf names of a PMNS file in pmns(5) form ("parent { child PMID ... }").
fn pmns_leaves(text: &str) -> BTreeSet<String> {
    let mut leaves = BTreeSet::new();
    let mut parent: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('/') || line.starts_with('*') {
            continue;
        }
        if let Some(name) = line.strip_suffix('{') {
            parent = Some(name.trim().to_string());
        } else if line == "}" {
            parent = None;
        } else if let Some(p) = &parent {
            let mut words = line.split_whitespace();
            let child = words.next().unwrap();
            if words.next().is_some_and(|id| id.contains(':')) {
                leaves.insert(format!("{p}.{child}"));
            }
        }
    }
    leaves
}

/// The guidellm.* names guidellm2pcp writes for the JSON fixtures (pminfo on its archives).
fn guidellm_names() -> BTreeSet<String> {
    let tmp = TempDir::new("fleet-dash");
    let mut names = BTreeSet::new();
    for (i, f) in [
        "v0.4-handmade.json",
        "v0.8.1-prefix-multiturn-concurrent-2-4.json",
    ]
    .iter()
    .enumerate()
    {
        let base = tmp.path().join(format!("a{i}"));
        let out = run(Command::new(GUIDELLM2PCP)
            .arg(guidellm(f))
            .arg("-q")
            .arg("-o")
            .arg(&base));
        assert!(out.status.success(), "guidellm2pcp {f}: {out:?}");
        let out = run(Command::new("pminfo").arg("-a").arg(&base));
        names.extend(stdout(&out).lines().map(|l| l.trim().to_string()));
    }
    assert!(names.len() > 50, "few guidellm names: {names:?}");
    names
}

/// The metric names in a pmseries or Vector expression: dotted words starting llm. or guidellm.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric())) {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_' || bytes[i] == '.')
            {
                i += 1;
            }
            let word: String = bytes[start..i].iter().collect();
            if word.starts_with("llm.") || word.starts_with("guidellm.") {
                out.push(word);
            }
        } else {
            i += 1;
        }
    }
    out
}

fn int(v: &Value, what: &str) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("{what}: not an integer: {v}"))
}

/// Shape checks; the (file, expression) pairs of every target.
fn check_dashboard(file: &str, d: &Value) -> Vec<String> {
    let s = |k: &str| {
        d[k].as_str()
            .filter(|x| !x.is_empty())
            .unwrap_or_else(|| panic!("{file}: no {k} string"))
            .to_string()
    };
    s("uid");
    s("title");
    assert!(int(&d["schemaVersion"], &format!("{file}: schemaVersion")) >= 30);
    assert!(
        d["time"]["from"].is_string() && d["time"]["to"].is_string(),
        "{file}: time"
    );
    let vars = d["templating"]["list"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: templating.list"));
    let ds_var = vars
        .iter()
        .find(|v| v["name"] == "datasource" && v["type"] == "datasource")
        .unwrap_or_else(|| panic!("{file}: no datasource variable"));
    let ds_type = ds_var["query"].as_str().unwrap_or_default();
    assert!(
        DATA_SOURCES.contains(&ds_type),
        "{file}: data source {ds_type}"
    );
    let panels = d["panels"]
        .as_array()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| panic!("{file}: no panels"));
    let mut ids = BTreeSet::new();
    let mut exprs = Vec::new();
    for p in panels {
        let title = p["title"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: panel title"));
        let at = format!("{file}: panel {title:?}");
        assert!(ids.insert(int(&p["id"], &at)), "{at}: id repeated");
        assert!(
            p["type"].as_str().is_some_and(|t| !t.is_empty()),
            "{at}: type"
        );
        let g = &p["gridPos"];
        let (x, w, h) = (int(&g["x"], &at), int(&g["w"], &at), int(&g["h"], &at));
        int(&g["y"], &at);
        assert!(x >= 0 && w > 0 && h > 0 && x + w <= 24, "{at}: gridPos {g}");
        assert_eq!(
            p["datasource"]["type"].as_str(),
            Some(ds_type),
            "{at}: datasource"
        );
        let targets = p["targets"]
            .as_array()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| panic!("{at}: no targets"));
        let mut refs = BTreeSet::new();
        for t in targets {
            let r = t["refId"].as_str().unwrap_or_else(|| panic!("{at}: refId"));
            assert!(refs.insert(r.to_string()), "{at}: refId {r} repeated");
            let e = t["expr"].as_str().filter(|e| !e.is_empty());
            exprs.push(
                e.unwrap_or_else(|| panic!("{at}: target {r}: no expr"))
                    .to_string(),
            );
        }
    }
    exprs
}

#[test]
fn dashboards_are_valid_and_query_only_known_metrics() {
    let leaves = pmns_leaves(&std::fs::read_to_string(repo().join("pmda/pmns")).unwrap());
    assert!(
        leaves.contains("llm.vllm.kv_cache.usage"),
        "pmns parse: {leaves:?}"
    );
    let guidellm = guidellm_names();

    // The checker itself can say no.
    assert!(!leaves.contains("llm.vllm.no_such_metric"));
    assert_eq!(
        metric_names("rate(llm.vllm.tokens.prompt{hostname==\"a.b\"}) + guidellm.x"),
        ["llm.vllm.tokens.prompt", "guidellm.x"]
    );

    let dir = repo().join("deploy/grafana");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "dashboards in {}: {files:?}",
        dir.display()
    );
    let mut uids = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for path in &files {
        let file = path.strip_prefix(repo()).unwrap().display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let d: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(uids.insert(d["uid"].to_string()), "{file}: uid repeated");
        for expr in check_dashboard(&file, &d) {
            let names = metric_names(&expr);
            assert!(
                !names.is_empty(),
                "{file}: {expr:?} names no llm./guidellm. metric"
            );
            for n in names {
                assert!(
                    leaves.contains(&n) || guidellm.contains(&n),
                    "{file}: {expr:?}: {n} is in neither pmda/pmns nor guidellm2pcp's output"
                );
                seen.insert(n);
            }
        }
    }
    // The four subjects are covered.
    for prefix in [
        "llm.vllm.",
        "llm.gpu.",
        "llm.membw.",
        "llm.pcie.host.",
        "guidellm.",
    ] {
        assert!(
            seen.iter().any(|n| n.starts_with(prefix)),
            "no dashboard queries {prefix}*"
        );
    }
}
