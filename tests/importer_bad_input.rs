//! guidellm2pcp on bad input: one line naming the file and the byte offset or JSON path,
//! a non-zero exit status, and no archive files left behind.

mod util;

use serde_json::json;
use std::process::Output;
use util::*;

const V053: &str = "v0.5.3-prefix-concurrent-2-4.json";
const V04: &str = "v0.4-handmade.json";
const V081: &str = "v0.8.1-prefix-multiturn-concurrent-2-4.json";

/// Write `content` as an input in `inp`, import it into an empty `out`, expect failure.
fn fails(tag: &str, content: &[u8], extra: &[&str]) -> (String, i32) {
    let inp = TempDir::new(&format!("{tag}-in"));
    let out = TempDir::new(&format!("{tag}-out"));
    let f = inp.join("bad.json");
    std::fs::write(&f, content).unwrap();
    let base = out.join("a").to_string_lossy().into_owned();
    let mut args = vec![f.to_str().unwrap(), "-o", base.as_str()];
    args.extend_from_slice(extra);
    let o = run_importer(&args);
    let (msg, code) = check_failure(&o);
    assert!(
        msg.contains(f.to_str().unwrap()),
        "message lacks the file name: {msg}"
    );
    assert!(
        out.files().is_empty(),
        "files left behind: {:?}",
        out.files()
    );
    (msg, code)
}

fn check_failure(o: &Output) -> (String, i32) {
    assert!(
        !o.status.success(),
        "unexpected success: {}",
        text(&o.stdout)
    );
    let msg = text(&o.stderr);
    assert_eq!(msg.trim_end().lines().count(), 1, "not one line: {msg}");
    assert!(msg.starts_with("guidellm2pcp: "), "{msg}");
    (msg, o.status.code().unwrap_or(-1))
}

#[test]
fn truncated_json() {
    let data = std::fs::read(guidellm(V053)).unwrap();
    let (msg, code) = fails("trunc", &data[..300_000], &[]);
    assert_eq!(code, 1);
    assert!(msg.contains("truncated JSON"), "{msg}");
    assert!(msg.contains("byte 300000"), "{msg}");
    assert!(msg.contains("(path benchmarks[1]."), "{msg}");
}

#[test]
fn nan_is_rejected_with_offset() {
    let data = String::from_utf8(std::fs::read(guidellm(V053)).unwrap()).unwrap();
    let at = data.find("\"duration\": 5.0").unwrap();
    let bad = data.replacen("\"duration\": 5.0", "\"duration\": NaN", 1);
    let (msg, code) = fails("nan", bad.as_bytes(), &[]);
    assert_eq!(code, 1);
    let want = at + "\"duration\": ".len() + 1;
    assert!(
        msg.contains(&format!("byte {want} ")),
        "{msg} (want byte {want})"
    );
    assert!(msg.contains("(path benchmarks[0].duration)"), "{msg}");
}

#[test]
fn wrong_type_of_benchmark_time() {
    let mut d = guidellm_json(V04);
    d["benchmarks"][1]["start_time"] = json!("yesterday");
    let (msg, _) = fails("type1", d.to_string().as_bytes(), &[]);
    assert!(msg.contains("(path benchmarks[1].start_time)"), "{msg}");
    assert!(msg.contains("invalid type: string \"yesterday\""), "{msg}");
}

#[test]
fn wrong_type_in_summary_statistic() {
    let mut d = guidellm_json(V04);
    d["benchmarks"][0]["metrics"]["time_to_first_token_ms"]["total"]["percentiles"]["p95"] =
        json!("fast");
    let (msg, _) = fails("type2", d.to_string().as_bytes(), &[]);
    assert!(
        msg.contains(": path benchmarks[0].metrics.time_to_first_token_ms.total.percentiles.p95: "),
        "{msg}"
    );
    assert!(msg.contains("expected a number"), "{msg}");
}

#[test]
fn bad_turns_and_warnings() {
    let mut d = guidellm_json(V081);
    d["benchmarks"][1]["metrics"]["turns"][1]["turn_index"] = json!(0);
    let (msg, _) = fails("turn1", d.to_string().as_bytes(), &[]);
    assert!(
        msg.contains(": path benchmarks[1].metrics.turns[1].turn_index: duplicate turn_index 0"),
        "{msg}"
    );
    let mut d = guidellm_json(V081);
    d["benchmarks"][0]["metrics"]["turns"][0]["inter_token_latency_ms"]["successful"]["mean_ci"]
        ["upper"] = json!(true);
    let (msg, _) = fails("turn2", d.to_string().as_bytes(), &[]);
    assert!(
        msg.contains(
            ": path benchmarks[0].metrics.turns[0].inter_token_latency_ms.successful.mean_ci.upper: expected a number"
        ),
        "{msg}"
    );
    let mut d = guidellm_json(V081);
    d["benchmarks"][0]["metrics"]["turns"] = json!({"turn_index": 0});
    let (msg, _) = fails("turn3", d.to_string().as_bytes(), &[]);
    assert!(
        msg.contains(": path benchmarks[0].metrics.turns: expected a list of turn summaries"),
        "{msg}"
    );
    let mut d = guidellm_json(V081);
    d["benchmarks"][1]["warnings"][0]["sample_count"] = json!(-3);
    let (msg, _) = fails("warn1", d.to_string().as_bytes(), &[]);
    assert!(
        msg.contains(
            ": path benchmarks[1].warnings[0].sample_count: expected a non-negative integer"
        ),
        "{msg}"
    );
}

#[test]
fn wrong_type_in_request_record() {
    let mut d = guidellm_json(V04);
    d["benchmarks"][1]["requests"]["successful"][3]["prompt_tokens"] = json!([1, 2]);
    let (msg, _) = fails("type3", d.to_string().as_bytes(), &[]);
    assert!(
        msg.contains("(path benchmarks[1].requests.successful[3].prompt_tokens)"),
        "{msg}"
    );
}

#[test]
fn empty_benchmark_list() {
    let doc = json!({"metadata": {"version": 1, "guidellm_version": "0.5.3"}, "args": {}, "benchmarks": []});
    let (msg, _) = fails("empty", doc.to_string().as_bytes(), &[]);
    assert!(msg.contains("empty benchmark list"), "{msg}");
    let (msg, _) = fails("nolist", b"{\"metadata\": {\"version\": 2}}", &[]);
    assert!(msg.contains("no benchmarks"), "{msg}");
}

#[test]
fn unknown_schema() {
    let mut d = guidellm_json(V04);
    d["metadata"] = json!({"version": 3, "guidellm_version": "9.9"});
    let (msg, _) = fails("schema", d.to_string().as_bytes(), &[]);
    assert!(msg.contains("unsupported GuideLLM report schema"), "{msg}");
    assert!(msg.contains("metadata.version"), "{msg}");
    let (msg, _) = fails("shape", b"{\"benchmarks\": [{\"foo\": 1}]}", &[]);
    assert!(msg.contains("unrecognised GuideLLM result shape"), "{msg}");
    let (msg, _) = fails("array", b"[1, 2]", &[]);
    assert!(msg.contains("byte "), "{msg}");
    let (msg, _) = fails("empty-file", b"", &[]);
    assert!(msg.contains("empty"), "{msg}");
}

#[test]
fn duplicate_benchmark_ids() {
    let mut d = guidellm_json(V04);
    let id = d["benchmarks"][0]["config"]["id_"].clone();
    d["benchmarks"][1]["config"]["id_"] = id;
    let (msg, _) = fails("dup", d.to_string().as_bytes(), &[]);
    assert!(msg.contains("duplicate benchmark id"), "{msg}");
    assert!(msg.contains(": path benchmarks[1].config.id_: "), "{msg}");
    // the same file twice
    let out = TempDir::new("dup2");
    let f = guidellm(V04);
    let base = out.join("a").to_string_lossy().into_owned();
    let o = run_importer(&[f.to_str().unwrap(), f.to_str().unwrap(), "-o", &base]);
    let (msg, _) = check_failure(&o);
    assert!(msg.contains("duplicate benchmark id"), "{msg}");
    assert!(out.files().is_empty());
}

#[test]
fn existing_archive_needs_force() {
    let out = TempDir::new("exists");
    let base = out.join("a").to_string_lossy().into_owned();
    std::fs::write(out.join("a.meta"), b"precious").unwrap();
    let f = guidellm(V04);
    let o = run_importer(&[f.to_str().unwrap(), "-o", &base]);
    let (msg, code) = check_failure(&o);
    assert_eq!(code, 1);
    assert!(
        msg.contains("archive exists") && msg.contains("--force"),
        "{msg}"
    );
    assert_eq!(std::fs::read(out.join("a.meta")).unwrap(), b"precious");
    assert_eq!(out.files(), vec!["a.meta"]);
    let o = run_importer(&[f.to_str().unwrap(), "-o", &base, "--force"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(out.files(), vec!["a.0", "a.index", "a.meta"]);
}

#[test]
fn unwritable_or_missing_directory() {
    let f = guidellm(V04);
    let o = run_importer(&[f.to_str().unwrap(), "-o", "/proc/guidellm2pcp-test"]);
    let (msg, code) = check_failure(&o);
    assert_eq!(code, 1);
    assert!(msg.contains("cannot write in /proc"), "{msg}");
    let o = run_importer(&[f.to_str().unwrap(), "-o", "/nonexistent-dir-gl2pcp/a"]);
    let (msg, _) = check_failure(&o);
    assert!(msg.contains("does not exist"), "{msg}");
}

#[test]
fn full_disk_leaves_nothing() {
    // RLIMIT_FSIZE makes writes fail with EFBIG once a file passes 64 KiB, as a full disk would
    let out = TempDir::new("full");
    let base = out.join("a").to_string_lossy().into_owned();
    let f = guidellm(V053);
    let o = std::process::Command::new("/bin/sh")
        .args([
            "-c",
            "ulimit -f 64; exec \"$0\" \"$1\" -o \"$2\"",
            GUIDELLM2PCP,
            f.to_str().unwrap(),
            &base,
        ])
        .output()
        .unwrap();
    let (msg, code) = check_failure(&o);
    assert_eq!(code, 1);
    assert!(msg.contains("cannot write archive"), "{msg}");
    assert!(out.files().is_empty(), "left behind: {:?}", out.files());
}

#[test]
fn missing_input_and_usage() {
    let out = TempDir::new("usage");
    let base = out.join("a").to_string_lossy().into_owned();
    let o = run_importer(&["/nonexistent/results.json", "-o", &base]);
    let (msg, code) = check_failure(&o);
    assert_eq!(code, 1);
    assert!(
        msg.contains("/nonexistent/results.json: cannot open"),
        "{msg}"
    );
    let o = run_importer(&["x.json"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run_importer(&["x.json", "-o", &base, "--interval", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run_importer(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.files().is_empty());
}

#[test]
fn sigint_leaves_nothing() {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    let out = TempDir::new("sigint");
    let base = out.join("a").to_string_lossy().into_owned();
    let mut c = std::process::Command::new(GUIDELLM2PCP)
        .args(["-", "-o", &base])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(guidellm(V053)).unwrap();
    let mut stdin = c.stdin.take().unwrap();
    stdin.write_all(&data[..data.len() / 2]).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let st = std::process::Command::new("kill")
        .args(["-INT", &c.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = c.wait().unwrap();
    drop(stdin);
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert!(out.files().is_empty(), "left behind: {:?}", out.files());
}

#[test]
fn interval_too_small_for_benchmark() {
    // a one-hour benchmark at 10 ms: 360,000 intervals
    let mut d = guidellm_json(V04);
    let start = d["benchmarks"][0]["start_time"].as_f64().unwrap();
    d["benchmarks"][0]["end_time"] = json!(start + 3600.0);
    let (msg, code) = fails("tiny-iv", d.to_string().as_bytes(), &["--interval", "10ms"]);
    assert_eq!(code, 1);
    assert!(msg.contains("use a larger --interval"), "{msg}");
    assert!(msg.contains("path benchmarks[0].duration"), "{msg}");
}

#[test]
fn stray_quote_in_request_record_is_placed_where_it_is() {
    // the record scanner cuts records out of the buffer: a stray quote flips its idea of
    // what is inside a string; the error must still be placed in the record, not at EOF
    let data = String::from_utf8(std::fs::read(guidellm(V053)).unwrap()).unwrap();
    let at = data.find("\"prompt_tokens\":").unwrap();
    let bad = format!("{}\"{}", &data[..at + 15], &data[at + 15..]);
    let (msg, _) = fails("quote", bad.as_bytes(), &[]);
    assert!(!msg.contains("truncated"), "{msg}");
    assert!(msg.contains("expected `:`"), "{msg}");
    assert!(
        msg.contains("(path benchmarks[0].requests.successful[0])"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("byte {} ", at + 16)),
        "{msg} (want {})",
        at + 16
    );
}

#[test]
fn stdin_error_has_byte_offset() {
    let data = std::fs::read(guidellm(V053)).unwrap();
    let out = TempDir::new("stdin-trunc-out");
    let base = out.join("a").to_string_lossy().into_owned();
    let o = run_importer_stdin(&["-", "-o", base.as_str()], &data[..300_000]);
    let (msg, _) = check_failure(&o);
    assert!(msg.contains("byte 300000"), "{msg}");
    assert!(msg.contains("truncated JSON"), "{msg}");
}

/// `guidellm2pcp --help | head -1`: the reader closes the pipe before the usage text is out;
/// the importer stops quietly with status 0 instead of panicking (it exited 101 with a
/// "failed printing to stdout" panic).
#[test]
fn help_into_a_closed_pipe_is_not_a_panic() {
    let mut c = std::process::Command::new(GUIDELLM2PCP)
        .arg("--help")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(c.stdout.take()); // the reader is gone before the first byte is written
    let o = c.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "stderr: {}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "stderr: {}", text(&o.stderr));
}
