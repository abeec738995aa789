//! A source that hangs must not stall fetches: an endpoint that accepts connections and never
//! answers keeps its scrape thread waiting, while every fetch of all llm.* metrics still
//! answers at once, pmcd keeps the agent, and llm.agent.* reports the timeout.

mod util;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;
use util::*;

/// Accepts connections on 127.0.0.1 and holds them open without answering.
fn hanging_endpoint() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().take(200).flatten() {
            held.push(conn);
        }
    });
    port
}

/// Times `n` fetches of every llm.* metric from one client process (PCP's Python binding, the
/// same in-process pmFetch a pmlogger makes); returns each fetch's milliseconds.
fn fetch_times(host: &str, n: usize) -> Vec<f64> {
    let script = format!(
        r#"
import sys, time
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from pcp import pmapi
import cpmapi as c
ctx = pmapi.pmContext(c.PM_CONTEXT_HOST, "{host}")
names = []
ctx.pmTraversePMNS("llm", lambda n: names.append(n))
pmids = ctx.pmLookupName(names)
for i in range({n}):
    t = time.perf_counter()
    ctx.pmFetch(pmids)
    print((time.perf_counter() - t) * 1000.0)
    time.sleep(0.1)
"#
    );
    let out = run(Command::new("/usr/bin/python3").arg("-c").arg(script));
    assert!(
        out.status.success(),
        "fetch script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out).lines().map(|l| l.parse().unwrap()).collect()
}

#[test]
fn fetches_answer_at_once_while_an_endpoint_hangs() {
    let port = hanging_endpoint();
    let config = format!(
        "[gpu]\nenabled = false\n\n[[vllm]]\nname = \"hung\"\nurl = \"http://127.0.0.1:{port}/metrics\"\ninterval = \"1s\"\ntimeout = \"800ms\"\n"
    );
    let pmcd = PrivatePmcd::start("hung", &config);
    // 40 fetches over about 4 s: several scrape attempts hang and time out meanwhile.
    let times = fetch_times(&pmcd.host(), 40);
    let max = times.iter().cloned().fold(0.0, f64::max);
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = sorted[sorted.len() / 2];
    println!("fetch ms while the endpoint hangs: median {median:.3} max {max:.3}");
    assert!(
        median < 50.0,
        "median fetch {median} ms while a source hangs"
    );
    // A fetch that waited for the scrape would take the scrape's 800 ms timeout.
    assert!(
        max < 400.0,
        "a fetch took {max} ms: it waited for the hung source"
    );

    let last_error = pmcd.wait_values("llm.agent.source.last_error", Duration::from_secs(5), |v| {
        v.iter()
            .any(|(i, e)| i == "hung" && e.contains("timed out"))
    });
    assert!(
        last_error.iter().any(|(i, e)| i == "hung"
            && e.contains(&format!("127.0.0.1:{port}"))
            && e.contains("timed out")),
        "{last_error:?}"
    );
    let up = pmcd.values("llm.agent.source.up");
    assert!(
        up.contains(&("hung".to_string(), "0".to_string())),
        "{up:?}"
    );
    // pmcd still has the agent (status 0) and it answers.
    let status = pmcd.pminfo(&["-f", "pmcd.agent.status"]);
    assert!(status.contains("\"llm\"] value 0"), "{status}");
    assert!(
        pmcd.values("llm.agent.version")[0]
            .1
            .contains(env!("CARGO_PKG_VERSION"))
    );
}
