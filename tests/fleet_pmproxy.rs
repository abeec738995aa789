//! The fleet's query path on real parts: Debian's redis-server (the key server PCP 6.0 uses;
//! valkey-server from PCP 6.3.1) and pmproxy on free loopback ports, as private processes
//! with their own configuration and directories (never the machine's). An archive holding
//! llm.* (recorded by pmlogger from a private pmcd serving pmdallm, which scrapes a fake vLLM
//! endpoint) and an archive imported by guidellm2pcp are loaded with `pmseries --load`; the
//! test then asks by metric name and by label with `pmseries`, and through pmproxy's REST API,
//! and compares the values with what pmcd served and what the importer wrote.
//! Needs redis-server (scripts/setup.sh installs it). Takes about 15 s.

mod util;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use util::*;

fn wait_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{what} did not listen on 127.0.0.1:{port}; {}:\n{}",
        log.display(),
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// redis-server on a free loopback port, in-memory only, its files under `dir`.
fn start_redis(dir: &Path) -> (Proc, u16) {
    let bin = ["/usr/bin/redis-server", "/usr/bin/valkey-server"]
        .into_iter()
        .find(|b| Path::new(b).exists())
        .expect("no redis-server or valkey-server: run scripts/setup.sh");
    std::fs::create_dir_all(dir).unwrap();
    let port = free_port();
    let log = dir.join("redis.log");
    let child = Command::new(bin)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(&log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let p = Proc(child);
    wait_port(port, bin, &log);
    (p, port)
}

/// pmproxy in the foreground on a free port, talking to the key server on `redis_port`, with
/// its own configuration file and log (`-c`, `-l`), no PCP protocol proxying.
fn start_pmproxy(dir: &Path, redis_port: u16) -> (Proc, u16) {
    std::fs::create_dir_all(dir).unwrap();
    let conf = dir.join("pmproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "[pmproxy]\npcp.enabled = false\nhttp.enabled = true\nredis.enabled = true\n\
             secure.enabled = false\n\n[redis]\nenabled = true\nservers = 127.0.0.1:{redis_port}\n\n\
             [discover]\nenabled = false\n\n[pmseries]\nenabled = true\n\n[pmsearch]\nenabled = false\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let log = dir.join("pmproxy.log");
    let child = Command::new("/usr/lib/pcp/bin/pmproxy")
        .args(["-f", "-U", "root", "-p", &port.to_string()])
        .args([
            "-i",
            "127.0.0.1",
            "-h",
            "127.0.0.1",
            "-r",
            &redis_port.to_string(),
        ])
        .arg("-c")
        .arg(&conf)
        .arg("-l")
        .arg(&log)
        .env("PCP_RUN_DIR", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let p = Proc(child);
    wait_port(port, "pmproxy", &log);
    (p, port)
}

/// PCP's (major, minor) version, from pmconfig.
fn pcp_version() -> (u32, u32) {
    let out = stdout(&run(
        Command::new("/usr/lib/pcp/bin/pmconfig").arg("PCP_VERSION")
    ));
    let v = out
        .trim()
        .trim_start_matches("PCP_VERSION=")
        .trim_matches('\'');
    let mut it = v.split('.').map(|x| x.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

fn pmseries(redis_port: u16, args: &[&str]) -> String {
    let out = run(Command::new("pmseries")
        .args(["-h", "127.0.0.1", "-p", &redis_port.to_string()])
        .args(args));
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "pmseries {args:?}: {text}");
    text
}

/// The 40-hex-digit identifiers a `pmseries QUERY` prints, one a line.
fn ids(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.len() == 40 && l.chars().all(|c| c.is_ascii_hexdigit()))
        .map(String::from)
        .collect()
}

/// Values `pmseries 'QUERY[samples:N]'` prints: lines "[time] VALUE INSTANCE-SERIES".
fn sample_values(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix('['))
        .filter_map(|l| l.split_once("] "))
        .filter_map(|(_, rest)| rest.split_whitespace().next().map(String::from))
        .collect()
}

/// GET `path` from the HTTP server on 127.0.0.1:port; the body of a 200 answer. pmproxy
/// 6.0.3 answers "400 unknown servlet" now and then while its key-server connection is (re)set
/// up: up to 10 s of retries.
fn http_get(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (head, body) = http_get_any(port, path);
        if head.starts_with("HTTP/1.1 200") {
            return body;
        }
        assert!(Instant::now() < deadline, "GET {path}: {head}\n{body}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// GET `path`: the answer's head and body, whatever the status.
fn http_get_any(port: u16, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // pmproxy may answer with chunked encoding: keep the JSON, drop the chunk sizes.
    let body = body
        .lines()
        .filter(|l| !l.chars().all(|c| c.is_ascii_hexdigit()))
        .collect::<Vec<_>>()
        .join("\n");
    (head.to_string(), body)
}

#[test]
fn pmseries_finds_llm_and_guidellm_series_by_name_and_label() {
    let tmp = TempDir::new("fleet-pmproxy");
    let dir = tmp.path().to_path_buf();

    // An llm.* archive: pmdallm scraping a fake vLLM endpoint, recorded by pmlogger.
    let port = free_port();
    let _ep = FakeEndpoint::start(
        port,
        Mode::Body(Arc::new(vllm_capture("busy-1.metrics.txt"))),
    );
    let pmcd = PrivatePmcd::start("fleet-pmcd", &vllm_conf(port, "interval = \"1s\""));
    assert!(
        pmcd.wait(20, |p| p
            .value("llm.vllm.kv_cache.usage", "vllm0")
            .is_some()
            || !p.values("llm.vllm.kv_cache.usage").is_empty()),
        "no kv_cache.usage; log:\n{}",
        pmcd.log()
    );
    let served = pmcd.values("llm.vllm.kv_cache.usage");
    let served_requests = pmcd.values("llm.vllm.requests.success");
    let config = dir.join("pmlogger.config");
    std::fs::write(
        &config,
        "log mandatory on every 1 second {\n    llm.vllm.kv_cache.usage\n    llm.vllm.requests.success\n}\n",
    )
    .unwrap();
    let llm = dir.join("llm").to_string_lossy().into_owned();
    Pmlogger::new(&pmcd.host(), &config, &llm).samples(3).run();
    let llm_host = archive_host(&llm);

    // A guidellm.* archive from a fixture, under a host name of its own.
    let gl = dir.join("guidellm").to_string_lossy().into_owned();
    let out = run(Command::new(GUIDELLM2PCP)
        .arg(guidellm("v0.4-handmade.json"))
        .args(["-q", "-H", "bench-node-7", "-o", &gl]));
    assert!(out.status.success(), "guidellm2pcp: {out:?}");

    // The key server, loaded the way a farm loads finished archives.
    let (_redis, rport) = start_redis(&dir.join("redis"));
    for base in [&llm, &gl] {
        // (its "processed N archive records" line does not always come out: no check on it)
        pmseries(rport, &["--load", &format!("{{source.path: \"{base}\"}}")]);
    }

    // By metric name: one metric series each; values as pmcd served them.
    let kv = ids(&pmseries(rport, &["llm.vllm.kv_cache.usage"]));
    assert_eq!(kv.len(), 1, "series of llm.vllm.kv_cache.usage: {kv:?}");
    let got = sample_values(&pmseries(rport, &["llm.vllm.kv_cache.usage[samples:2]"]));
    let want: BTreeSet<String> = served.iter().map(|(_, v)| v.clone()).collect();
    assert!(
        !got.is_empty(),
        "no kv_cache.usage values in the key server"
    );
    for v in &got {
        let close = want
            .iter()
            .any(|w| (w.parse::<f64>().unwrap() - v.parse::<f64>().unwrap()).abs() < 1e-9);
        assert!(close, "key server has {v}, pmcd served {want:?}");
    }
    let req_values = sample_values(&pmseries(rport, &["llm.vllm.requests.success[samples:1]"]));
    let want_req: BTreeSet<String> = served_requests.iter().map(|(_, v)| v.clone()).collect();
    assert!(!req_values.is_empty(), "no requests.success values");
    for v in &req_values {
        assert!(
            want_req.contains(v),
            "requests.success {v} not in {want_req:?}"
        );
    }

    // guidellm.* by name, and its values as the archive holds them.
    let tok = ids(&pmseries(rport, &["guidellm.interval.tokens.output"]));
    assert_eq!(
        tok.len(),
        1,
        "series of guidellm.interval.tokens.output: {tok:?}"
    );
    let archived = stdout(&run(Command::new("pmdumplog").args([
        "-z",
        &gl,
        "guidellm.interval.tokens.output",
    ])));
    let archived: BTreeSet<String> = archived
        .lines()
        .filter_map(|l| l.split(" value ").nth(1))
        .map(|v| v.trim().to_string())
        .collect();
    let got = sample_values(&pmseries(
        rport,
        &["guidellm.interval.tokens.output[samples:100]"],
    ));
    assert!(!got.is_empty(), "no guidellm values");
    for v in &got {
        assert!(
            archived.contains(v),
            "value {v} not in the archive's {archived:?}"
        );
    }
    assert!(
        got.iter().any(|v| v != "0"),
        "only zeros for guidellm.interval.tokens.output: {got:?}"
    );

    // By label: the hostname context label tells the node's series from the benchmark's.
    let q = format!("llm.vllm.kv_cache.usage{{hostname==\"{llm_host}\"}}");
    assert_eq!(ids(&pmseries(rport, &[&q])), kv, "{q}");
    let q = "guidellm.interval.tokens.output{hostname==\"bench-node-7\"}";
    assert_eq!(ids(&pmseries(rport, &[q])), tok, "{q}");
    let q = "guidellm.interval.tokens.output{hostname==\"no-such-node\"}";
    assert!(ids(&pmseries(rport, &[q])).is_empty(), "{q} found series");
    let q = format!("llm.vllm.kv_cache.usage{{hostname==\"{llm_host}\"}}[samples:1]");
    assert!(!sample_values(&pmseries(rport, &[&q])).is_empty(), "{q}");

    // Instance labels (benchmark, model_name, uuid): PCP before 7.2.0 never stores them on
    // --load (libpcp_web's get_instance_metadata(); docs/fleet.md), 7.2.0 and later do.
    let q = "guidellm.interval.tokens.output{benchmark==\"synchronous\"}";
    let by_benchmark = ids(&pmseries(rport, &[q]));
    let version = pcp_version();
    assert!(version.0 >= 5, "PCP version {version:?}");
    if version >= (7, 2) {
        assert_eq!(by_benchmark, tok, "{q} on PCP {version:?}");
    } else {
        assert!(
            by_benchmark.is_empty(),
            "{q} found series on PCP {version:?}: instance labels now work, update docs/fleet.md"
        );
    }

    // pmproxy's REST API over the same key server: what Grafana's grafana-pcp asks.
    let (_pmproxy, pport) = start_pmproxy(&dir.join("pmproxy"), rport);
    let body = http_get(pport, "/series/query?expr=guidellm.interval.tokens.output");
    for id in &tok {
        assert!(body.contains(id.as_str()), "/series/query: {body}");
    }
    let (head, body) = http_get_any(
        pport,
        "/series/query?expr=llm.vllm.kv_cache.usage%7Bhostname%3D%3D%22no-such-node%22%7D",
    );
    // 200 with [] or 6.0.3's "400 unknown servlet" (see http_get): never the series
    assert!(head.starts_with("HTTP/1.1 "), "{head}");
    assert!(!body.contains(kv.iter().next().unwrap().as_str()), "{body}");
    let body = http_get(
        pport,
        "/series/query?expr=guidellm.interval.tokens.output%7Bhostname%3D%3D%22bench-node-7%22%7D",
    );
    assert!(body.contains(tok.iter().next().unwrap().as_str()), "{body}");
}
