//! `pcp llm run` / `pcp llm mark` and the agent's llm.bench.* values, through a private pmcd
//! (tests/util): what the wrapper records is what pminfo shows.

mod util;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use util::{PCP_LLM, PrivatePmcd, TempDir, fixture, user_name};

fn agent(tag: &str, spool: &Path) -> PrivatePmcd {
    PrivatePmcd::start(
        tag,
        &format!(
            "[gpu]\nenabled = false\n[bench]\nspool = \"{}\"\n",
            spool.display()
        ),
    )
}

/// Waits until `metric` of `inst` has the value `want`; panics with what it had.
fn wait_for(p: &PrivatePmcd, metric: &str, inst: &str, want: &str) {
    let mut last = None;
    let ok = p.wait(15, |p| {
        last = p.value(metric, inst);
        last.as_deref() == Some(want)
    });
    assert!(
        ok,
        "{metric}[{inst}]: wanted {want:?}, had {last:?}; log:\n{}",
        p.log()
    );
}

#[test]
fn a_recorded_run_shows_state_marks_progress_labels_and_exit_status() {
    let dir = TempDir::new("bench-run");
    let spool = dir.path().join("spool");
    let p = agent("bench-run", &spool);
    let go = dir.path().join("go");
    // The command: output on both streams, a mark, one progress line as the GuideLLM hook
    // writes it, then it waits for the test before it exits with status 3.
    let script = format!(
        "echo to-stdout; echo to-stderr >&2; '{mark}' mark 'phase c=2'; \
printf '%s\\n' '{{\"ev\":\"progress\",\"t\":1,\"index\":1,\"count\":2,\"strategy\":\"concurrent\",\
\"strategy_target\":2,\"status\":\"active\",\"successful\":5,\"errored\":1,\"in_flight\":2,\
\"requests_per_s\":1.5,\"total_tokens_per_s\":300.25,\"ttft_ms\":50.5}}' >> \"$PCP_LLM_RUN\"; \
while [ ! -e '{go}' ]; do sleep 0.1; done; exit 3",
        mark = PCP_LLM,
        go = go.display()
    );
    let child = Command::new(PCP_LLM)
        .args(["run", "--spool"])
        .arg(&spool)
        .args([
            "--id", "t1", "--label", "node=ci", "--", "sh", "-c", &script,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let inst = format!("{}/t1", user_name());
    wait_for(&p, "llm.bench.run.state", &inst, "running");
    wait_for(&p, "llm.bench.run.mark", &inst, "phase c=2");
    wait_for(&p, "llm.bench.benchmark.status", &inst, "active");
    let v = p.fetch(&["llm.bench"]);
    let get = |m: &str| v.get(m).and_then(|x| x.get(&inst)).cloned();
    assert_eq!(get("llm.bench.run.marks").as_deref(), Some("1"));
    assert_eq!(get("llm.bench.run.tool").as_deref(), Some("sh"));
    assert_eq!(get("llm.bench.benchmark.index").as_deref(), Some("1"));
    assert_eq!(get("llm.bench.benchmark.count").as_deref(), Some("2"));
    assert_eq!(
        get("llm.bench.benchmark.strategy").as_deref(),
        Some("concurrent")
    );
    assert_eq!(
        get("llm.bench.benchmark.strategy_target").as_deref(),
        Some("2")
    );
    assert_eq!(get("llm.bench.requests.successful").as_deref(), Some("5"));
    assert_eq!(get("llm.bench.requests.errored").as_deref(), Some("1"));
    assert_eq!(get("llm.bench.requests.in_flight").as_deref(), Some("2"));
    assert_eq!(get("llm.bench.rate.requests").as_deref(), Some("1.5"));
    assert_eq!(
        get("llm.bench.rate.total_tokens").as_deref(),
        Some("300.25")
    );
    assert_eq!(get("llm.bench.latency.ttft").as_deref(), Some("50.5"));
    assert_eq!(
        get("llm.bench.latency.itl"),
        None,
        "not in the line: no value"
    );
    assert_eq!(
        get("llm.bench.run.exit_status"),
        None,
        "no exit status while it runs"
    );
    assert!(
        get("llm.bench.run.command")
            .unwrap()
            .starts_with("sh -c echo to-stdout"),
        "{v:?}"
    );
    let elapsed: f64 = get("llm.bench.run.elapsed").unwrap().parse().unwrap();
    assert!(elapsed > 0.0 && elapsed < 60.0, "elapsed {elapsed}");
    let labels = p.pminfo(&["-l", "llm.bench.run.state"]);
    for want in [
        "\"node\":\"ci\"",
        &format!("\"user\":\"{}\"", user_name()),
        "\"tool\":\"sh\"",
    ] {
        assert!(labels.contains(want), "no {want} in:\n{labels}");
    }
    assert_eq!(p.value("llm.bench.spool.runs", "").as_deref(), Some("1"));

    std::fs::write(&go, "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "exit status passes through");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "to-stdout\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "to-stderr\n");
    wait_for(&p, "llm.bench.run.state", &inst, "failed");
    assert_eq!(
        p.value("llm.bench.run.exit_status", &inst).as_deref(),
        Some("3")
    );
    assert_eq!(p.value("llm.bench.run.signal", &inst).as_deref(), Some("0"));
    assert_eq!(
        p.value("llm.bench.spool.malformed", "").as_deref(),
        Some("0")
    );
}

#[test]
fn killed_commands_and_a_terminated_wrapper_leave_failed_runs() {
    let dir = TempDir::new("bench-kill");
    let spool = dir.path().join("spool");
    let p = agent("bench-kill", &spool);
    let run = |id: &str, cmd: &[&str]| {
        Command::new(PCP_LLM)
            .args(["run", "--spool"])
            .arg(&spool)
            .args(["--id", id, "--"])
            .args(cmd)
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(run("ok", &["true"]), Some(0));
    assert_eq!(run("killed", &["sh", "-c", "kill -KILL $$"]), Some(137));
    assert_eq!(run("missing", &["/nonexistent/command"]), Some(127));
    let user = user_name();
    wait_for(&p, "llm.bench.run.state", &format!("{user}/ok"), "finished");
    wait_for(
        &p,
        "llm.bench.run.state",
        &format!("{user}/killed"),
        "failed",
    );
    assert_eq!(
        p.value("llm.bench.run.signal", &format!("{user}/killed"))
            .as_deref(),
        Some("9")
    );
    assert_eq!(
        p.value("llm.bench.run.exit_status", &format!("{user}/missing"))
            .as_deref(),
        Some("127")
    );

    // SIGTERM to the wrapper reaches the command, and the run ends as killed by it.
    let mut wrapper = Command::new(PCP_LLM)
        .args(["run", "--spool"])
        .arg(&spool)
        .args(["--id", "term", "--", "sleep", "60"])
        .spawn()
        .unwrap();
    let inst = format!("{user}/term");
    wait_for(&p, "llm.bench.run.state", &inst, "running");
    std::thread::sleep(Duration::from_millis(200));
    Command::new("kill")
        .args(["-TERM", &wrapper.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(wrapper.wait().unwrap().code(), Some(143));
    wait_for(&p, "llm.bench.run.state", &inst, "failed");
    assert_eq!(
        p.value("llm.bench.run.signal", &inst).as_deref(),
        Some("15")
    );
    assert_eq!(p.value("llm.bench.spool.runs", "").as_deref(), Some("4"));
}

#[test]
fn mark_outside_a_run_says_why() {
    let out = Command::new(PCP_LLM)
        .args(["mark", "x"])
        .env_remove("PCP_LLM_RUN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PCP_LLM_RUN is not set"));
}

/// The progress hook inside a stand-in GuideLLM (tests/fixtures/guidellm-standin, with
/// GuideLLM's progress interface): lines at most once a second plus one per status change,
/// the tracker GuideLLM was given still gets every callback, and the agent's values follow.
#[test]
fn the_guidellm_hook_writes_second_lines_and_the_agent_follows() {
    let dir = TempDir::new("bench-hook");
    let spool = dir.path().join("spool");
    let p = agent("bench-hook", &spool);
    let standin = fixture("guidellm-standin");
    let child = Command::new(PCP_LLM)
        .args(["run", "--spool"])
        .arg(&spool)
        .args(["--id", "hook", "--label", "scenario=standin", "--"])
        .args(["python3", "-m", "guidellm", "run", "--streams", "2,4"])
        .args(["--seconds", "3", "--console"])
        .env("PYTHONPATH", &standin)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let inst = format!("{}/hook", user_name());
    // While the second benchmark is active: its values, 1-second fresh.
    let mut seen = None;
    let ok = p.wait(20, |p| {
        let v = p.fetch(&["llm.bench"]);
        let get = |m: &str| v.get(m).and_then(|x| x.get(&inst)).cloned();
        seen = Some(v.clone());
        get("llm.bench.benchmark.index").as_deref() == Some("2")
            && get("llm.bench.benchmark.status").as_deref() == Some("active")
    });
    assert!(ok, "{seen:?}");
    let v = p.fetch(&["llm.bench"]);
    let get = |m: &str| {
        v.get(m)
            .and_then(|x| x.get(&inst))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(get("llm.bench.run.tool"), "guidellm");
    assert_eq!(get("llm.bench.benchmark.count"), "2");
    assert_eq!(get("llm.bench.benchmark.strategy_target"), "4");
    assert_eq!(get("llm.bench.requests.in_flight"), "4");
    assert_eq!(
        get("llm.bench.latency.ttft"),
        "54",
        "the stand-in's 50 + streams"
    );
    assert_eq!(get("llm.bench.latency.itl"), "10.5");
    assert_eq!(get("llm.bench.latency.request"), "0.38");
    assert!(get("llm.bench.rate.requests").parse::<f64>().unwrap() > 0.0);
    let labels = p.pminfo(&["-l", "llm.bench.run.state"]);
    assert!(
        labels.contains("\"tool_version\":\"0.8.1+standin\""),
        "{labels}"
    );

    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // The stand-in's own output passes through; its tracker got every callback.
    let finals: Vec<u64> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("benchmark successful="))
        .map(|r| r.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(finals.len(), 2, "{stdout}");
    let callbacks: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("callbacks="))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(callbacks, finals.iter().sum::<u64>() + 8, "{stdout}");
    wait_for(&p, "llm.bench.run.state", &inst, "finished");
    assert_eq!(
        p.value("llm.bench.requests.successful", &inst),
        Some(finals.iter().sum::<u64>().to_string())
    );
    assert_eq!(
        p.value("llm.bench.benchmark.status", &inst).as_deref(),
        Some("completed")
    );

    // The run file: lines of one status at least a second apart, at most one line per second
    // and status change.
    let text = std::fs::read_to_string(spool.join("hook.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["ev"] == "progress")
        .collect();
    let mut changes = 0;
    for w in lines.windows(2) {
        let same = w[0]["status"] == w[1]["status"] && w[0]["index"] == w[1]["index"];
        let gap = w[1]["t"].as_f64().unwrap() - w[0]["t"].as_f64().unwrap();
        if same {
            assert!(gap >= 0.99, "two lines {gap} s apart: {w:?}");
        } else {
            changes += 1;
        }
    }
    let span = lines.last().unwrap()["t"].as_f64().unwrap() - lines[0]["t"].as_f64().unwrap();
    assert!(
        (lines.len() as f64) <= span + 2.0 + changes as f64,
        "{} lines over {span} s with {changes} status changes",
        lines.len()
    );
    assert!(lines.len() >= 10, "{text}");

    // A failing GuideLLM: its status passes through and the run is failed.
    let status = Command::new(PCP_LLM)
        .args(["run", "--spool"])
        .arg(&spool)
        .args(["--id", "hookfail", "--"])
        .args(["python3", "-m", "guidellm", "run", "--streams", "1"])
        .args(["--seconds", "0.5", "--exit", "3"])
        .env("PYTHONPATH", &standin)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3));
    let inst = format!("{}/hookfail", user_name());
    wait_for(&p, "llm.bench.run.state", &inst, "failed");
    assert_eq!(
        p.value("llm.bench.run.exit_status", &inst).as_deref(),
        Some("3")
    );
    assert_eq!(
        p.value("llm.bench.benchmark.status", &inst).as_deref(),
        Some("completed")
    );
}
