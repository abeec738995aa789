//! `pcp-llm compare` on archives written by guidellm2pcp: the same numbers as from the
//! result files they were imported from; an archive without GuideLLM metrics is refused.

mod util;

use serde_json::Value;
use std::process::Command;
use util::{
    TempDir, guidellm, guidellm_arg, guidellm_json, import, run_importer, run_pcp_llm, text, tool,
};

const V053: &str = "v0.5.3-prefix-concurrent-2-4.json";
const V081: &str = "v0.8.1-prefix-multiturn-concurrent-2-4.json";
const V03: &str = "v0.3-handmade.json";

fn json(args: &[&str]) -> Value {
    let mut a = vec!["compare", "-F", "json"];
    a.extend_from_slice(args);
    let o = run_pcp_llm(&a);
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
    let a = import(&dir, "new", &[&guidellm(V081)], &["-q"]);
    let b = import(&dir, "old", &[&guidellm(V053)], &["-q"]);
    let from_files = json(&[
        "-n",
        "new",
        "-n",
        "old",
        &guidellm_arg(V081),
        &guidellm_arg(V053),
    ]);
    // base name, .meta and volume names all work; a mixture of file and archive too
    for args in [
        vec![a.clone(), b.clone()],
        vec![format!("{a}.meta"), format!("{b}.0")],
        vec![
            "-n".into(),
            "new".into(),
            guidellm_arg(V081),
            format!("{b}.index"),
        ],
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
    let o = run_pcp_llm(&["compare", &a, &b]);
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
    let a = import(&dir, "legacy", &[&guidellm(V03)], &["-q"]);
    let b = import(&dir, "old", &[&guidellm(V053)], &["-q"]);
    assert_eq!(
        numbers(json(&[&a, &b])),
        numbers(json(&[
            "-n",
            "legacy",
            "-n",
            "old",
            &guidellm_arg(V03),
            &guidellm_arg(V053)
        ]))
    );
}

#[test]
fn an_archive_without_guidellm_metrics_is_refused() {
    let dir = TempDir::new("compare-archive-bad");
    let base = dir.join("other").to_string_lossy().into_owned();
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
    let good = import(&dir, "good", &[&guidellm(V053)], &["-q"]);
    for args in [vec![good.as_str(), base.as_str()], vec![&base, &good]] {
        let mut a = vec!["compare"];
        a.extend_from_slice(&args);
        let o = run_pcp_llm(&a);
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
    let o = run_pcp_llm(&["compare", &good, &base]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot open the archive"), "{err}");
}

/// Writes a node archive through PCP's own import library, as pmlogger would have recorded
/// the agent: llm.gpu.power.usage (mW) and llm.gpu.energy (mJ counter) of two GPUs and
/// llm.vllm.kv_cache.usage of one engine, every 0.5 s from T0 to T1. Inside window k the
/// GPUs draw POWER[k] W together (60/40) and the KV cache peaks at KV[k]; outside, 30 W and a
/// KV usage of 0.99 that no step may show.
const NODE_ARCHIVE: &str = r#"
import sys, json, inspect
from pcp import pmi
import cpmapi as c
# pmiWrite's second argument is microseconds up to PCP 7.1 and nanoseconds from 7.2 (the
# parameter is named after its unit).
SUBSEC = 1e9 if "nsec" in inspect.signature(pmi.pmiLogImport.pmiWrite).parameters else 1e6
base, host, t0, t1, windows, power, kv = sys.argv[1:8]
t0, t1 = float(t0), float(t1)
windows, power, kv = json.loads(windows), json.loads(power), json.loads(kv)
log = pmi.pmiLogImport(base)
log.pmiSetHostname(host)
log.pmiSetTimezone("UTC")
gpus = log.pmiInDom(505, 1)
log.pmiAddInstance(gpus, "0 GPU-stand-in-0", 0)
log.pmiAddInstance(gpus, "1 GPU-stand-in-1", 1)
engines = log.pmiInDom(505, 2)
log.pmiAddInstance(engines, "local/0", 0)
units = log.pmiUnits(0, 0, 1, 0, 0, -3)
log.pmiAddMetric("llm.gpu.power.usage", log.pmiID(505, 1, 1), c.PM_TYPE_U32, gpus, c.PM_SEM_INSTANT, units)
log.pmiAddMetric("llm.gpu.energy", log.pmiID(505, 1, 2), c.PM_TYPE_U64, gpus, c.PM_SEM_COUNTER, units)
log.pmiAddMetric("llm.vllm.kv_cache.usage", log.pmiID(505, 2, 1), c.PM_TYPE_DOUBLE, engines, c.PM_SEM_INSTANT, log.pmiUnits(0, 0, 0, 0, 0, 0))
sockets = log.pmiInDom(505, 3)
log.pmiAddInstance(sockets, "socket0", 0)
ports = log.pmiInDom(505, 4)
log.pmiAddInstance(ports, "0000:00", 0)
bytes_ = log.pmiUnits(1, 0, 0, 0, 0, 0)
counters = [("llm.membw.read", sockets, "socket0"), ("llm.membw.write", sockets, "socket0"),
            ("llm.pcie.host.in", ports, "0000:00"), ("llm.pcie.host.out", ports, "0000:00")]
for i, (name, indom, _) in enumerate(counters):
    log.pmiAddMetric(name, log.pmiID(505, 3, i), c.PM_TYPE_U64, indom, c.PM_SEM_COUNTER, bytes_)
# bytes per second of each counter: in window 0, in window 1, outside
rates = [(10e9, 20e9, 1e9), (4e9, 8e9, 1e9), (2e9, 4e9, 1e9), (1e9, 2e9, 1e9)]
count = [0, 0, 0, 0]
energy = [5_000_000_000, 7_000_000_000]
i = 0
while True:
    t = t0 + 0.5 * i
    if t > t1:
        break
    k = next((k for k, (s, e) in enumerate(windows) if s <= t <= e), None)
    total_mw = int((power[k] if k is not None else 30) * 1000)
    per_gpu = [total_mw * 6 // 10, total_mw * 4 // 10]
    if k is None:
        usage = 0.99
    else:
        s, e = windows[k]
        usage = kv[k] * (1 - abs((t - (s + e) / 2) / (e - s)))
    for g in (0, 1):
        energy[g] += per_gpu[g] // 2
        log.pmiPutValue("llm.gpu.power.usage", "%d GPU-stand-in-%d" % (g, g), str(per_gpu[g]))
        log.pmiPutValue("llm.gpu.energy", "%d GPU-stand-in-%d" % (g, g), str(energy[g]))
    log.pmiPutValue("llm.vllm.kv_cache.usage", "local/0", repr(usage))
    for j, (name, _, inst) in enumerate(counters):
        count[j] += int(rates[j][k if k is not None else 2] * 0.5)
        log.pmiPutValue(name, inst, str(count[j]))
    sec = int(t)
    log.pmiWrite(sec, int(round((t - sec) * SUBSEC)))
    i += 1
log.pmiEnd()
"#;

#[test]
fn system_columns_from_a_merged_archive() {
    let dir = TempDir::new("compare-system");
    let doc: Value = guidellm_json(V053);
    let benches = doc["benchmarks"].as_array().unwrap();
    let windows: Vec<(f64, f64)> = benches
        .iter()
        .map(|b| {
            (
                b["start_time"].as_f64().unwrap(),
                b["end_time"].as_f64().unwrap(),
            )
        })
        .collect();
    let tokens: Vec<f64> = benches
        .iter()
        .map(|b| {
            b["metrics"]["output_token_count"]["total"]["total_sum"]
                .as_f64()
                .unwrap()
        })
        .collect();
    let power = [150.0, 250.0];
    let kv = [0.42, 0.77];
    // the import, named like the node, then the node archive around it, then pmlogextract
    let bench = dir.join("bench").to_string_lossy().into_owned();
    let o = run_importer(&["-q", "-H", "testhost", &guidellm_arg(V053), "-o", &bench]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let node = dir.join("node").to_string_lossy().into_owned();
    let win_json = serde_json::to_string(&windows).unwrap();
    tool(
        "/usr/bin/python3",
        &[
            "-c",
            NODE_ARCHIVE,
            &node,
            "testhost",
            &(windows[0].0 - 3.0).to_string(),
            &(windows[1].1 + 3.0).to_string(),
            &win_json,
            &serde_json::to_string(&power).unwrap(),
            &serde_json::to_string(&kv).unwrap(),
        ],
    );
    let merged = dir.join("merged").to_string_lossy().into_owned();
    tool("pmlogextract", &[&node, &bench, &merged]);

    // merged against the plain import: the baseline has system values, the other none
    let doc = json(&["-n", "merged", "-n", "plain", &merged, &bench]);
    let ids: Vec<&str> = doc["quantities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["system"] == true)
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "gpu_power_mean",
            "energy_per_output_token",
            "kv_cache_usage_peak",
            "cpu_memory_bandwidth_mean",
            "host_pcie_bandwidth_mean"
        ]
    );
    let omitted = doc["omitted"].as_array().unwrap();
    assert!(omitted.contains(&Value::from("gpu_utilization_mean")));
    assert!(omitted.contains(&Value::from("preemptions")));
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
    for (k, s) in steps.iter().enumerate() {
        let v = &s["baseline"]["values"];
        let p = v["gpu_power_mean"].as_f64().unwrap();
        assert!(
            close(p, power[k]),
            "step {k}: power {p} W, fed {}",
            power[k]
        );
        let j = v["energy_per_output_token"].as_f64().unwrap();
        let want = power[k] * (windows[k].1 - windows[k].0) / tokens[k];
        assert!(close(j, want), "step {k}: {j} J/token, expected {want}");
        let u = v["kv_cache_usage_peak"].as_f64().unwrap();
        // the ramp's top is sampled at the window's middle, or within 0.25 s of it
        assert!(
            u <= kv[k] * 100.0 + 1e-9 && u >= kv[k] * 100.0 * 0.94,
            "step {k}: {u}"
        );
        // counters: read + write, in + out, at the rates fed in each window (GB/s)
        let membw = v["cpu_memory_bandwidth_mean"].as_f64().unwrap();
        assert!(close(membw, [14.0, 28.0][k]), "step {k}: {membw} GB/s");
        let pcie = v["host_pcie_bandwidth_mean"].as_f64().unwrap();
        assert!(close(pcie, [3.0, 6.0][k]), "step {k}: {pcie} GB/s");
        // no node data for the other input's windows: null, never 0
        let o = &s["others"][0];
        for id in &ids {
            assert!(o["values"][id].is_null(), "{id}: {}", o["values"][id]);
            assert!(o["pct_change"][id].is_null());
        }
    }
    // text: the block is there, the other's cells are "-"
    let o = run_pcp_llm(&["compare", "-n", "merged", "-n", "plain", &merged, &bench]);
    let t = text(&o.stdout);
    let block: Vec<&str> = t
        .lines()
        .skip_while(|l| !l.starts_with("GPU power mean"))
        .skip(2)
        .take(2)
        .collect();
    assert_eq!(block.len(), 2, "{t}");
    let cells: Vec<&str> = block[0].split_whitespace().collect();
    assert_eq!(cells, ["concurrent@2", "150.0", "-", "-", "-"], "{t}");
    assert!(t.contains("system columns omitted (no values in the time window of any step)"));

    // two imports without node data: no system column at all, and never zeros
    let doc = json(&[&bench, &bench]);
    assert!(
        doc["quantities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["system"] == false)
    );
    assert_eq!(doc["omitted"].as_array().unwrap().len(), 10);
}
