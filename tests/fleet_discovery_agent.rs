//! `[discovery]` through the agent and a private pmcd: endpoints found by the `kubernetes`
//! finder (a stand-in API server on loopback whose pod list the test changes) and by the
//! `local` finder (a /proc tree the test writes) become endpoint sources; a pod that goes away
//! withdraws its instances, one that comes back gets the same instance ids; the pod's
//! namespace, name and container label its instances; a 401 leaves the endpoints as they were
//! and says so in `llm.agent.source.last_error`; the token reaches neither a value, a label
//! nor the log.

mod util;

use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use util::*;

const METRIC: &str = "llm.vllm.requests.running";
const TOKEN: &str = "s3cr3t-sa-token";

/// A stand-in API server answering every request with the current (status, body).
fn api_server() -> (u16, Arc<Mutex<(String, String)>>) {
    let answer = Arc::new(Mutex::new(("200 OK".to_string(), String::new())));
    let a = answer.clone();
    let port = serve(move |_, _| {
        let (status, body) = a.lock().unwrap().clone();
        Reply::new(&status, "application/json", body.into_bytes())
    });
    (port, answer)
}

/// A pod of node `node-a` on loopback whose vLLM serves on `port`.
fn pod(name: &str, port: u16) -> serde_json::Value {
    json!({
        "metadata": {"namespace": "llm", "name": name,
                     "annotations": {"prometheus.io/scrape": "true",
                                     "prometheus.io/port": port.to_string()}},
        "spec": {"nodeName": "node-a", "containers": [
            {"name": "vllm", "command": ["vllm", "serve"], "args": ["Qwen/Qwen1.5-0.5B-Chat"]}]},
        "status": {"phase": "Running", "podIP": "127.0.0.1"}
    })
}

fn pod_list(pods: Vec<serde_json::Value>) -> String {
    json!({"kind": "PodList", "apiVersion": "v1", "items": pods}).to_string()
}

/// Instance name -> instance id of `metric`, from `pminfo -f`.
fn instance_ids(pmcd: &PrivatePmcd, metric: &str) -> BTreeMap<String, u32> {
    let out = pmcd.pminfo(&["-f", metric]);
    out.lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("inst [")?;
            let (id, rest) = rest.split_once(" or \"")?;
            let (name, _) = rest.split_once("\"]")?;
            Some((name.to_string(), id.parse().ok()?))
        })
        .collect()
}

fn wait_instances(
    pmcd: &PrivatePmcd,
    want: impl Fn(&BTreeMap<String, u32>) -> bool,
) -> BTreeMap<String, u32> {
    let mut got = BTreeMap::new();
    pmcd.wait(30, |p| {
        got = instance_ids(p, METRIC);
        want(&got)
    });
    got
}

#[test]
fn pods_that_come_and_go_start_and_stop_endpoint_sources_with_stable_instances() {
    let capture = Arc::new(vllm_capture(
        "vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt",
    ));
    let (pa, pb) = (free_port(), free_port());
    let _a = FakeEndpoint::start(pa, Mode::Body(capture.clone()));
    let _b = FakeEndpoint::start(pb, Mode::Body(capture));
    let (api, answer) = api_server();
    answer.lock().unwrap().1 = pod_list(vec![pod("pod-a", pa), pod("pod-b", pb)]);
    let dir = TempDir::new("discovery-agent");
    let token = dir.join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let conf = format!(
        "[gpu]\nenabled = false\n\n[membw]\nenabled = false\n\n[discovery]\nkubernetes = true\n\
         api = \"http://127.0.0.1:{api}\"\nnode = \"node-a\"\ntoken_file = \"{}\"\n\
         ca_file = \"{}\"\ninterval = \"1s\"\n",
        token.display(),
        dir.join("no-ca.crt").display()
    );
    let pmcd = PrivatePmcd::start("discovery", &conf);

    let (ia, ib) = ("llm/pod-a/vllm/0", "llm/pod-b/vllm/0");
    let first = wait_instances(&pmcd, |m| m.contains_key(ia) && m.contains_key(ib));
    assert!(
        first.contains_key(ia) && first.contains_key(ib),
        "{first:?}; log:\n{}",
        pmcd.log()
    );
    // What discovery knows labels the instances.
    let labels = pmcd.pminfo(&["-l", METRIC]);
    for want in [
        "\"namespace\":\"llm\"",
        "\"pod\":\"pod-b\"",
        "\"container\":\"vllm\"",
    ] {
        assert!(labels.contains(want), "{want} not in:\n{labels}");
    }
    assert_eq!(
        pmcd.value("llm.agent.source.up", "discovery").as_deref(),
        Some("1")
    );

    // pod-b deleted: its instances and its source go; pod-a stays as it was.
    answer.lock().unwrap().1 = pod_list(vec![pod("pod-a", pa)]);
    let gone = wait_instances(&pmcd, |m| !m.contains_key(ib));
    assert!(!gone.contains_key(ib), "{gone:?}");
    assert_eq!(gone.get(ia), first.get(ia));
    assert_eq!(pmcd.value("llm.agent.source.up", "llm/pod-b/vllm"), None);

    // pod-b back: the same instance id.
    answer.lock().unwrap().1 = pod_list(vec![pod("pod-a", pa), pod("pod-b", pb)]);
    let back = wait_instances(&pmcd, |m| m.contains_key(ib));
    assert_eq!(back.get(ib), first.get(ib), "{back:?}");

    // The API server refuses: discovery is down with the status, the endpoints stay.
    *answer.lock().unwrap() = ("401 Unauthorized".into(), "{\"kind\":\"Status\"}".into());
    let mut err = None;
    pmcd.wait(20, |p| {
        err = p.value("llm.agent.source.last_error", "discovery");
        err.as_deref().is_some_and(|e| e.contains("401"))
    });
    assert!(err.as_deref().is_some_and(|e| e.contains("401")), "{err:?}");
    assert!(instance_ids(&pmcd, METRIC).contains_key(ib));

    // The token is nowhere to be seen.
    let everything = format!(
        "{}{}{}",
        pmcd.pminfo(&["-fl", "llm"]),
        pmcd.log(),
        pmcd.pminfo(&["-fl", "llm.agent"])
    );
    assert!(!everything.contains(TOKEN), "the token leaked");
}

#[test]
fn local_vllm_processes_become_endpoint_sources() {
    let capture = Arc::new(vllm_capture(
        "vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt",
    ));
    let port = free_port();
    let _ep = FakeEndpoint::start(port, Mode::Body(capture));
    let dir = TempDir::new("discovery-local");
    let proc_root = dir.join("proc");
    let cmdline =
        format!("python3\0/usr/bin/vllm\0serve\0Qwen/Qwen1.5-0.5B-Chat\0--port\0{port}\0");
    std::fs::create_dir_all(proc_root.join("4242")).unwrap();
    std::fs::write(proc_root.join("4242/cmdline"), cmdline).unwrap();
    let conf = format!(
        "[gpu]\nenabled = false\n\n[membw]\nenabled = false\n\n[discovery]\nlocal = true\n\
         proc = \"{}\"\ninterval = \"1s\"\n",
        proc_root.display()
    );
    let pmcd = PrivatePmcd::start("discovery-local", &conf);
    let inst = format!("local-{port}/0");
    let got = wait_instances(&pmcd, |m| m.contains_key(&inst));
    assert!(got.contains_key(&inst), "{got:?}; log:\n{}", pmcd.log());

    // The process exits: its source goes.
    std::fs::remove_dir_all(proc_root.join("4242")).unwrap();
    let got = wait_instances(&pmcd, |m| !m.contains_key(&inst));
    assert!(!got.contains_key(&inst), "{got:?}");
}
