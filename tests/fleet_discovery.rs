//! `local` discovery against processes the test starts: programs named `vllm` run as
//! `vllm serve MODEL --port N` (a Python script standing in for vLLM's entry point, which is
//! what /proc shows for the real one: python3, then .../vllm, then serve; one process, so
//! killing it leaves nothing behind). Servers
//! appear with stable names and their model, go away when they stop, and a restarted server
//! (a new pid) gets its old name back.

mod util;

use llm_agent::sources::discovery::{Endpoint, local};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use util::*;

fn start(vllm: &Path, args: &[&str]) -> Proc {
    Proc(
        Command::new("/usr/bin/python3")
            .arg(vllm)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Ours among the discovered endpoints (names of the test's ports), once `f` holds (10 s).
fn wait_for(ports: &[u16], f: impl Fn(&[Endpoint]) -> bool) -> Vec<Endpoint> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ours: Vec<Endpoint> = local::discover(Path::new("/proc"))
            .into_iter()
            .filter(|e| ports.iter().any(|p| e.name == format!("local-{p}")))
            .collect();
        if f(&ours) || Instant::now() > deadline {
            return ours;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn local_discovery_follows_vllm_processes() {
    let tmp = TempDir::new("fleet-disc");
    let vllm = tmp.path().join("vllm");
    std::fs::write(&vllm, "import time\ntime.sleep(60)\n").unwrap();
    let (p1, p2) = (free_port(), free_port());
    let (s1, s2) = (p1.to_string(), format!("--port={p2}"));
    let a = start(&vllm, &["serve", "org/model-a", "--port", &s1]);
    let b = start(
        &vllm,
        &["serve", "org/model-b", &s2, "--served-model-name", "chat-b"],
    );
    let ports = [p1, p2];

    let got = wait_for(&ports, |e| e.len() == 2);
    assert_eq!(got.len(), 2, "discovered: {got:?}");
    let first = got
        .iter()
        .find(|e| e.name == format!("local-{p1}"))
        .unwrap();
    assert_eq!(first.url, format!("http://127.0.0.1:{p1}/metrics"));
    assert_eq!(first.labels["model_name"], "org/model-a");
    let second = got
        .iter()
        .find(|e| e.name == format!("local-{p2}"))
        .unwrap();
    assert_eq!(second.labels["model_name"], "chat-b");

    // One stops: it is withdrawn, the other stays.
    drop(a);
    let got = wait_for(&ports, |e| e.len() == 1);
    assert_eq!(got, vec![second.clone()], "after stopping model-a");

    // It restarts with a new pid: same name, same URL.
    let _a = start(&vllm, &["serve", "org/model-a", "--port", &s1]);
    let again = wait_for(&ports, |e| e.len() == 2);
    assert!(again.contains(first), "after restart: {again:?}");
    drop(b);
}
