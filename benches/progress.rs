//! `cargo bench --bench progress`: the agent's CPU per progress line (issue #13's goal:
//! at most 0.05 ms). A 100-lines/s replay: each round appends 100 lines to the followed file
//! (what 100 lines a second of GuideLLM progress would add between two samples), then times
//! one sample of the source, which reads and applies them and builds its snapshot. Reports
//! the median and worst CPU time per line (the thread's own CPU clock), for the spool source
//! (hook lines) and a [[progress]] follower (GuideLLM 0.8.1's JSON-lines log).
//! No Criterion: std::time and a fixed number of rounds.

use llm_agent::config::Interval;
use llm_agent::sources::progress::{BenchConfig, FollowConfig, Follower, Spool};
use std::io::Write;
use std::time::{Duration, SystemTime};

const LINES_PER_ROUND: usize = 100;
const ROUNDS: usize = 200;

/// CPU time of this thread so far (CLOCK_THREAD_CPUTIME_ID).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn report(what: &str, mut per_line_us: Vec<f64>) {
    per_line_us.sort_by(f64::total_cmp);
    let median = per_line_us[per_line_us.len() / 2];
    let worst = per_line_us[per_line_us.len() - 1];
    println!(
        "{what}: {LINES_PER_ROUND} lines per sample, {ROUNDS} samples: CPU per line median {median:.2} µs, worst {worst:.2} µs (goal <= 50 µs)"
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("progress-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // The spool source with lines as the GuideLLM hook writes them.
    let run = dir.join("bench.jsonl");
    let mut f = std::fs::File::create(&run).unwrap();
    writeln!(f, r#"{{"ev":"start","t":1,"command":["guidellm","run"],"tool":"guidellm","labels":{{"node":"a"}}}}"#).unwrap();
    let cfg = BenchConfig {
        spool: dir.clone(),
        interval: Interval(Duration::from_secs(1)),
        ..BenchConfig::default()
    };
    let mut spool = Spool::new(&cfg);
    spool.scan(SystemTime::now());
    let mut times = Vec::new();
    for r in 0..ROUNDS {
        let mut block = String::new();
        for i in 0..LINES_PER_ROUND {
            let n = r * LINES_PER_ROUND + i;
            block.push_str(&format!(
                r#"{{"ev":"progress","index":{},"strategy":"concurrent","status":"active","elapsed":{}.5,"strategy_target":8.0,"count":4,"successful":{n},"errored":0,"incomplete":0,"requests_per_s":183.02793315619175,"output_tokens_per_s":5856.893860998136,"total_tokens_per_s":54908.38,"ttft_ms":58.0,"itl_ms":10.5,"latency_s":0.38,"in_flight":8,"t":1796179776.5666997}}"#,
                1 + r / 50,
                i
            ));
            block.push('\n');
        }
        f.write_all(block.as_bytes()).unwrap();
        let before = thread_cpu();
        let snap = spool.scan(SystemTime::now());
        let spent = thread_cpu() - before;
        assert!(!snap.values.is_empty());
        times.push(spent.as_secs_f64() * 1e6 / LINES_PER_ROUND as f64);
    }
    report("spool (hook lines)", times);

    // A [[progress]] follower of GuideLLM 0.8.1's JSON-lines log.
    let capture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/guidellm/progress-0.8.1/guidellm-log.jsonl"
    ))
    .unwrap();
    let lines: Vec<&str> = capture.lines().collect();
    let log = dir.join("guidellm.log");
    let mut f = std::fs::File::create(&log).unwrap();
    let mut follower = Follower::new(&FollowConfig {
        name: "bench".into(),
        path: log.clone(),
        format: None,
        interval: Interval(Duration::from_secs(1)),
        line: 0,
    });
    let mut times = Vec::new();
    for r in 0..ROUNDS {
        let mut block = String::new();
        for i in 0..LINES_PER_ROUND {
            block.push_str(lines[(r * LINES_PER_ROUND + i) % lines.len()]);
            block.push('\n');
        }
        f.write_all(block.as_bytes()).unwrap();
        let before = thread_cpu();
        let snap = follower.step(SystemTime::now());
        let spent = thread_cpu() - before;
        assert!(!snap.values.is_empty());
        times.push(spent.as_secs_f64() * 1e6 / LINES_PER_ROUND as f64);
    }
    assert_eq!(follower.malformed(), 0);
    report("[[progress]] guidellm-jsonl", times);
    let _ = std::fs::remove_dir_all(&dir);
}
