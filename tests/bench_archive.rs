//! The empty-archive scenario for benchmarks: pmlogger runs with the shipped benchmark
//! configuration (deploy/pmlogger/benchmark.config) before `pcp llm run` starts a 30-second
//! benchmark step (the stand-in GuideLLM with the progress hook); the archive must hold at
//! least 28 samples of every llm.bench.* metric within the step. exit_status and signal have
//! no value while a run runs (by definition): they must have one after it ended.
//! Takes about 40 s.

mod util;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;
use util::{
    Options, PCP_LLM, Pmlogger, PrivatePmcd, TempDir, fixture, now_of_day, repo, seconds_of_day,
    user_name,
};

/// pmdumplog output -> per llm.bench metric, the times of the records where `inst` (or the
/// singular value, for inst "") has a value.
fn sample_times(dump: &str, inst: &str) -> BTreeMap<String, Vec<f64>> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut now = None;
    let mut current: Option<String> = None;
    let inst_marker = format!(" or \"{inst}\"] value ");
    for line in dump.lines() {
        if !line.starts_with(' ') {
            now = line.split_whitespace().next().and_then(seconds_of_day);
            current = None;
            continue;
        }
        let l = line.trim();
        if let Some(open) = l.find(" (llm.bench.")
            && let Some(close) = l[open..].find("):")
        {
            let name = l[open + 2..open + close].to_string();
            // One instance: `ID (NAME): inst [N or "NAME"] value V` on the same line.
            let rest = &l[open + close..];
            let here = if inst.is_empty() {
                rest.contains(" value ") && !rest.contains("inst [")
            } else {
                rest.contains(&inst_marker)
            };
            if here {
                out.entry(name.clone()).or_default().extend(now);
            }
            current = Some(name);
            continue;
        }
        if !inst.is_empty()
            && l.contains(&inst_marker)
            && let Some(name) = &current
        {
            out.entry(name.clone()).or_default().extend(now);
        }
    }
    out
}

#[test]
fn a_benchmark_step_has_a_sample_of_every_llm_bench_metric_each_second() {
    let spool_parent = TempDir::new("bench-archive-spool");
    let spool = spool_parent.path().join("spool");
    let options = Options {
        with_linux: true,
        ..Options::default()
    };
    let pmcd = PrivatePmcd::start_opts(
        "bench-archive",
        &format!(
            "[gpu]\nenabled = false\n[bench]\nspool = \"{}\"\n",
            spool.display()
        ),
        options,
    );
    let arch = pmcd.dir.path().join("bench");
    let mut logger = Pmlogger::new(
        &pmcd.host(),
        repo().join("deploy/pmlogger/benchmark.config"),
        &arch,
    )
    .spawn();
    std::thread::sleep(Duration::from_secs(3));
    let started = now_of_day();
    let status = Command::new(PCP_LLM)
        .args(["run", "--spool"])
        .arg(&spool)
        .args(["--id", "step", "--"])
        .args(["python3", "-m", "guidellm", "run", "--streams", "8"])
        .args(["--seconds", "30"])
        .env("PYTHONPATH", fixture("guidellm-standin"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let ended = now_of_day();
    assert_eq!(status.code(), Some(0));
    std::thread::sleep(Duration::from_secs(3));
    logger.stop();
    let plog = logger.log();
    let dump = Command::new("pmdumplog").arg(&arch).output().unwrap();
    let dump = String::from_utf8_lossy(&dump.stdout).into_owned();

    let user = user_name();
    let per_run = sample_times(&dump, &format!("{user}/step"));
    let singular = sample_times(&dump, "");
    let names: Vec<String> = pmcd
        .pminfo(&["llm.bench"])
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| l.starts_with("llm.bench."))
        .collect();
    assert!(names.len() >= 25, "{names:?}");
    let mut short = Vec::new();
    for name in &names {
        let times = if name.starts_with("llm.bench.spool.") {
            singular.get(name)
        } else {
            per_run.get(name)
        };
        let times = times.cloned().unwrap_or_default();
        if name.ends_with(".exit_status") || name.ends_with(".signal") {
            if !times.iter().any(|t| *t > ended) {
                short.push(format!("{name}: no value after the run ended"));
            }
            continue;
        }
        let within = times
            .iter()
            .filter(|t| **t >= started && **t <= ended)
            .count();
        if within < 28 {
            short.push(format!(
                "{name}: {within} samples in the {:.1} s step",
                ended - started
            ));
        }
    }
    assert!(
        short.is_empty(),
        "{}\npmlogger log:\n{plog}\nagent log:\n{}",
        short.join("\n"),
        pmcd.log()
    );
}
