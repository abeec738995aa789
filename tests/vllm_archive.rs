//! The empty-archive scenario: pmlogger starts with the shipped benchmark configuration while
//! no vLLM endpoint is up; the endpoint starts 10 s later with growing counters; pmlogger stops
//! after 40 s. The archive must hold values for every logged llm.vllm.* metric of the served
//! families from the first or second sample after the endpoint came up (interval quantiles,
//! which need two scrapes, from the third), and pmrep -a must rate-convert the counters.
//! Ports: free ones for pmcd and the endpoint. Takes about 45 s.

mod util;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use util::{
    Options, Pmlogger, PrivatePmcd, fixture, free_port, now_of_day, repo, seconds_of_day, vllm_conf,
};

/// pmdumplog output -> record times and, per metric, the times of records with a value.
fn records(dump: &str) -> (Vec<f64>, BTreeMap<String, Vec<f64>>) {
    let mut times = Vec::new();
    let mut with_values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in dump.lines() {
        if let Some(t) = line
            .split_whitespace()
            .next()
            .filter(|w| !line.starts_with(' ') && w.contains(':'))
            .and_then(seconds_of_day)
        {
            times.push(t);
            current = None;
            continue;
        }
        let l = line.trim();
        if let Some(open) = l.find(" (llm.")
            && let Some(close) = l[open..].find("):")
        {
            let name = l[open + 2..open + close].to_string();
            current = Some(name.clone());
            if l[open + close..].contains(" value ") {
                let v = with_values.entry(name).or_default();
                if v.last() != times.last() {
                    v.push(*times.last().unwrap());
                }
            }
            continue;
        }
        if l.starts_with("inst [")
            && l.contains(" value ")
            && let Some(name) = &current
        {
            let v = with_values.entry(name.clone()).or_default();
            if v.last() != times.last() {
                v.push(*times.last().unwrap());
            }
        }
    }
    (times, with_values)
}

#[test]
fn benchmark_archive_is_never_empty() {
    // pmdalinux too, as on a benchmark node: the shipped configuration logs kernel metrics
    let options = Options {
        with_linux: true,
        ..Options::default()
    };
    let port = free_port();
    let pmcd = PrivatePmcd::start_opts("archive", &vllm_conf(port, "interval = \"1s\""), options);
    let arch = pmcd.dir.path().join("bench");
    let mut logger = Pmlogger::new(
        &pmcd.host(),
        repo().join("deploy/pmlogger/benchmark.config"),
        &arch,
    )
    .spawn();
    std::thread::sleep(Duration::from_secs(10));
    let mut server = Command::new("python3")
        .arg(repo().join("bench/serve-metrics.py"))
        .arg(fixture(
            "vllm/vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt",
        ))
        .args(["--port", &port.to_string(), "--bump"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bench/serve-metrics.py");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("serving"), "{line}");
    let up_at = now_of_day();
    std::thread::sleep(Duration::from_secs(30));
    logger.stop();
    let _ = server.kill();
    let _ = server.wait();

    let plog = logger.log();
    let dump = Command::new("pmdumplog")
        .arg(&arch)
        .output()
        .expect("pmdumplog");
    let dump = String::from_utf8_lossy(&dump.stdout).to_string();
    let (times, with_values) = records(&dump);
    assert!(
        times.len() >= 35,
        "{} records; pmlogger log:\n{plog}",
        times.len()
    );
    let after: Vec<f64> = times.iter().copied().filter(|t| *t > up_at).collect();
    // Every llm.vllm metric of the families the served capture has.
    let served = [
        "requests.running",
        "requests.waiting",
        "kv_cache.usage",
        "prefix_cache.queries",
        "prefix_cache.hits",
        "tokens.prompt",
        "tokens.generation",
        "preemptions",
        "requests.success",
        "cache_config.info",
        "cache_config.block_size",
        "cache_config.num_gpu_blocks",
        "cache_config.gpu_memory_utilization",
    ];
    let hists = [
        "ttft",
        "itl",
        "tpot",
        "request_tpot",
        "e2e",
        "queue_time",
        "prefill_time",
        "decode_time",
        "inference_time",
        "request_prompt_tokens",
        "request_generation_tokens",
        "iteration_tokens",
        "request_max_generation_tokens",
        "request_params_n",
        "request_params_max_tokens",
    ];
    let mut expect: Vec<(String, usize)> = served
        .iter()
        .map(|s| (format!("llm.vllm.{s}"), 2))
        .collect();
    for h in hists {
        for part in ["sum", "count", "bucket"] {
            expect.push((format!("llm.vllm.{h}.{part}"), 2));
        }
        for q in ["p50", "p90", "p99"] {
            expect.push((format!("llm.vllm.{h}.{q}"), 3));
        }
    }
    let mut report = Vec::new();
    for (name, max_sample) in &expect {
        let first = with_values
            .get(name)
            .and_then(|v| v.iter().copied().find(|t| *t > up_at));
        let index = first.and_then(|f| after.iter().position(|t| *t == f).map(|i| i + 1));
        report.push(format!("{name}: sample #{index:?}"));
        assert!(
            index.is_some_and(|i| i <= *max_sample),
            "{name}: first value at sample #{index:?} after the endpoint came up (want <= {max_sample})\n{}",
            report.join("\n")
        );
        // ...and in every sample after that (the endpoint stays up).
        let n = with_values[name].iter().filter(|t| **t > up_at).count();
        assert!(
            n + index.unwrap() + 2 >= after.len(),
            "{name}: values in only {n} of {} samples",
            after.len()
        );
    }
    assert!(
        !with_values.contains_key("llm.vllm.requests.running")
            || with_values["llm.vllm.requests.running"]
                .iter()
                .all(|t| *t > up_at),
        "values before the endpoint existed"
    );
    // pmrep rate-converts the counters from the archive.
    let out = Command::new("pmrep")
        .env("PCP_PYTHON_PROG", "/usr/bin/python3")
        .arg("-a")
        .arg(&arch)
        .args([
            "-t",
            "1s",
            "-o",
            "csv",
            "llm.vllm.tokens.prompt",
            "llm.vllm.ttft.count",
        ])
        .output()
        .expect("pmrep");
    let csv = String::from_utf8_lossy(&out.stdout);
    let rates: Vec<f64> = csv
        .lines()
        .skip(1)
        .filter_map(|l| {
            l.split(',')
                .nth(1)
                .and_then(|v| v.trim_matches('"').parse().ok())
        })
        .collect();
    assert!(
        rates.iter().filter(|r| **r > 0.0).count() >= 20,
        "pmrep -a gave too few positive rates:\n{csv}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The bump server adds 7 per request and the agent scrapes once a second: ~7/s.
    let mut sorted = rates.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = sorted[sorted.len() / 2];
    assert!(
        (3.0..=15.0).contains(&median),
        "median rate {median}:\n{csv}"
    );
}
