//! `pcp llm compare` with the system behind each step, end to end: the agent under a private
//! pmcd reads the stand-in NVML library (tests/nvml-stub), a real pmlogger records it, a
//! GuideLLM result file moved into the recording's time is imported with the logger's host
//! name, and pmlogextract merges the two. The GPU columns must give the stub's power draw and
//! the energy per output token that it implies. Takes about 25 s.

mod common;

use common::{PrivatePmcd, TempDir, repo, run};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PCP_LLM: &str = env!("CARGO_BIN_EXE_pcp-llm");
const IMPORTER: &str = env!("CARGO_BIN_EXE_guidellm2pcp");

/// The stub's power draw of its three GPUs (tests/nvml-stub/expected.txt), milliwatts; its
/// energy counters grow at the same rate. Its MIG instances (gpu2/mig*) have no power.
const POWER_MW: [f64; 3] = [350123.0, 98765.0, 75000.0];

fn ok(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stub(dir: &Path) -> std::path::PathBuf {
    let lib = dir.join("libnvidia-ml.so.1");
    ok(
        run(Command::new("cc")
            .args(["-shared", "-fPIC", "-O1", "-o"])
            .arg(&lib)
            .arg(format!(
                "-DCONTROL_FILE=\"{}\"",
                dir.join("control").display()
            ))
            .arg(repo().join("tests/nvml-stub/nvml_stub.c"))),
        "cc",
    );
    lib
}

/// The 0.5.3 fixture with every Unix time moved so that its first benchmark starts at `start`.
fn moved_fixture(dir: &Path, start: f64) -> (std::path::PathBuf, Value) {
    let path = repo().join("tests/fixtures/guidellm/v0.5.3-prefix-concurrent-2-4.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let delta = start - doc["benchmarks"][0]["start_time"].as_f64().unwrap();
    fn shift(v: &mut Value, d: f64) {
        match v {
            Value::Object(m) => m.values_mut().for_each(|x| shift(x, d)),
            Value::Array(a) => a.iter_mut().for_each(|x| shift(x, d)),
            Value::Number(n) if n.as_f64().is_some_and(|x| x > 1e9) => {
                *v = Value::from(n.as_f64().unwrap() + d)
            }
            _ => {}
        }
    }
    shift(&mut doc, delta);
    let p = dir.join("moved.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    (p, doc)
}

#[test]
fn gpu_power_and_energy_per_token_from_pmlogger_and_the_stand_in_nvml() {
    let tmp = TempDir::new("compare-system");
    let lib = stub(tmp.path());
    let p = PrivatePmcd::start(
        "compare-system",
        &format!(
            "[gpu]\ninterval = \"100ms\"\nlibrary = \"{}\"\n",
            lib.display()
        ),
    );
    // wait for the first GPU sample
    let t0 = Instant::now();
    while p.value("llm.gpu.energy", "gpu0").is_none() {
        assert!(t0.elapsed() < Duration::from_secs(15), "no GPU values");
        std::thread::sleep(Duration::from_millis(200));
    }
    let config = tmp.path().join("logger.config");
    std::fs::write(
        &config,
        "log mandatory on 500 msec {\n    llm.gpu.energy\n    llm.gpu.power.usage\n    llm.gpu.fb.used\n}\n",
    )
    .unwrap();
    let logger = tmp.path().join("logger").to_string_lossy().into_owned();
    let began = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    ok(
        run(Command::new("pmlogger")
            .arg("-h")
            .arg(p.host())
            .arg("-c")
            .arg(&config)
            .args(["-s", "34", "-l"])
            .arg(tmp.path().join("pmlogger.log"))
            .arg(&logger)),
        "pmlogger",
    );
    drop(p);
    let label = ok(
        run(Command::new("pmdumplog").args(["-L", &logger])),
        "pmdumplog",
    );
    let host = label
        .lines()
        .find_map(|l| l.trim().strip_prefix("Performance metrics from host "))
        .unwrap()
        .trim()
        .to_string();

    // benchmarks from 1.5 s into the recording (the fixture spans about 12 s of its 16.5)
    let (moved, doc) = moved_fixture(tmp.path(), began + 1.5);
    let bench = tmp.path().join("bench").to_string_lossy().into_owned();
    ok(
        run(Command::new(IMPORTER).args([
            "-q",
            "-H",
            &host,
            moved.to_str().unwrap(),
            "-o",
            &bench,
        ])),
        "guidellm2pcp",
    );
    let merged = tmp.path().join("merged").to_string_lossy().into_owned();
    ok(
        run(Command::new("pmlogextract").args([&logger, &bench, &merged])),
        "pmlogextract",
    );

    let out = ok(
        run(Command::new(PCP_LLM).args(["compare", "-F", "json", &merged, &bench])),
        "pcp-llm compare",
    );
    let rep: Value = serde_json::from_str(&out).unwrap();
    let total_w: f64 = POWER_MW.iter().sum::<f64>() / 1000.0;
    for (k, b) in doc["benchmarks"].as_array().unwrap().iter().enumerate() {
        let s = &rep["steps"][k];
        let v = &s["baseline"]["values"];
        let power = v["gpu_power_mean"].as_f64().unwrap();
        assert!(
            (power - total_w).abs() < 1e-9,
            "step {k}: {power} W, the stub draws {total_w} W"
        );
        let tokens = b["metrics"]["output_token_count"]["total"]["total_sum"]
            .as_f64()
            .unwrap();
        let span = b["end_time"].as_f64().unwrap() - b["start_time"].as_f64().unwrap();
        let want = total_w * span / tokens;
        let j = v["energy_per_output_token"].as_f64().unwrap();
        // the agent samples the counter every 100 ms, pmlogger reads it every 500 ms
        assert!(
            (j - want).abs() / want < 0.08,
            "step {k}: {j} J/token, the stub's power implies {want}"
        );
        // memory: the three GPUs, not their MIG instances again
        let mem = v["gpu_memory_used_peak"].as_f64().unwrap();
        let want_mem = (60000000000.0 + 1073741824.0 + 2147483648.0) / (1u64 << 30) as f64;
        assert!((mem - want_mem).abs() < 1e-9, "step {k}: {mem} GiB");
        // the plain import has no node data: null, never 0
        assert!(s["others"][0]["values"]["gpu_power_mean"].is_null());
    }
    // nothing about vLLM was recorded: those columns are left out, not zeros
    let omitted = rep["omitted"].as_array().unwrap();
    for id in [
        "kv_cache_usage_peak",
        "requests_waiting_peak",
        "gpu_utilization_mean",
    ] {
        assert!(omitted.contains(&Value::from(id)), "{id} not omitted");
    }
}
