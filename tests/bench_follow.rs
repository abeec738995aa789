//! `[[progress]]` sections following GuideLLM 0.8.1's own logs: the JSON-lines log file and the
//! stderr INFO lines captured from a real run (tests/fixtures/guidellm/progress-0.8.1, copied
//! from the shared captures), replayed into followed files at their recorded pacing compressed
//! 20 times, with llm.bench.* checked at every status change against the line itself.

mod util;

use std::io::Write;
use std::time::Duration;
use util::{PrivatePmcd, TempDir, guidellm};

/// What one capture line says, read by the test on its own (not by the agent's parser).
#[derive(Debug)]
struct Expect {
    index: u32,
    status: String,
    successful: u64,
    incomplete: u64,
    requests_per_s: String,
}

fn field<'a>(msg: &'a str, key: &str) -> &'a str {
    let at = msg.find(&format!("{key}=")).unwrap() + key.len() + 1;
    msg[at..].split([' ', '|']).next().unwrap()
}

fn expect(msg: &str) -> Option<Expect> {
    let rest = msg.split("Benchmark ").nth(1)?;
    let index = rest.split(' ').next()?.parse().ok()?;
    let status = rest.split("): ").nth(1)?.split(' ').next()?.to_string();
    Some(Expect {
        index,
        status,
        successful: field(msg, "successful").parse().unwrap(),
        incomplete: field(msg, "incomplete").parse().unwrap(),
        requests_per_s: field(msg, "requests/s").to_string(),
    })
}

#[test]
fn guidellm_logs_replayed_give_the_values_of_each_line() {
    let dir = TempDir::new("bench-follow");
    let jsonl = dir.path().join("guidellm.log.jsonl");
    let stderr = dir.path().join("guidellm.stderr");
    let p = PrivatePmcd::start(
        "bench-follow",
        &format!(
            "[gpu]\nenabled = false\n[bench]\nenabled = false\n\
[[progress]]\nname = \"json\"\npath = \"{}\"\ninterval = \"100ms\"\n\
[[progress]]\nname = \"text\"\npath = \"{}\"\ninterval = \"100ms\"\n",
            jsonl.display(),
            stderr.display()
        ),
    );
    // Before the files exist: both runs are known and idle.
    for inst in ["json", "text"] {
        assert_eq!(
            p.value("llm.bench.run.state", inst).as_deref(),
            Some("idle"),
            "{}",
            p.log()
        );
    }
    let fixtures = guidellm("progress-0.8.1");
    let json_lines: Vec<String> = std::fs::read_to_string(fixtures.join("guidellm-log.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let text_lines: Vec<String> = std::fs::read_to_string(fixtures.join("stderr.progress.log"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(json_lines.len(), text_lines.len());
    let records: Vec<serde_json::Value> = json_lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let times: Vec<f64> = records
        .iter()
        .map(|r| r["record"]["time"]["timestamp"].as_f64().unwrap())
        .collect();
    let mut jf = std::fs::File::create(&jsonl).unwrap();
    let mut tf = std::fs::File::create(&stderr).unwrap();
    let mut done = [0u64; 2]; // successful, incomplete of finished benchmarks
    let mut current = [0u64; 2];
    let mut current_index = 0;
    let mut checked = 0;
    for i in 0..json_lines.len() {
        if i > 0 {
            let gap = (times[i] - times[i - 1]) / 20.0;
            std::thread::sleep(Duration::from_secs_f64(gap.min(1.0)));
        }
        writeln!(jf, "{}", json_lines[i]).unwrap();
        writeln!(tf, "{}", text_lines[i]).unwrap();
        let msg = records[i]["record"]["message"].as_str().unwrap();
        let Some(e) = expect(msg) else { continue };
        // The structured record agrees with the message text.
        assert_eq!(records[i]["record"]["extra"]["benchmark_index"], e.index);
        if e.index != current_index {
            done[0] += current[0];
            done[1] += current[1];
            current_index = e.index;
        }
        current = [e.successful, e.incomplete];
        for inst in ["json", "text"] {
            let mut last = None;
            let seen = p.wait(10, |p| {
                let v = p.fetch(&["llm.bench"]);
                let get = |m: &str| v.get(m).and_then(|x| x.get(inst)).cloned();
                last = Some(v.clone());
                get("llm.bench.benchmark.status").as_deref() == Some(e.status.as_str())
                    && get("llm.bench.benchmark.index") == Some(e.index.to_string())
            });
            assert!(seen, "{inst}: line {} ({msg}) not seen: {last:?}", i + 1);
            let v = p.fetch(&["llm.bench"]);
            let get = |m: &str| {
                v.get(m)
                    .and_then(|x| x.get(inst))
                    .cloned()
                    .unwrap_or_default()
            };
            let at = format!("{inst}, line {}: {msg}", i + 1);
            assert_eq!(get("llm.bench.run.state"), "running", "{at}");
            assert_eq!(get("llm.bench.benchmark.strategy"), "concurrent", "{at}");
            assert_eq!(
                get("llm.bench.benchmark.strategy_target"),
                (2 * e.index).to_string(),
                "{at}"
            );
            assert_eq!(
                get("llm.bench.requests.successful"),
                (done[0] + e.successful).to_string(),
                "{at}"
            );
            assert_eq!(
                get("llm.bench.requests.incomplete"),
                (done[1] + e.incomplete).to_string(),
                "{at}"
            );
            assert_eq!(get("llm.bench.requests.errored"), "0", "{at}");
            assert_eq!(
                get("llm.bench.rate.requests").parse::<f64>().unwrap(),
                e.requests_per_s.parse::<f64>().unwrap(),
                "{at}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 16, "8 progress lines in each capture");
    for inst in ["json", "text"] {
        let ok = p.wait(10, |p| {
            p.value("llm.bench.run.state", inst).as_deref() == Some("finished")
        });
        assert!(ok, "{inst}: 'All benchmarks finalized' ends the run");
    }
    assert_eq!(
        p.value("llm.bench.requests.successful", "json").as_deref(),
        Some("182")
    );

    // A log truncated and written again is followed from its start: a new run.
    drop(jf);
    let mut jf = std::fs::File::create(&jsonl).unwrap();
    writeln!(jf, "{}\n{}", json_lines[0], json_lines[1]).unwrap();
    let ok = p.wait(10, |p| {
        p.value("llm.bench.run.state", "json").as_deref() == Some("running")
            && p.value("llm.bench.requests.successful", "json").as_deref() == Some("0")
    });
    assert!(ok, "{:?}", p.fetch(&["llm.bench"]));
    // A file that is gone: idle again.
    std::fs::remove_file(&stderr).unwrap();
    let ok = p.wait(10, |p| {
        p.value("llm.bench.run.state", "text").as_deref() == Some("idle")
    });
    assert!(ok, "{:?}", p.fetch(&["llm.bench.run.state"]));
}
