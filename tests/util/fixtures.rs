//! The files under tests/fixtures: GuideLLM result files (tests/fixtures/guidellm), vLLM
//! captures (tests/fixtures/vllm), and result files moved in time.

use super::{TempDir, repo};
use serde_json::Value;
use std::path::PathBuf;

/// tests/fixtures/`rel`.
pub fn fixture(rel: &str) -> PathBuf {
    repo().join("tests/fixtures").join(rel)
}

/// A GuideLLM result file: tests/fixtures/guidellm/`name` ("" for the directory).
pub fn guidellm(name: &str) -> PathBuf {
    fixture("guidellm").join(name)
}

/// A GuideLLM result file (plain JSON), parsed.
pub fn guidellm_json(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(guidellm(name)).unwrap()).unwrap()
}

/// A vLLM /metrics capture: the bytes of tests/fixtures/vllm/`name`.
pub fn vllm_capture(name: &str) -> Vec<u8> {
    std::fs::read(fixture("vllm").join(name)).unwrap()
}

/// Adds `delta` seconds to every Unix time (every number above 1e9) of a result file.
pub fn shift_times(v: &mut Value, delta: f64) {
    match v {
        Value::Object(m) => m.values_mut().for_each(|x| shift_times(x, delta)),
        Value::Array(a) => a.iter_mut().for_each(|x| shift_times(x, delta)),
        Value::Number(n) if n.as_f64().is_some_and(|x| x > 1e9) => {
            *v = Value::from(n.as_f64().unwrap() + delta)
        }
        _ => {}
    }
}

/// The 0.4 hand-made fixture (two benchmarks, 5 s in all) moved by whole seconds to start at
/// `start`, written to `dir/shifted.json`.
pub fn shifted_fixture(dir: &TempDir, start: f64) -> PathBuf {
    let mut doc = guidellm_json("v0.4-handmade.json");
    let first = doc["benchmarks"][0]["start_time"].as_f64().unwrap();
    shift_times(&mut doc, (start - first).round());
    let p = dir.join("shifted.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    p
}

/// A GuideLLM result file's path as a command-line argument.
pub fn guidellm_arg(name: &str) -> String {
    guidellm(name).to_string_lossy().into_owned()
}
