//! Issue #11: the agent under hostile endpoints, bad configuration and signals, through a real
//! (private) pmcd. Secrets in a URL never leave the agent; bounds; last_error semantics;
//! SIGHUP re-reads the configuration; SIGTERM exits cleanly.

mod common;
mod vllm_support;

use common::*;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use vllm_support::*;

const CAPTURE: &str = "vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt";

/// Everything a pmlogger archive holds, raw bytes of all its files as lossy text.
fn archive_text(base: &std::path::Path) -> String {
    let dir = base.parent().unwrap();
    let stem = base.file_name().unwrap().to_string_lossy().to_string();
    let mut all = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with(&stem) {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
        }
    }
    all
}

#[test]
fn a_password_or_token_in_a_url_appears_in_no_label_error_log_or_archive() {
    let up = free_port();
    let down = free_port();
    let _ep = FakeEndpoint::start(up, Mode::Body(Arc::new(fixture(CAPTURE))));
    let config = format!(
        "[gpu]\nenabled = false\n\n[[vllm]]\nname = \"up\"\n\
url = \"http://user:PW4up@127.0.0.1:{up}/metrics?access_token=TOK4up\"\n\n\
[[vllm]]\nname = \"down\"\nurl = \"http://admin:PW4down@127.0.0.1:{down}/metrics?key=TOK4down\"\n"
    );
    let pmcd = PrivatePmcd::start("secrets", &config);
    let arch = pmcd.dir.path().join("arch");
    let logger_conf = pmcd.dir.path().join("logger.conf");
    std::fs::write(
        &logger_conf,
        "log mandatory on 1 sec {\n llm.agent\n llm.vllm\n}\n",
    )
    .unwrap();
    let mut logger = Command::new("/usr/lib/pcp/bin/pmlogger")
        .arg("-h")
        .arg(pmcd.host())
        .arg("-c")
        .arg(&logger_conf)
        .arg("-l")
        .arg(pmcd.dir.path().join("pmlogger.log"))
        .arg(&arch)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pmlogger");
    let shown_up = format!("http://***@127.0.0.1:{up}/metrics?access_token=***");
    let shown_down = format!("http://***@127.0.0.1:{down}/metrics?key=***");
    let ok = pmcd.wait(15, |p| {
        let e = p
            .value("llm.agent.source.last_error", "down")
            .unwrap_or_default();
        e.contains("connection refused")
            && p.pminfo(&["-l", "llm.vllm.requests.running"])
                .contains(&shown_up)
    });
    let listing = pmcd.pminfo(&["-fl", "llm"]);
    assert!(ok, "sources never reported; pminfo:\n{listing}");
    std::thread::sleep(Duration::from_secs(3));
    let _ = Command::new("kill")
        .args(["-TERM", &logger.id().to_string()])
        .status();
    let _ = logger.wait();

    let listing = pmcd.pminfo(&["-fl", "llm"]);
    let log = pmcd.log();
    let archive = archive_text(&arch);
    let dump = run(Command::new("pmdumplog").args(["-a", "-e"]).arg(&arch));
    let dump = format!("{}{}", stdout(&dump), String::from_utf8_lossy(&dump.stderr));
    // Positive controls: what the test greps does hold the redacted URLs.
    assert!(listing.contains(&shown_up), "{listing}");
    assert!(
        listing.contains(&format!("{shown_down}: connection refused")),
        "{listing}"
    );
    assert!(log.contains(&shown_down), "{log}");
    assert!(
        archive.contains("access_token=***"),
        "archive has no url label"
    );
    for (what, text) in [
        ("pminfo -fl llm", &listing),
        ("the agent log", &log),
        ("the archive files", &archive),
        ("pmdumplog -a -e", &dump),
    ] {
        for secret in ["PW4up", "TOK4up", "PW4down", "TOK4down", "user:", "admin:"] {
            assert!(!text.contains(secret), "{secret} in {what}:\n{text:.3000}");
        }
    }
}

#[test]
fn last_error_is_cleared_on_recovery_and_the_previous_error_stays_visible() {
    let port = free_port();
    let ep = FakeEndpoint::start(port, Mode::Status500);
    let config = format!(
        "[gpu]\nenabled = false\n\n[[vllm]]\nname = \"flap\"\nurl = \"http://127.0.0.1:{port}/metrics\"\n"
    );
    let pmcd = PrivatePmcd::start("last-error", &config);
    let err = "500 Internal Server Error";
    assert!(
        pmcd.wait(10, |p| p
            .value("llm.agent.source.last_error", "flap")
            .is_some_and(|e| e.contains(err))),
        "{}",
        pmcd.log()
    );
    ep.set(Mode::Body(Arc::new(fixture(CAPTURE))));
    assert!(
        pmcd.wait(10, |p| p.value("llm.agent.source.up", "flap").as_deref()
            == Some("1")),
        "{}",
        pmcd.log()
    );
    let v = pmcd.fetch(&[
        "llm.agent.source.last_error",
        "llm.agent.source.previous_error",
        "llm.agent.source.last_error_time",
        "llm.agent.source.last_success",
    ]);
    assert_eq!(v["llm.agent.source.last_error"]["flap"], "", "{v:?}");
    assert!(
        v["llm.agent.source.previous_error"]["flap"].contains(err),
        "{v:?}"
    );
    let failed: f64 = v["llm.agent.source.last_error_time"]["flap"]
        .parse()
        .unwrap();
    let succeeded: f64 = v["llm.agent.source.last_success"]["flap"].parse().unwrap();
    assert!(failed > 1e9 && succeeded > failed, "{v:?}");
}
