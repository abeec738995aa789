//! Issue #11: the agent under hostile endpoints, bad configuration and signals, through a real
//! (private) pmcd. Secrets in a URL never leave the agent; bounds; last_error semantics;
//! SIGHUP re-reads the configuration; SIGTERM exits cleanly.

mod util;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use util::*;

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
    let _ep = FakeEndpoint::start(up, Mode::Body(Arc::new(vllm_capture(CAPTURE))));
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
    let mut logger = Pmlogger::new(&pmcd.host(), &logger_conf, &arch).spawn();
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
    logger.stop();

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
    ep.set(Mode::Body(Arc::new(vllm_capture(CAPTURE))));
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

/// A Prometheus endpoint whose answer to request N (from 0) is `body(N)`.
fn serve_fn(body: impl Fn(usize) -> Vec<u8> + Send + Sync + 'static) -> u16 {
    serve(move |n, _| Reply::prometheus(body(n)))
}

fn num(p: &PrivatePmcd, metric: &str, inst: &str) -> u64 {
    p.value(metric, inst)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn an_endpoint_inventing_names_and_huge_labels_is_bounded_refused_and_counted() {
    let capture = vllm_capture(CAPTURE);
    let port = serve_fn(move |n| {
        let mut b = capture.clone();
        // 300 new family names in every answer, one 100,000-character name, one 1 MB label.
        for i in 0..300 {
            b.extend(format!("vllm:invented_{n}_{i} 1\n").bytes());
        }
        b.extend(format!("vllm:{} 1\n", "x".repeat(100_000)).bytes());
        b.extend(format!("vllm:big_label{{engine=\"{}\"}} 1\n", "y".repeat(1 << 20)).bytes());
        b
    });
    let config = format!(
        "[gpu]\nenabled = false\n\n[[vllm]]\nname = \"inv\"\nurl = \"http://127.0.0.1:{port}/metrics\"\n\
interval = \"200ms\"\nmax_new_names_per_scrape = 50\nmax_names = 120\n"
    );
    let pmcd = PrivatePmcd::start("inventive", &config);
    let ok = pmcd.wait(20, |p| {
        num(p, "llm.agent.source.samples", "inv") >= 10
            && num(p, "llm.agent.source.refused_names", "inv") > 0
    });
    assert!(ok, "{}", pmcd.log());
    let refused_series = num(&pmcd, "llm.agent.source.refused_series", "inv");
    let samples = num(&pmcd, "llm.agent.source.samples", "inv");
    assert!(
        refused_series >= 2 * samples.saturating_sub(1),
        "refused {refused_series} in {samples} samples"
    );
    // The capture's own unknown families count against max_names too: 120 at most in all.
    let names: u64 = pmcd
        .value("llm.other.metrics", "")
        .unwrap()
        .parse()
        .unwrap();
    assert!(names <= 120, "{names} names under llm.other");
    let listing = pmcd.pminfo(&["-f", "llm.vllm.other.value"]);
    assert!(
        !listing.contains("xxxxxxxxxx"),
        "a 100,000-character name became an instance"
    );
    assert!(
        !listing.contains("yyyyyyyyyy"),
        "a 1 MB label became an instance"
    );
    // The log: a bounded number of lines however many names were refused.
    let log = pmcd.log();
    let lines = log.lines().filter(|l| l.contains("source inv")).count();
    assert!(lines <= 12, "{lines} log lines about the source:\n{log}");
    let suppressed: u64 = pmcd
        .value("llm.agent.log_suppressed", "")
        .unwrap()
        .parse()
        .unwrap();
    assert!(suppressed > 0, "{log}");
}

/// The agent's resident memory in kB (its pid from the log's `pmdallm(PID)`).
fn agent_rss_kb(p: &PrivatePmcd) -> u64 {
    let log = p.log();
    let pid = log
        .split("pmdallm(")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .expect("pid in the log");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn memory_returns_to_its_steady_level_after_a_huge_body() {
    let port = free_port();
    let ep = FakeEndpoint::start(port, Mode::Body(Arc::new(vllm_capture(CAPTURE))));
    let config = format!(
        "[gpu]\nenabled = false\n\n[[vllm]]\nname = \"big\"\nurl = \"http://127.0.0.1:{port}/metrics\"\ninterval = \"200ms\"\n"
    );
    let pmcd = PrivatePmcd::start("huge-body", &config);
    assert!(pmcd.wait(10, |p| num(p, "llm.agent.source.samples", "big") >= 5));
    let steady = agent_rss_kb(&pmcd);
    ep.set(Mode::Huge);
    assert!(pmcd.wait(20, |p| num(p, "llm.agent.source.errors", "big") >= 5));
    ep.set(Mode::Body(Arc::new(vllm_capture(CAPTURE))));
    let samples = num(&pmcd, "llm.agent.source.samples", "big");
    assert!(pmcd.wait(10, |p| num(p, "llm.agent.source.samples", "big")
        >= samples + 5));
    let after = agent_rss_kb(&pmcd);
    println!("agent RSS: {steady} kB steady, {after} kB after 16 MiB bodies");
    assert!(
        after < steady + 6 * 1024,
        "RSS {steady} kB -> {after} kB after huge bodies"
    );
}

fn instances(p: &PrivatePmcd, metric: &str) -> Vec<String> {
    // `pminfo -F` is not needed: the instance list of the indom, "[id or "name"]".
    p.pminfo(&["-f", metric])
        .lines()
        .filter_map(|l| l.trim().strip_prefix("inst ["))
        .map(|l| l.split("] value").next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn sighup_rereads_the_configuration_with_stable_instance_ids_and_sigterm_exits_cleanly() {
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let body = Arc::new(vllm_capture(CAPTURE));
    let _a = FakeEndpoint::start(pa, Mode::Body(body.clone()));
    let _b = FakeEndpoint::start(pb, Mode::Body(body.clone()));
    let _c = FakeEndpoint::start(pc, Mode::Body(body));
    let ep = |name: &str, port: u16| {
        format!("[[vllm]]\nname = \"{name}\"\nurl = \"http://127.0.0.1:{port}/metrics\"\n\n")
    };
    let first = format!(
        "[gpu]\nenabled = false\n\n[membw]\nenabled = false\n\n[bench]\nenabled = false\n\n{}{}",
        ep("a", pa),
        ep("b", pb)
    );
    let pmcd = PrivatePmcd::start("sighup", &first);
    let up =
        |p: &PrivatePmcd, name: &str| p.value("llm.agent.source.up", name).as_deref() == Some("1");
    assert!(
        pmcd.wait(10, |p| up(p, "a") && up(p, "b")),
        "{}",
        pmcd.log()
    );
    let before = instances(&pmcd, "llm.agent.source.up");
    assert_eq!(before, vec!["0 or \"a\"", "1 or \"b\""]);
    let pid = pmcd.agent_pid();

    // b removed, a moved to another endpoint, c added, and an [agent] key added.
    let second = format!(
        "[agent]\nlog_lines = 5\n\n[gpu]\nenabled = false\n\n[membw]\nenabled = false\n\n[bench]\nenabled = false\n\n{}{}",
        ep("c", pc),
        ep("a", pc)
    );
    std::fs::write(&pmcd.config, &second).unwrap();
    run(Command::new("kill").args(["-HUP", &pid]));
    let url_c = format!("http://127.0.0.1:{pc}/metrics");
    let ok = pmcd.wait(10, |p| {
        instances(p, "llm.agent.source.up") == vec!["0 or \"a\"", "2 or \"c\""]
            && up(p, "a")
            && up(p, "c")
            && p.pminfo(&["-l", "llm.vllm.requests.running"])
                .matches(&url_c)
                .count()
                == 2
    });
    let log = pmcd.log();
    assert!(
        ok,
        "{}\n{log}",
        pmcd.pminfo(&["-fl", "llm.agent.source.up", "llm.vllm.requests.running"])
    );
    assert!(
        log.contains("caught SIGHUP: reading the configuration again"),
        "{log}"
    );
    assert!(
        log.contains("source b: removed") && log.contains("source c: added"),
        "{log}"
    );
    assert!(log.contains("source a: changed"), "{log}");
    assert!(
        !pmcd
            .pminfo(&["-f", "llm.vllm.requests.running"])
            .contains("b/0")
    );
    assert_eq!(pmcd.agent_pid(), pid, "the same agent process");
    // pmcd kept the agent: no Broken pipe, no restart.
    let status = pmcd.pminfo(&["-f", "pmcd.agent.status"]);
    assert!(status.contains("value 0"), "{status}");

    // A file that cannot be read at all keeps the running configuration, and says so.
    std::fs::remove_file(&pmcd.config).unwrap();
    std::fs::create_dir(&pmcd.config).unwrap();
    run(Command::new("kill").args(["-HUP", &pid]));
    let ok = pmcd.wait(10, |p| {
        p.value("llm.agent.config.last_error", "")
            .is_some_and(|e| e.ends_with("not usable; keeping the previous configuration"))
    });
    assert!(ok, "{}", pmcd.log());
    assert_eq!(
        instances(&pmcd, "llm.agent.source.up"),
        vec!["0 or \"a\"", "2 or \"c\""]
    );
    assert!(up(&pmcd, "a"));

    // SIGTERM: a log line, and the process is gone (or a zombie until pmcd reaps it).
    run(Command::new("kill").args(["-TERM", &pid]));
    let gone = pmcd.wait(10, |_| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_or(true, |s| s.contains("State:\tZ"))
    });
    assert!(gone, "the agent did not exit on SIGTERM");
    // pmcd may start a new agent meanwhile, which starts a new log.
    let log = pmcd.log();
    if log.contains(&format!("pmdallm({pid})")) {
        assert!(
            log.contains(&format!("pmdallm({pid}) Info: caught SIGTERM: exiting")),
            "{log}"
        );
    }
    let pmcd_log =
        std::fs::read_to_string(pmcd.dir.path().join("pmcd/log/pmcd.log")).unwrap_or_default();
    assert!(!pmcd_log.contains("Broken pipe"), "{pmcd_log}");
}

/// Like `serve_fn`, but answers 401 unless the request carries `Bearer <token>`.
fn serve_with_token(token: &'static str, body: Vec<u8>) -> u16 {
    serve(move |_, head| {
        if head
            .to_ascii_lowercase()
            .contains(&format!("authorization: bearer {token}\r\n"))
        {
            Reply::prometheus(body.clone())
        } else {
            Reply::prometheus(Vec::new()).status("401 Unauthorized")
        }
    })
}

#[test]
fn a_root_only_token_file_is_read_and_a_world_readable_one_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let port = serve_with_token("s3cr3t", vllm_capture(CAPTURE));
    let dir = TempDir::new("tokens");
    let private = dir.path().join("private.token");
    let open = dir.path().join("open.token");
    std::fs::write(&private, "s3cr3t\n").unwrap();
    std::fs::write(&open, "s3cr3t\n").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ep = |name: &str, token: &std::path::Path| {
        format!(
            "[[vllm]]\nname = \"{name}\"\nurl = \"http://127.0.0.1:{port}/metrics\"\ntoken_file = \"{}\"\n\n",
            token.display()
        )
    };
    let config = format!(
        "[gpu]\nenabled = false\n\n{}{}",
        ep("private", &private),
        ep("open", &open)
    );
    // --check-config: the world-readable file is a warning with its line; valid otherwise.
    let conf = dir.path().join("llm.conf");
    std::fs::write(&conf, &config).unwrap();
    let out = run(Command::new(PMDALLM).arg("--check-config").arg(&conf));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "warning: {}:9: [[vllm]] open: {}: readable by every user (mode 0644)",
            conf.display(),
            open.display()
        )),
        "{err}"
    );
    // A missing token file is an error there, with its line.
    let missing = config.replace("open.token", "missing.token");
    std::fs::write(&conf, &missing).unwrap();
    let out = run(Command::new(PMDALLM).arg("--check-config").arg(&conf));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(":9: [[vllm]] open: ") && err.contains("missing.token: No such file"),
        "{err}"
    );

    let pmcd = PrivatePmcd::start("tokens", &config);
    let up = |p: &PrivatePmcd, n: &str| p.value("llm.agent.source.up", n).as_deref() == Some("1");
    let ok = pmcd.wait(10, |p| up(p, "private") && up(p, "open"));
    let status = pmcd.pminfo(&["-f", "llm.agent.source.up", "llm.agent.source.last_error"]);
    assert!(ok, "{status}\n{}", pmcd.log());
    let log = pmcd.log();
    assert!(
        log.contains("open.token: readable by every user (mode 0644)"),
        "{log}"
    );
    assert!(!log.contains("s3cr3t"), "{log}");
}
