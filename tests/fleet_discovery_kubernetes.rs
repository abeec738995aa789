//! `kubernetes` discovery against a stand-in API server on loopback serving recorded pod
//! lists: pods of this node appear with stable names and labels, a changed pod keeps its name
//! and gets its new address, a deleted one is withdrawn, a 401 and a slow answer are errors
//! that do not carry the token, and the request asks for this node's pods with the token.

mod util;

use llm_agent::sources::discovery::kubernetes::{Config, list};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use util::{Reply, serve};

#[derive(Clone)]
struct Answer {
    status: u16,
    body: String,
    delay: Duration,
}

/// A stand-in API server answering every request with the current `Answer`; records the
/// request heads.
type Heads = Arc<Mutex<Vec<String>>>;

fn stand_in() -> (u16, Arc<Mutex<Answer>>, Heads) {
    let answer = Arc::new(Mutex::new(Answer {
        status: 200,
        body: "{}".into(),
        delay: Duration::ZERO,
    }));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let (a, h) = (answer.clone(), heads.clone());
    let port = serve(move |_, head| {
        h.lock().unwrap().push(head.to_string());
        let ans = a.lock().unwrap().clone();
        Reply::new(
            &format!("{} X", ans.status),
            "application/json",
            ans.body.into_bytes(),
        )
        .delay(ans.delay)
    });
    (port, answer, heads)
}

fn pod(ns: &str, name: &str, node: &str, ip: &str, ann: Value, args: Value) -> Value {
    json!({
        "metadata": {"namespace": ns, "name": name, "annotations": ann},
        "spec": {"nodeName": node, "containers": [
            {"name": "sidecar", "image": "proxy"},
            {"name": "vllm", "image": "vllm", "command": ["vllm", "serve"], "args": args,
             "ports": [{"containerPort": 8000}]}
        ]},
        "status": {"phase": "Running", "podIP": ip}
    })
}

fn pod_list(items: Vec<Value>) -> String {
    json!({"kind": "PodList", "apiVersion": "v1", "items": items}).to_string()
}

#[test]
fn pods_come_and_go_with_stable_names() {
    let (port, answer, heads) = stand_in();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let cfg = Config {
        api: format!("http://127.0.0.1:{port}"),
        node: "gpu-node-1".into(),
        token: "s3cr3t-token".into(),
        selector: None,
        timeout: Duration::from_millis(500),
    };
    let scrape = json!({"prometheus.io/scrape": "true"});
    let a = pod(
        "llm",
        "qwen-0",
        "gpu-node-1",
        "10.0.0.5",
        scrape.clone(),
        json!(["Qwen/Qwen3-0.6B", "--port", "8001"]),
    );
    let b = pod(
        "llm",
        "llama-0",
        "gpu-node-1",
        "10.0.0.6",
        json!({"prometheus.io/scrape": "true", "prometheus.io/port": "9100", "prometheus.io/path": "stats"}),
        json!(["meta/llama", "--served-model-name", "llama"]),
    );
    let not_annotated = pod(
        "llm",
        "other",
        "gpu-node-1",
        "10.0.0.7",
        json!({}),
        json!(["m"]),
    );
    let elsewhere = pod(
        "llm",
        "far",
        "gpu-node-2",
        "10.0.1.5",
        scrape.clone(),
        json!(["m"]),
    );
    answer.lock().unwrap().body = pod_list(vec![a, b.clone(), not_annotated, elsewhere]);

    let got = rt.block_on(list(&client, &cfg)).unwrap();
    let names: Vec<&str> = got.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["llm/llama-0/vllm", "llm/qwen-0/vllm"]);
    assert_eq!(got[1].url, "http://10.0.0.5:8001/metrics");
    assert_eq!(got[1].labels["model_name"], "Qwen/Qwen3-0.6B");
    assert_eq!(got[1].labels["namespace"], "llm");
    assert_eq!(got[1].labels["pod"], "qwen-0");
    assert_eq!(got[1].labels["container"], "vllm");
    assert_eq!(got[0].url, "http://10.0.0.6:9100/stats");
    assert_eq!(got[0].labels["model_name"], "llama");
    let head = heads.lock().unwrap().last().unwrap().clone();
    assert!(
        head.starts_with("GET /api/v1/pods?fieldSelector=spec.nodeName%3Dgpu-node-1 "),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer s3cr3t-token"),
        "{head}"
    );

    // qwen-0 rescheduled with a new IP, llama-0 deleted.
    let a2 = pod(
        "llm",
        "qwen-0",
        "gpu-node-1",
        "10.0.0.9",
        scrape.clone(),
        json!(["Qwen/Qwen3-0.6B", "--port", "8001"]),
    );
    answer.lock().unwrap().body = pod_list(vec![a2]);
    let got = rt.block_on(list(&client, &cfg)).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].name, "llm/qwen-0/vllm");
    assert_eq!(got[0].url, "http://10.0.0.9:8001/metrics");

    // A label selector goes to the server, and chooses without the annotation.
    let sel = Config {
        selector: Some("app=vllm".into()),
        ..cfg.clone()
    };
    answer.lock().unwrap().body = pod_list(vec![pod(
        "llm",
        "plain",
        "gpu-node-1",
        "10.0.0.8",
        json!({}),
        json!(["m"]),
    )]);
    let got = rt.block_on(list(&client, &sel)).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].url, "http://10.0.0.8:8000/metrics");
    let head = heads.lock().unwrap().last().unwrap().clone();
    assert!(head.contains("&labelSelector=app%3Dvllm "), "{head}");

    // 401: an error naming the status, never the token.
    *answer.lock().unwrap() = Answer {
        status: 401,
        body: "{\"kind\":\"Status\"}".into(),
        delay: Duration::ZERO,
    };
    let err = rt.block_on(list(&client, &cfg)).unwrap_err();
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");

    // A slow answer: a timeout error.
    *answer.lock().unwrap() = Answer {
        status: 200,
        body: pod_list(vec![]),
        delay: Duration::from_secs(2),
    };
    let err = rt.block_on(list(&client, &cfg)).unwrap_err();
    assert!(err.contains("timed out"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
}
