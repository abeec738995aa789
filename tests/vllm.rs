//! End-to-end tests of the vLLM source through a real (private) pmcd: values equal the served
//! capture, interval quantiles equal hand-computed ones, names exist before the endpoint does,
//! faults are reported in llm.agent.* without blocking fetches, and the agent recovers.
//! Ports: every pmcd and fake endpoint gets a free one.

mod util;

use llm_agent::catalogue::{self, vllm as cat};
use llm_agent::sources::openmetrics::parse::{Entry, parse};
use std::sync::Arc;
use std::time::{Duration, Instant};
use util::{FakeEndpoint, Mode, PrivatePmcd, fixture, free_port, repo, vllm_capture, vllm_conf};

fn num(v: &str) -> f64 {
    v.parse::<f64>()
        .unwrap_or_else(|_| panic!("not a number: {v:?}"))
}

fn metric_name(cluster: u32, item: u32) -> &'static str {
    catalogue::metrics()
        .find(|m| m.cluster == cluster && m.item == item)
        .unwrap()
        .name
}

/// Scalar families: (Prometheus sample name, PCP metric, label naming the instance after the
/// engine, or None).
const SCALARS: &[(&str, &str, Option<&str>)] = &[
    (
        "vllm:num_requests_running",
        "llm.vllm.requests.running",
        None,
    ),
    (
        "vllm:num_requests_waiting",
        "llm.vllm.requests.waiting",
        None,
    ),
    ("vllm:kv_cache_usage_perc", "llm.vllm.kv_cache.usage", None),
    (
        "vllm:prefix_cache_queries_total",
        "llm.vllm.prefix_cache.queries",
        None,
    ),
    (
        "vllm:prefix_cache_hits_total",
        "llm.vllm.prefix_cache.hits",
        None,
    ),
    ("vllm:prompt_tokens_total", "llm.vllm.tokens.prompt", None),
    (
        "vllm:generation_tokens_total",
        "llm.vllm.tokens.generation",
        None,
    ),
    ("vllm:num_preemptions_total", "llm.vllm.preemptions", None),
    (
        "vllm:request_success_total",
        "llm.vllm.requests.success",
        Some("finished_reason"),
    ),
];

#[test]
fn values_equal_the_served_capture_and_quantiles_the_hand_computed_ones() {
    let busy1 = Arc::new(vllm_capture("busy-1.metrics.txt"));
    let busy2 = Arc::new(vllm_capture("busy-2.metrics.txt"));
    let port = free_port();
    let _ep = FakeEndpoint::start(port, Mode::Then(busy1, busy2.clone()));
    let pmcd = PrivatePmcd::start("values", &vllm_conf(port, "interval = \"4s\""));
    assert!(
        pmcd.wait(20, |p| p
            .value("llm.agent.source.samples", "vllm0")
            .is_some_and(|v| num(&v) >= 2.0)),
        "no second sample; log:\n{}",
        pmcd.log()
    );
    let all = pmcd.fetch(&["llm.vllm"]);
    let text = String::from_utf8(busy2.to_vec()).unwrap();
    let mut checked = 0;
    let mut unchecked = Vec::new();
    for e in parse(&text) {
        let Entry::Sample(s) = e.unwrap() else {
            continue;
        };
        if !s.name.starts_with("vllm:") || s.name.ends_with("_created") {
            continue;
        }
        let engine = s.labels.get("engine").unwrap().into_owned();
        let inst = format!("vllm0/{engine}");
        if s.labels.get("pid").is_some() {
            continue; // combined with the pid-less series of the same value
        }
        let got = |metric: &str, inst: &str| -> f64 {
            num(all
                .get(metric)
                .and_then(|m| m.get(inst))
                .unwrap_or_else(|| panic!("{metric}[{inst}] has no value (for {})", s.name)))
        };
        if let Some((_, metric, key)) = SCALARS.iter().find(|x| x.0 == s.name) {
            let inst = match key {
                Some(k) => format!("{inst}/{}", s.labels.get(k).unwrap()),
                None => inst,
            };
            assert_eq!(got(metric, &inst), s.value, "{}", s.name);
            checked += 1;
        } else if s.name == "vllm:cache_config_info" {
            assert_eq!(got("llm.vllm.cache_config.info", &inst), 1.0);
            for (label, metric) in [
                ("num_gpu_blocks", "llm.vllm.cache_config.num_gpu_blocks"),
                ("block_size", "llm.vllm.cache_config.block_size"),
                (
                    "gpu_memory_utilization",
                    "llm.vllm.cache_config.gpu_memory_utilization",
                ),
            ] {
                assert_eq!(got(metric, &inst), num(&s.labels.get(label).unwrap()));
            }
            checked += 1;
        } else if let Some((h, part)) = cat::LATENCY_FAMILIES
            .iter()
            .chain(cat::TOKENS_HIST_FAMILIES)
            .find_map(|h| {
                ["_bucket", "_sum", "_count"]
                    .iter()
                    .find(|p| s.name.strip_suffix(**p) == Some(h.prom))
                    .map(|p| (h, *p))
            })
        {
            let item = match part {
                "_sum" => 0,
                "_count" => 1,
                _ => 2,
            };
            let metric = metric_name(h.cluster, h.base + item);
            let inst = if part == "_bucket" {
                format!("{inst} le={}", s.labels.get("le").unwrap())
            } else {
                inst
            };
            assert_eq!(got(metric, &inst), s.value, "{} {inst}", s.name);
            checked += 1;
        } else if s.name == "vllm:future_gauge" {
            let inst = format!("vllm0 {}{{{}}}", s.name, s.labels.raw());
            assert_eq!(got("llm.vllm.other.value", &inst), 42.0);
            checked += 1;
        } else {
            unchecked.push(s.name.to_string());
        }
    }
    assert!(unchecked.is_empty(), "families not checked: {unchecked:?}");
    assert!(checked > 300, "only {checked} series checked");
    // Interval quantiles from the bucket deltas between busy-1 and busy-2 (make-busy.py).
    let q = |m: &str| num(&all[m]["vllm0/0"]);
    assert!((q("llm.vllm.ttft.p50") - 0.125).abs() < 1e-9);
    assert!((q("llm.vllm.ttft.p90") - 0.225).abs() < 1e-9);
    assert!((q("llm.vllm.ttft.p99") - 0.2475).abs() < 1e-9);
    // Labels: model_name, engine, url on the engine instances.
    let out = std::process::Command::new("pminfo")
        .args(["-h", &pmcd.host(), "-l", "llm.vllm.requests.running"])
        .output()
        .unwrap();
    let labels = String::from_utf8_lossy(&out.stdout);
    for l in [
        "\"model_name\":\"Qwen/Qwen1.5-0.5B-Chat\"",
        "\"engine\":\"0\"",
        &format!("\"url\":\"http://127.0.0.1:{port}/metrics\""),
    ] {
        assert!(labels.contains(l), "{l} not in {labels}");
    }
}

fn error_of(p: &PrivatePmcd) -> String {
    p.value("llm.agent.source.last_error", "vllm0")
        .unwrap_or_default()
}

fn wait_error(p: &PrivatePmcd, what: &str) {
    assert!(
        p.wait(15, |p| error_of(p).contains(what)
            && p.value("llm.agent.source.up", "vllm0").as_deref()
                == Some("0")),
        "last_error never contained {what:?}: {:?}; log:\n{}",
        error_of(p),
        p.log()
    );
    assert_eq!(
        p.value("llm.vllm.requests.running", "vllm0/0"),
        None,
        "values are withdrawn while {what}"
    );
}

fn wait_running(p: &PrivatePmcd, v: &str) {
    assert!(
        p.wait(15, |p| p
            .value("llm.vllm.requests.running", "vllm0/0")
            .as_deref()
            == Some(v)
            && p.value("llm.agent.source.up", "vllm0").as_deref()
                == Some("1")),
        "running never became {v}: {:?}; log:\n{}",
        error_of(p),
        p.log()
    );
}

#[test]
fn names_exist_first_faults_are_reported_fetches_never_block_and_the_agent_recovers() {
    let port = free_port();
    let pmcd = PrivatePmcd::start(
        "faults",
        &vllm_conf(port, "interval = \"500ms\"\ntimeout = \"4s\""),
    );
    // Nothing listens yet: every catalogued name exists, without values, and llm.agent says why.
    let names = std::process::Command::new("pminfo")
        .args(["-h", &pmcd.host(), "llm.vllm"])
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&names.stdout);
    let catalogued = catalogue::metrics()
        .filter(|m| m.name.starts_with("llm.vllm."))
        .count();
    assert_eq!(names.lines().count(), catalogued, "{names}");
    wait_error(
        &pmcd,
        &format!("http://127.0.0.1:{port}/metrics: connection refused"),
    );

    let busy2 = Arc::new(vllm_capture("busy-2.metrics.txt"));
    let ep = FakeEndpoint::start(port, Mode::Body(busy2.clone()));
    wait_running(&pmcd, "7");

    ep.set(Mode::Status500);
    wait_error(&pmcd, "HTTP 500");
    ep.set(Mode::Html);
    wait_error(&pmcd, "not Prometheus text (Content-Type text/html)");
    ep.set(Mode::Huge);
    wait_error(&pmcd, "body larger than 16 MiB");
    ep.set(Mode::CloseMidBody(busy2.clone()));
    wait_error(&pmcd, "reading the body");
    ep.set(Mode::Body(busy2.clone()));
    wait_running(&pmcd, "7");

    // NaN and +Inf: the scrape succeeds, those values are simply absent.
    let text = String::from_utf8(busy2.to_vec()).unwrap();
    let nan = text
        .replace(
            "vllm:num_requests_running{engine=\"0\",model_name=\"Qwen/Qwen1.5-0.5B-Chat\"} 7.0",
            "vllm:num_requests_running{engine=\"0\",model_name=\"Qwen/Qwen1.5-0.5B-Chat\"} NaN",
        )
        .replace(
            "vllm:generation_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen1.5-0.5B-Chat\"} 6000.0",
            "vllm:generation_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen1.5-0.5B-Chat\"} +Inf",
        );
    assert_ne!(nan, text);
    ep.set(Mode::Body(Arc::new(nan.into_bytes())));
    assert!(pmcd.wait(
        15,
        |p| p.value("llm.vllm.requests.running", "vllm0/0").is_none()
            && p.value("llm.vllm.requests.waiting", "vllm0/0").as_deref() == Some("0")
    ));
    assert_eq!(pmcd.value("llm.vllm.tokens.generation", "vllm0/0"), None);
    assert_eq!(
        pmcd.value("llm.agent.source.up", "vllm0").as_deref(),
        Some("1")
    );

    // A hung endpoint: fetches must not wait for the scrape. 1 s only detects blocking (the
    // fetch path never waits at all; a blocking agent would take the 4 s scrape timeout).
    ep.set(Mode::Hang(Duration::from_secs(5)));
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    let mut fetches = 0;
    while start.elapsed() < Duration::from_secs(6) {
        let t = Instant::now();
        let all = pmcd.fetch(&["llm.vllm", "llm.agent"]);
        let took = t.elapsed();
        assert!(!all.is_empty());
        worst = worst.max(took);
        fetches += 1;
        assert!(
            took < Duration::from_secs(1),
            "a fetch took {took:?} while the endpoint hangs"
        );
    }
    assert!(fetches >= 5);
    wait_error(&pmcd, "timed out after 4000 ms");
    eprintln!("hung endpoint: {fetches} fetches, worst {worst:?}");

    // Recovery.
    ep.set(Mode::Body(busy2.clone()));
    wait_running(&pmcd, "7");

    // vLLM restarted: counters go backwards. The agent exports the new values and no
    // quantile for the interval that spans the restart.
    ep.set(Mode::Body(Arc::new(vllm_capture("busy-1.metrics.txt"))));
    wait_running(&pmcd, "3");
    assert_eq!(
        pmcd.value("llm.vllm.tokens.prompt", "vllm0/0").as_deref(),
        Some("5000")
    );
    assert_eq!(pmcd.value("llm.vllm.ttft.p50", "vllm0/0"), None);
}

/// pmlogconf enables the shipped vLLM group only when vLLM is there (its probe is a leaf with
/// values), and keeps the agent group regardless.
#[test]
fn pmlogconf_enables_the_vllm_group_when_vllm_is_present() {
    let port = free_port();
    let pmcd = PrivatePmcd::start("pmlogconf", &vllm_conf(port, ""));
    let groups = pmcd.dir.path().join("groups");
    std::fs::create_dir_all(groups.join("llm")).unwrap();
    for f in ["agent", "vllm", "lmcache", "epp"] {
        std::fs::copy(
            repo().join("pmda/pmlogconf").join(f),
            groups.join("llm").join(f),
        )
        .unwrap();
    }
    let run = |out: &str| -> String {
        let path = pmcd.dir.path().join(out);
        let status = std::process::Command::new("/usr/lib/pcp/bin/pmlogconf")
            .args(["-h", &pmcd.host(), "-q", "-d"])
            .arg(&groups)
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run pmlogconf");
        assert!(status.success());
        std::fs::read_to_string(path).unwrap()
    };
    let without = run("without.config");
    assert!(without.contains("#+ llm/vllm:x::"), "{without}");
    assert!(without.contains("#+ llm/agent:y:"), "{without}");
    let _ep = FakeEndpoint::start(
        port,
        Mode::Body(Arc::new(vllm_capture("busy-1.metrics.txt"))),
    );
    wait_running(&pmcd, "3");
    let with = run("with.config");
    assert!(with.contains("#+ llm/vllm:y:10sec:"), "{with}");
    assert!(
        with.contains("log advisory on 10sec {\n\tllm.vllm\n}"),
        "{with}"
    );
    assert!(with.contains("#+ llm/lmcache:x::"), "{with}");
}

/// `https://` endpoints: trusted through `ca_file`, refused with a clear error without it, and
/// a missing `ca_file` is named in the error.
#[test]
fn https_endpoints_with_and_without_their_ca() {
    let dir = util::TempDir::new("https");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let out = util::run(
        std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut server = std::process::Command::new("python3")
        .arg(repo().join("tests/util/https-serve.py"))
        .arg(&cert)
        .arg(&key)
        .arg(fixture("vllm/busy-1.metrics.txt"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start https-serve.py");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let port: u16 = line.trim().strip_prefix("port ").unwrap().parse().unwrap();
    let url = format!("https://127.0.0.1:{port}/metrics");
    let conf = format!(
        "[gpu]\nenabled = false\n\n\
         [[vllm]]\nname = \"trusted\"\nurl = \"{url}\"\nca_file = \"{}\"\n\n\
         [[vllm]]\nname = \"untrusted\"\nurl = \"{url}\"\n\n\
         [[vllm]]\nname = \"nocafile\"\nurl = \"{url}\"\nca_file = \"/nonexistent/ca.pem\"\n",
        cert.display()
    );
    let pmcd = PrivatePmcd::start("https", &conf);
    // Each source samples on its own thread: wait for the trusted source's value and for the
    // first attempt of the other two (a last_error), not just for the first of the three.
    let attempted = |p: &PrivatePmcd, name: &str| {
        p.value("llm.agent.source.last_error", name)
            .is_some_and(|e| !e.is_empty())
    };
    let ok = pmcd.wait(15, |p| {
        p.value("llm.vllm.requests.running", "trusted/0").as_deref() == Some("3")
            && attempted(p, "untrusted")
            && attempted(p, "nocafile")
    });
    let errors = pmcd.fetch(&["llm.agent.source.last_error", "llm.agent.source.up"]);
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        ok,
        "no value over https, or no first attempt of the other two sources: {errors:?}\n{}",
        pmcd.log()
    );
    let error = |name: &str| errors["llm.agent.source.last_error"][name].clone();
    assert_eq!(errors["llm.agent.source.up"]["trusted"], "1");
    assert_eq!(errors["llm.agent.source.up"]["untrusted"], "0");
    assert!(
        error("untrusted").starts_with(&format!("{url}: TLS: certificate verify failed"))
            && (error("untrusted").contains("self-signed certificate")
                || error("untrusted").contains("self signed certificate")),
        "{errors:?}"
    );
    assert_eq!(
        error("nocafile"),
        format!("{url}: ca_file /nonexistent/ca.pem: No such file or directory (os error 2)")
    );
}
