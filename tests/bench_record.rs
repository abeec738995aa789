//! `pcp llm run --record DIR` end to end: a private pmcd with the agent and pmdalinux, the
//! shipped benchmark pmlogger configuration, the stand-in GuideLLM writing a real result file
//! (tests/fixtures/guidellm/v0.4-handmade.json, times shifted to its own start); the merged
//! archive DIR/RUN_ID must hold llm.bench.*, llm.agent.*, kernel and guidellm.* metrics, with
//! the imported benchmarks inside the window pmlogger recorded the run in.

mod util;

use std::process::{Command, Stdio};
use util::{Options, PCP_LLM, PrivatePmcd, TempDir, fixture, guidellm, repo, tool_output};

#[test]
fn record_merges_pmlogger_and_the_guidellm_result_into_one_archive() {
    let work = TempDir::new("bench-record-work");
    let spool = work.path().join("spool");
    let pmcd = PrivatePmcd::start_opts(
        "bench-record",
        &format!(
            "[gpu]\nenabled = false\n[bench]\nspool = \"{}\"\n",
            spool.display()
        ),
        Options {
            with_linux: true,
            ..Options::default()
        },
    );
    let rec = work.path().join("rec");
    let result = work.path().join("benchmarks.json");
    let out = Command::new(PCP_LLM)
        .args(["run", "--spool"])
        .arg(&spool)
        .args(["--id", "r1", "--record"])
        .arg(&rec)
        .args(["--pmcd-host", &pmcd.host(), "--logger-config"])
        .arg(repo().join("deploy/pmlogger/benchmark.config"))
        .args(["--", "python3", "-m", "guidellm", "run", "--streams", "2,4"])
        .args(["--seconds", "3", "--output"])
        .arg(format!("kind=json,path={}", result.display()))
        .arg("--result-from")
        .arg(guidellm("v0.4-handmade.json"))
        .env("PYTHONPATH", fixture("guidellm-standin"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("archive "), "{stderr}");
    let merged = rec.join("r1");
    let merged = merged.to_str().unwrap();
    let names = tool_output("pminfo", &["-a", merged]);
    for want in [
        "llm.bench.run.state",
        "llm.bench.requests.successful",
        "llm.bench.latency.ttft",
        "llm.agent.version",
        "kernel.all.load",
        "guidellm.run_id",
    ] {
        assert!(
            names.lines().any(|l| l.trim() == want),
            "{want} not in the merged archive:\n{names}"
        );
    }
    // The imported benchmarks lie inside the window pmlogger recorded: every record with a
    // guidellm.run_id value falls between the first and the last llm.bench.run.state sample.
    let window = |metric: &str| -> Vec<String> {
        tool_output("pmdumplog", &["-z", merged, metric])
            .lines()
            .filter(|l| !l.starts_with(' ') && l.contains(':') && l.contains('.'))
            .filter_map(|l| l.split_whitespace().next().map(String::from))
            .filter(|t| t.len() >= 8 && t.as_bytes()[2] == b':')
            .collect()
    };
    let bench = window("llm.bench.run.state");
    let imported = window("guidellm.run_id");
    assert!(bench.len() >= 5, "{bench:?}");
    assert!(!imported.is_empty(), "no guidellm records");
    let (first, last) = (bench.first().unwrap(), bench.last().unwrap());
    for t in &imported {
        assert!(
            t >= first && t <= last,
            "guidellm record at {t} outside the recorded run {first}..{last}"
        );
    }
    // The run itself, as the merged archive replays it.
    let states = tool_output("pmdumplog", &["-z", merged, "llm.bench.run.state"]);
    assert!(states.contains("\"running\""), "{states}");
    assert!(states.contains("\"finished\""), "{states}");
}
