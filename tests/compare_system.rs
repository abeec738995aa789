//! `pcp llm compare` with the system behind each step, end to end: the agent under a private
//! pmcd reads the stand-in NVML library (tests/nvml-stub) and a replayed vLLM endpoint whose
//! KV-cache usage the test sets over time, a real pmlogger records it, a GuideLLM result file
//! moved into the recording's time is imported with the logger's host name, and pmlogextract
//! merges the two. The GPU columns must give the stub's power draw and the energy per output
//! token that it implies, the KV-cache column the peak fed during each window. About 25 s.

mod util;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use util::{
    FakeEndpoint, GUIDELLM2PCP, Mode, NvmlStub, PCP_LLM, Pmlogger, PrivatePmcd, TempDir,
    archive_host, free_port, guidellm_json, ok, run, shift_times, vllm_capture,
};

/// The stub's power draw of its three GPUs (tests/nvml-stub/expected.txt), milliwatts; its
/// energy counters grow at the same rate. Its MIG instances (gpu2/mig*) have no power.
const POWER_MW: [f64; 3] = [350123.0, 98765.0, 75000.0];

/// The 0.5.3 fixture with every Unix time moved so that its first benchmark starts at `start`.
fn moved_fixture(dir: &Path, start: f64) -> (std::path::PathBuf, Value) {
    let mut doc = guidellm_json("v0.5.3-prefix-concurrent-2-4.json");
    let delta = start - doc["benchmarks"][0]["start_time"].as_f64().unwrap();
    shift_times(&mut doc, delta);
    let p = dir.join("moved.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    (p, doc)
}

/// A vLLM capture whose KV-cache usage is `usage`.
fn vllm_body(usage: f64) -> Mode {
    let text = String::from_utf8(vllm_capture("busy-1.metrics.txt")).unwrap();
    let line = "vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"Qwen/Qwen1.5-0.5B-Chat\"} ";
    let at = text.find(line).expect("kv usage line in the capture");
    let end = at + text[at..].find('\n').unwrap();
    let body = format!("{}{line}{usage}{}", &text[..at], &text[end..]);
    Mode::Body(Arc::new(body.into_bytes()))
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn gpu_and_kv_cache_columns_from_pmlogger_the_stand_in_nvml_and_a_replayed_vllm() {
    let tmp = TempDir::new("compare-system");
    let nvml = NvmlStub::build("compare-system-nvml");
    // outside the benchmarks' windows the KV cache is nearly empty
    let vllm = FakeEndpoint::start(free_port(), vllm_body(0.05));
    let p = PrivatePmcd::start(
        "compare-system",
        &format!(
            "[gpu]\ninterval = \"100ms\"\nlibrary = \"{}\"\n\n[[vllm]]\nname = \"vllm0\"\nurl = \"http://127.0.0.1:{}/metrics\"\ninterval = \"250ms\"\n",
            nvml.lib.display(),
            vllm.port
        ),
    );
    // wait for the first GPU and vLLM samples
    let t0 = Instant::now();
    while p.value("llm.gpu.energy", "gpu0").is_none()
        || p.values("llm.vllm.kv_cache.usage").is_empty()
    {
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "no GPU or vLLM values"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let config = tmp.path().join("logger.config");
    std::fs::write(
        &config,
        "log mandatory on 500 msec {\n    llm.gpu.energy\n    llm.gpu.power.usage\n    llm.gpu.fb.used\n    llm.vllm.kv_cache.usage\n}\n",
    )
    .unwrap();
    let logger = tmp.path().join("logger").to_string_lossy().into_owned();
    let began = now();
    let mut pmlogger = Pmlogger::new(&p.host(), &config, &logger)
        .samples(34)
        .spawn();
    // benchmark k runs from WINDOWS[k].0 to .1 seconds after `began` (see moved_fixture below);
    // the KV cache is at KV[k] from 1.5 s after its start to 1.5 s before its end, and at 0.99
    // only from 1 s after the last one: a peak no window may show
    const WINDOWS: [(f64, f64); 2] = [(1.5, 6.5), (8.53, 13.53)];
    const KV: [f64; 2] = [0.42, 0.77];
    let mut plan: Vec<(f64, f64)> = Vec::new();
    for (w, kv) in WINDOWS.iter().zip(KV) {
        plan.push((w.0 + 1.5, kv));
        plan.push((w.1 - 1.5, 0.05));
    }
    plan.push((WINDOWS[1].1 + 1.0, 0.99));
    for (at, usage) in plan {
        let wait = began + at - now();
        if wait > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(wait));
        }
        vllm.set(vllm_body(usage));
    }
    let status = pmlogger.wait();
    assert!(status.success(), "pmlogger: {}", pmlogger.log());
    drop(p);
    let host = archive_host(&logger);

    // benchmarks from 1.5 s into the recording (the fixture spans about 12 s of its 16.5)
    let (moved, doc) = moved_fixture(tmp.path(), began + WINDOWS[0].0);
    let bench = tmp.path().join("bench").to_string_lossy().into_owned();
    ok(
        run(Command::new(GUIDELLM2PCP).args([
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
        // the KV cache's peak is what the endpoint served during this window, not the
        // 0.99 served after the last one
        let kv = v["kv_cache_usage_peak"].as_f64().unwrap();
        assert!(
            (kv - KV[k] * 100.0).abs() < 1e-9,
            "step {k}: KV peak {kv} %"
        );
        // the plain import has no node data: null, never 0
        assert!(s["others"][0]["values"]["gpu_power_mean"].is_null());
        assert!(s["others"][0]["values"]["kv_cache_usage_peak"].is_null());
    }
    // what was not recorded is left out, not shown as zeros
    let omitted = rep["omitted"].as_array().unwrap();
    for id in ["gpu_utilization_mean", "preemptions", "kv_offload_traffic"] {
        assert!(omitted.contains(&Value::from(id)), "{id} not omitted");
    }
}
