//! `pcp-llm compare` on archives written by guidellm2pcp: the same numbers as from the
//! result files they were imported from; an archive without GuideLLM metrics is refused.

mod support;

use serde_json::Value;
use std::process::{Command, Output};
use support::{TempDir, fixture, run_importer, text};

const BIN: &str = env!("CARGO_BIN_EXE_pcp-llm");
const V053: &str = "v0.5.3-prefix-concurrent-2-4.json";
const V081: &str = "v0.8.1-prefix-multiturn-concurrent-2-4.json";
const V03: &str = "v0.3-handmade.json";

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run pcp-llm")
}

fn fx(name: &str) -> String {
    fixture(name).to_string_lossy().into_owned()
}

fn import(dir: &TempDir, file: &str, base: &str) -> String {
    let out = dir.path(base).to_string_lossy().into_owned();
    let o = run_importer(&["-q", &fx(file), "-o", &out]);
    assert!(o.status.success(), "import: {}", text(&o.stderr));
    out
}

fn json(args: &[&str]) -> Value {
    let mut a = vec!["compare", "-F", "json"];
    a.extend_from_slice(args);
    let o = run(&a);
    assert!(o.status.success(), "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The report without what necessarily differs between a file and its archive: the input
/// descriptions, and the confidence level (a label in the archive, not read).
fn numbers(mut doc: Value) -> Value {
    doc.as_object_mut().unwrap().remove("inputs");
    for s in doc["steps"].as_array_mut().unwrap() {
        assert!(s["baseline"]["values"]["requests_per_second"].is_number());
        s["baseline"].as_object_mut().unwrap().remove("confidence");
    }
    doc
}

#[test]
fn archives_give_the_same_numbers_as_their_result_files() {
    let dir = TempDir::new("compare-archives");
    let a = import(&dir, V081, "new");
    let b = import(&dir, V053, "old");
    let from_files = json(&["-n", "new", "-n", "old", &fx(V081), &fx(V053)]);
    // base name, .meta and volume names all work; a mixture of file and archive too
    for args in [
        vec![a.clone(), b.clone()],
        vec![format!("{a}.meta"), format!("{b}.0")],
        vec!["-n".into(), "new".into(), fx(V081), format!("{b}.index")],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let from_archives = json(&args);
        assert_eq!(
            numbers(from_archives.clone()),
            numbers(from_files.clone()),
            "{args:?}"
        );
        assert_eq!(from_archives["inputs"][1]["name"], "old");
    }
    let doc = json(&[&a, &b]);
    assert_eq!(doc["inputs"][0]["shape"], "archive");
    // the confidence intervals came through the archive (0.8.1 has some)
    assert!(
        doc["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["baseline"]["ci"]["request_latency_median"].is_array())
    );
    // the text report names the archives
    let o = run(&["compare", &a, &b]);
    assert!(o.status.success());
    let t = text(&o.stdout);
    assert!(
        t.contains("Baseline: new = ") && t.contains("(PCP archive)"),
        "{t}"
    );
}

#[test]
fn archives_of_several_strategies_match_like_files() {
    let dir = TempDir::new("compare-archives-03");
    let a = import(&dir, V03, "legacy");
    let b = import(&dir, V053, "old");
    assert_eq!(
        numbers(json(&[&a, &b])),
        numbers(json(&["-n", "legacy", "-n", "old", &fx(V03), &fx(V053)]))
    );
}

#[test]
fn an_archive_without_guidellm_metrics_is_refused() {
    let dir = TempDir::new("compare-archive-bad");
    let base = dir.path("other").to_string_lossy().into_owned();
    // a real archive, written by PCP's own import library, with no guidellm.* metric
    let script = r#"
import sys
from pcp import pmi
import cpmapi as c
log = pmi.pmiLogImport(sys.argv[1])
log.pmiAddMetric("sample.value", c.PM_ID_NULL, c.PM_TYPE_DOUBLE, c.PM_INDOM_NULL,
                 c.PM_SEM_INSTANT, log.pmiUnits(0, 0, 0, 0, 0, 0))
log.pmiPutValue("sample.value", "", "1.5")
log.pmiWrite(1795511704, 0)
log.pmiEnd()
"#;
    let o = Command::new("/usr/bin/python3")
        .args(["-c", script, &base])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let good = import(&dir, V053, "good");
    for args in [vec![good.as_str(), base.as_str()], vec![&base, &good]] {
        let mut a = vec!["compare"];
        a.extend_from_slice(&args);
        let o = run(&a);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(o.stdout.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&base) && err.contains("archive without GuideLLM metrics"),
            "{err}"
        );
    }
    // a broken archive: one line too
    std::fs::write(format!("{base}.meta"), b"not an archive").unwrap();
    let o = run(&["compare", &good, &base]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot open the archive"), "{err}");
}
