//! `kubernetes` discovery: the vLLM pods scheduled on this node, listed from the API server
//! with the pod's service-account token (`GET /api/v1/pods?fieldSelector=spec.nodeName=NODE`,
//! optionally with a label selector). A pod is taken when the label selector chose it or when
//! it carries `prometheus.io/scrape: "true"`; it must be Running with an IP. Its endpoint is
//! `http://POD-IP:PORT/PATH` from the `prometheus.io/port` and `prometheus.io/path`
//! annotations, else the port of the container running `vllm serve` (its `--port`, or a
//! declared containerPort), else 8000, and `/metrics`. Names are stable across re-lists:
//! `NAMESPACE/POD/CONTAINER`; labels `namespace`, `pod`, `container` and `model_name` (from the
//! container's `vllm serve` arguments). The token goes only into the Authorization header: it
//! is never part of an error or a log line.

use super::{Endpoint, local};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Where and what to list.
#[derive(Clone, Debug)]
pub struct Config {
    /// API server base URL, e.g. `https://kubernetes.default.svc`.
    pub api: String,
    /// This node's name (the Downward API's `spec.nodeName`).
    pub node: String,
    /// Service-account token (read from its file by the caller).
    pub token: String,
    /// Optional label selector, e.g. `app=vllm`.
    pub selector: Option<String>,
    pub timeout: Duration,
}

/// Lists the pods and returns their endpoints, sorted by name.
pub async fn list(client: &reqwest::Client, cfg: &Config) -> Result<Vec<Endpoint>, String> {
    let mut url = format!(
        "{}/api/v1/pods?fieldSelector=spec.nodeName%3D{}",
        cfg.api.trim_end_matches('/'),
        encode(&cfg.node)
    );
    if let Some(s) = &cfg.selector {
        url.push_str("&labelSelector=");
        url.push_str(&encode(s));
    }
    let answer = client
        .get(&url)
        .bearer_auth(&cfg.token)
        .timeout(cfg.timeout)
        .send()
        .await
        .map_err(|e| {
            format!(
                "GET {url}: {}",
                if e.is_timeout() {
                    "timed out".to_string()
                } else {
                    e.without_url().to_string()
                }
            )
        })?;
    let status = answer.status();
    if !status.is_success() {
        return Err(format!("GET {url}: HTTP {status}"));
    }
    let body = answer
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {}", e.without_url()))?;
    let doc: Value =
        serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))?;
    if doc["kind"] != "PodList" {
        return Err(format!("GET {url}: kind {} is not PodList", doc["kind"]));
    }
    Ok(endpoints(&doc, &cfg.node, cfg.selector.is_some()))
}

/// The endpoints of a PodList's pods on `node`.
pub fn endpoints(pods: &Value, node: &str, selected: bool) -> Vec<Endpoint> {
    let mut out: BTreeMap<String, Endpoint> = BTreeMap::new();
    for pod in pods["items"].as_array().into_iter().flatten() {
        let meta = &pod["metadata"];
        let ann = &meta["annotations"];
        let (Some(ns), Some(name)) = (meta["namespace"].as_str(), meta["name"].as_str()) else {
            continue;
        };
        if pod["spec"]["nodeName"] != node
            || pod["status"]["phase"] != "Running"
            || meta["deletionTimestamp"].is_string()
        {
            continue;
        }
        if !selected && ann["prometheus.io/scrape"] != "true" {
            continue;
        }
        let Some(ip) = pod["status"]["podIP"].as_str() else {
            continue;
        };
        let containers = pod["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // The container running vLLM, else the first.
        let cmdline = |c: &Value| -> Vec<String> {
            ["command", "args"]
                .iter()
                .flat_map(|k| c[*k].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a.as_str().map(String::from))
                .collect()
        };
        let vllm = containers
            .iter()
            .find_map(|c| local::endpoint(&cmdline(c)).map(|e| (c, Some(e))));
        let Some((container, served)) = vllm.or_else(|| containers.first().map(|c| (c, None)))
        else {
            continue;
        };
        let cname = container["name"].as_str().unwrap_or("");
        let declared = container["ports"]
            .as_array()
            .and_then(|p| p.first())
            .and_then(|p| p["containerPort"].as_u64());
        let served_port = served
            .as_ref()
            .and_then(|e| e.name.strip_prefix("local-")?.parse::<u64>().ok())
            .filter(|_| cmdline(container).iter().any(|a| a.starts_with("--port")));
        let port = ann["prometheus.io/port"]
            .as_str()
            .and_then(|p| p.parse::<u64>().ok())
            .or(served_port)
            .or(declared)
            .unwrap_or(u64::from(local::DEFAULT_PORT));
        let path = ann["prometheus.io/path"].as_str().unwrap_or("/metrics");
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let host = if ip.contains(':') {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        let mut labels = BTreeMap::new();
        labels.insert("namespace".to_string(), ns.to_string());
        labels.insert("pod".to_string(), name.to_string());
        labels.insert("container".to_string(), cname.to_string());
        if let Some(m) = served.and_then(|e| e.labels.get("model_name").cloned()) {
            labels.insert("model_name".to_string(), m);
        }
        let ep = Endpoint {
            name: format!("{ns}/{name}/{cname}"),
            url: format!("http://{host}:{port}{path}"),
            labels,
        };
        out.insert(ep.name.clone(), ep);
    }
    out.into_values().collect()
}

/// Percent-encoding for a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
