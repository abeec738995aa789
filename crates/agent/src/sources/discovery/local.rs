//! `local` discovery: `vllm serve` processes on this host, found through /proc.
//!
//! A process is a vLLM server when one of its arguments is a program named `vllm` followed by
//! `serve` (`vllm serve MODEL ...`, also when run as `python3 /usr/bin/vllm serve ...`), or when
//! it runs the module `vllm.entrypoints.openai.api_server` (`python -m ...`). Its endpoint is
//! `http://HOST:PORT/metrics` from `--host` (default and wildcard addresses become loopback)
//! and `--port` (default 8000); its name is `local-PORT`, which stays the same when the server
//! restarts; `model_name` is `--served-model-name`, else the model argument or `--model`.

use super::Endpoint;
use std::collections::BTreeMap;
use std::path::Path;

/// vLLM's default port.
pub const DEFAULT_PORT: u16 = 8000;

/// The endpoints of the vLLM servers among the processes under `proc_root` (normally "/proc"),
/// sorted by name; one per port (the lowest pid wins when several claim a port, as a server's
/// worker processes repeat its command line).
pub fn discover(proc_root: &Path) -> Vec<Endpoint> {
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    let mut by_name: BTreeMap<String, Endpoint> = BTreeMap::new();
    for pid in pids {
        let Ok(raw) = std::fs::read(proc_root.join(pid.to_string()).join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if let Some(ep) = endpoint(&args) {
            by_name.entry(ep.name.clone()).or_insert(ep);
        }
    }
    by_name.into_values().collect()
}

/// The endpoint of one command line, if it is a vLLM server's.
pub fn endpoint(args: &[String]) -> Option<Endpoint> {
    let base = |a: &str| a.rsplit('/').next().unwrap_or(a).to_string();
    let rest: &[String] = if let Some(i) = args
        .iter()
        .position(|a| base(a) == "vllm")
        .filter(|i| args.get(i + 1).is_some_and(|s| s == "serve"))
    {
        &args[i + 2..]
    } else if let Some(i) = args
        .iter()
        .position(|a| a == "vllm.entrypoints.openai.api_server")
    {
        &args[i + 1..]
    } else {
        return None;
    };

    let mut host: Option<String> = None;
    let mut port = DEFAULT_PORT;
    let mut served: Option<String> = None;
    let mut model: Option<String> = None;
    let mut positional: Option<String> = None;
    let mut i = 0;
    while i < rest.len() {
        let a = &rest[i];
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = || {
            inline.clone().or_else(|| {
                i += 1;
                rest.get(i).cloned()
            })
        };
        match key {
            "--host" => host = value(),
            "--port" => port = value()?.parse().ok()?,
            "--served-model-name" => served = value(),
            "--model" => model = value(),
            k if k.starts_with('-') => {}
            _ if positional.is_none() => positional = Some(a.clone()),
            _ => {}
        }
        i += 1;
    }
    let host = match host.as_deref() {
        None | Some("") | Some("0.0.0.0") => "127.0.0.1".to_string(),
        Some("::") => "[::1]".to_string(),
        Some(h) if h.contains(':') => format!("[{h}]"),
        Some(h) => h.to_string(),
    };
    let mut labels = BTreeMap::new();
    if let Some(m) = served.or(positional).or(model) {
        labels.insert("model_name".to_string(), m);
    }
    Some(Endpoint {
        name: format!("local-{port}"),
        url: format!("http://{host}:{port}/metrics"),
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn command_lines() {
        let e = endpoint(&args(
            "/usr/bin/python3 /opt/venv/bin/vllm serve Qwen/Qwen3-0.6B --port 8011",
        ))
        .unwrap();
        assert_eq!(e.name, "local-8011");
        assert_eq!(e.url, "http://127.0.0.1:8011/metrics");
        assert_eq!(e.labels["model_name"], "Qwen/Qwen3-0.6B");
        let e = endpoint(&args(
            "vllm serve m --host=10.1.2.3 --port=9000 --served-model-name=chat",
        ))
        .unwrap();
        assert_eq!(e.url, "http://10.1.2.3:9000/metrics");
        assert_eq!(e.labels["model_name"], "chat");
        let e = endpoint(&args(
            "python3 -m vllm.entrypoints.openai.api_server --model m2 --host ::",
        ))
        .unwrap();
        assert_eq!(e.url, "http://[::1]:8000/metrics");
        assert_eq!(e.labels["model_name"], "m2");
        assert_eq!(endpoint(&args("vllm bench serve --port 1")), None);
        assert_eq!(endpoint(&args("python3 serve.py --port 8000")), None);
        assert_eq!(endpoint(&args("vllm serve m --port notaport")), None);
    }
}
