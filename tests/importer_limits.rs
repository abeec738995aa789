//! The importer's own leftovers and bounds (issue 11 item 7): temporary archive files of a
//! killed run are removed by the next run into the same directory (a live run's are kept),
//! and a JSON string longer than the limit is refused with its place named, memory bounded.

mod util;

use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use util::*;

const V04: &str = "v0.4-handmade.json";

/// The pid of a process that has exited.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    pid
}

#[test]
fn a_killed_runs_temporary_files_are_removed_by_the_next_run() {
    let dir = TempDir::new("stale");
    let dead = dead_pid();
    let live = std::process::id();
    let stale: Vec<String> = ["0", "meta", "index"]
        .iter()
        .map(|e| format!(".old.tmp{dead}.{e}"))
        .collect();
    let kept: Vec<String> = vec![
        format!(".busy.tmp{live}.0"),
        format!(".busy.tmp{live}.meta"),
        format!("old.tmp{dead}.0"),     // not hidden: not ours
        format!(".old.tmp{dead}.data"), // not an archive part
        ".old.tmpabc.0".to_string(),
    ];
    for f in stale.iter().chain(&kept) {
        std::fs::write(dir.join(f), b"x").unwrap();
    }
    let base = dir.join("new").to_string_lossy().into_owned();
    let out = run_importer(&[guidellm(V04).to_str().unwrap(), "-o", &base, "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let note = text(&out.stderr);
    assert!(note.contains("removed what a killed run left"), "{note}");
    let mut want: Vec<String> = kept.clone();
    want.extend(["new.0", "new.index", "new.meta"].map(String::from));
    want.sort();
    assert_eq!(dir.files(), want);
}

#[test]
fn sigkill_mid_write_is_cleaned_up_by_the_next_run() {
    // a big enough input that the write takes a while: the 0.8.1 fixture, 20 times over
    let dir = TempDir::new("sigkill");
    let one: Value = serde_json::from_slice(
        &std::fs::read(guidellm("v0.8.1-prefix-multiturn-concurrent-2-4.json")).unwrap(),
    )
    .unwrap();
    let mut inputs = Vec::new();
    for k in 0..20 {
        let mut d = one.clone();
        for b in d["benchmarks"].as_array_mut().unwrap() {
            let id = b["config"]["id_"].as_str().unwrap().to_string();
            b["config"]["id_"] = Value::String(format!("{id}-{k}"));
            b["config"]["run_id"] = Value::String(format!("run-{k}"));
        }
        let p = dir.join(format!("in{k}.json"));
        std::fs::write(&p, d.to_string()).unwrap();
        inputs.push(p.to_string_lossy().into_owned());
    }
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let base = out_dir.join("a").to_string_lossy().into_owned();
    let mut args: Vec<&str> = inputs.iter().map(String::as_str).collect();
    args.extend(["-o", &base, "-i", "1ms"]);
    let mut child = Command::new(GUIDELLM2PCP)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // kill it once its temporary archive exists
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut seen = false;
    while std::time::Instant::now() < deadline {
        let names = std::fs::read_dir(&out_dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect::<Vec<_>>();
        if names
            .iter()
            .any(|n| n.starts_with(".a.tmp") && n.ends_with(".0"))
        {
            seen = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    if !seen || status.signal() != Some(libc::SIGKILL) {
        eprintln!("SKIPPED the SIGKILL part: the import finished before it could be killed");
        return;
    }
    let left: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!left.is_empty(), "SIGKILL left nothing to clean up");
    let b = out_dir.join("b").to_string_lossy().into_owned();
    let out = run_importer(&[guidellm(V04).to_str().unwrap(), "-o", &b, "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut after: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    after.sort();
    assert_eq!(
        after,
        vec!["b.0", "b.index", "b.meta"],
        "left before: {left:?}"
    );
}

/// Run the importer; its exit code, stderr and peak resident memory in KiB. Measured by a
/// small Python parent (getrusage of its children): a child of this test process would count
/// the test's own memory, shared until exec, in its peak.
fn run_measured(args: &[&str]) -> (Option<i32>, String, i64) {
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n\
                  sys.stdout.write('%d %d\\n' % (r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n\
                  sys.stdout.write(r.stderr.decode())\n";
    let out = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .arg(GUIDELLM2PCP)
        .args(args)
        .output()
        .unwrap();
    let all = text(&out.stdout);
    let (first, rest) = all
        .split_once('\n')
        .unwrap_or_else(|| panic!("{all}{}", text(&out.stderr)));
    let mut f = first.split(' ');
    let code: i32 = f.next().unwrap().parse().unwrap();
    let kib: i64 = f.next().unwrap().parse().unwrap();
    (Some(code), rest.to_string(), kib)
}

#[test]
fn a_string_beyond_the_limit_is_refused_with_its_place_and_memory_stays_small() {
    let dir = TempDir::new("longstr");
    // 48 MiB in one request record's output (the record scanner's path)
    let mut doc = guidellm_json(V04);
    doc["benchmarks"][1]["requests"]["successful"][1]["output"] =
        Value::String("y".repeat(48 << 20));
    let input = dir.join("long.json");
    std::fs::write(&input, doc.to_string()).unwrap();
    drop(doc);
    let base = dir.join("a").to_string_lossy().into_owned();
    let (code, e, maxrss_kib) = run_measured(&[input.to_str().unwrap(), "-o", &base]);
    assert_eq!(code, Some(1), "{e}");
    assert!(
        e.contains("(path benchmarks[1].requests.successful[1]): a string longer than 16 MiB (the limit on one JSON string; --max-string raises it)"),
        "{e}"
    );
    assert!(
        e.starts_with(&format!("guidellm2pcp: {}: byte ", input.display())),
        "{e}"
    );
    // bounded: well under the string's own 48 MiB
    assert!(maxrss_kib < 40 * 1024, "peak RSS {maxrss_kib} KiB");
    assert_eq!(dir.files(), vec!["long.json"]);
}

#[test]
fn the_limit_applies_everywhere_and_can_be_raised() {
    let dir = TempDir::new("maxstr");
    // 1 MiB in the run's args (kept as a JSON value by the reader: serde_json's path)
    let mut doc = guidellm_json(V04);
    doc["args"]["note"] = Value::String("z".repeat(1 << 20));
    let input = dir.join("args.json");
    std::fs::write(&input, doc.to_string()).unwrap();
    let base = dir.join("a").to_string_lossy().into_owned();
    let out = run_importer(&[input.to_str().unwrap(), "-o", &base, "--max-string", "64K"]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(
        e.contains("(path args): a string longer than 64 KiB (the limit"),
        "{e}"
    );
    // the byte offset is the string's opening quote
    let json = std::fs::read(&input).unwrap();
    let off: usize = e
        .split("byte ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(json[off], b'"', "{e}");
    assert_eq!(&json[off + 1..off + 4], b"zzz", "{e}");
    // under a raised limit the same file imports
    let out = run_importer(&[input.to_str().unwrap(), "-o", &base, "--max-string", "2M"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run_importer(&[input.to_str().unwrap(), "-o", &base, "--max-string", "9"]);
    assert_eq!(out.status.code(), Some(2));
}
