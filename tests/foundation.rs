//! The agent against PCP's real tools: header layouts, generated files, dbpmda, pminfo through
//! a (private) pmcd, pmlogger + pmdumplog + pmrep on an archive, and bad input.

mod util;

use llm_agent::catalogue::{self, generate};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use util::*;

/// Compiles a C probe against /usr/include/pcp and compares every size, offset and constant
/// with what the Rust declarations in crates/pcp/src/ffi.rs and crates/pcp/src/import_ffi.rs compute, and
/// every libpcp_import prototype with the C type the Rust side declares (a mismatch does not
/// compile: `-Werror`).
#[test]
fn ffi_layouts_match_the_installed_headers() {
    let dir = TempDir::new("layout");
    let mut c = String::from(
        "#include <pcp/pmapi.h>\n#include <pcp/pmda.h>\n#include <pcp/import.h>\n#include <stdio.h>\n#include <stddef.h>\n#include <string.h>\n",
    );
    for (name, ty) in pcp::import_ffi::prototype_table() {
        c.push_str(&format!(
            "_Static_assert(__builtin_types_compatible_p(__typeof__(&{name}), {ty}), \"{name} is not {ty} in <pcp/import.h>\");\n"
        ));
    }
    c.push_str("int main(void) {\n");
    let mut table: Vec<(String, usize)> = pcp::ffi::layout_table()
        .into_iter()
        .map(|(e, v)| (e.to_string(), v))
        .collect();
    table.extend(pcp::import_ffi::layout_table());
    for (expr, _) in &table {
        if let Some(args) = expr.strip_prefix("PMDA_PMUNITS") {
            c.push_str(&format!(
                "{{ pmUnits u = PMDA_PMUNITS{args}; unsigned int x; memcpy(&x, &u, 4); printf(\"%u\\n\", x); }}\n"
            ));
        } else if let Some(args) = expr.strip_prefix("VALUE_BLOCK_HEADER(") {
            let (vtype, vlen) = args.trim_end_matches(')').split_once(',').unwrap();
            c.push_str(&format!(
                "{{ pmValueBlock b; unsigned int x; memset(&b, 0, sizeof b); b.vtype = {vtype}; b.vlen = {vlen}; memcpy(&x, &b, 4); printf(\"%u\\n\", x); }}\n"
            ));
        } else {
            c.push_str(&format!("printf(\"%zu\\n\", (size_t)({expr}));\n"));
        }
    }
    c.push_str("return 0; }\n");
    let src = dir.path().join("probe.c");
    let exe = dir.path().join("probe");
    std::fs::write(&src, c).unwrap();
    let out = run(Command::new("cc")
        .args(["-std=gnu11", "-Werror"])
        .arg(&src)
        .arg("-o")
        .arg(&exe));
    assert!(
        out.status.success(),
        "probe did not compile ({}): {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&mut Command::new(&exe));
    let c_values: Vec<usize> = stdout(&out).lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(c_values.len(), table.len());
    for ((expr, rust), c) in table.iter().zip(c_values) {
        assert_eq!(*rust, c, "{expr}: Rust says {rust}, the C headers say {c}");
    }
}

/// The committed pmns, help, domain.h, root, pmlogconf groups, docs/metrics.md and the man
/// page's metric table must be exactly what the catalogue generates.
#[test]
fn generated_files_match_the_catalogue() {
    let files = generate::all_files(&repo());
    assert!(
        files.len() >= 6,
        "expected the generated files, got {}",
        files.len()
    );
    let mut stale = Vec::new();
    for (path, text) in files {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != text {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files (run `cargo run -- --generate .`): {stale:?}"
    );
}

/// pmcpp + pmnsmerge accept the generated namespace, and it names every catalogued metric.
#[test]
fn generated_pmns_is_valid_and_complete() {
    let dir = TempDir::new("pmns");
    let pmns = write_pmns(dir.path());
    let out = run(Command::new("pminfo")
        .arg("-n")
        .arg(&pmns)
        .arg("-m")
        .arg("llm"));
    let text = stdout(&out);
    for m in catalogue::metrics().filter(|m| m.name != catalogue::DYNAMIC_COUNT) {
        let pmid = format!("{} PMID: {DOMAIN}.{}.{}", m.name, m.cluster, m.item);
        assert!(
            text.contains(&pmid),
            "{pmid} missing from the PMNS:\n{text}"
        );
    }
}

fn dbpmda(script: &str, config: &std::path::Path, run_dir: &std::path::Path) -> String {
    let dir = TempDir::new("dbpmda");
    let pmns = write_pmns(dir.path());
    let mut child = Command::new("dbpmda")
        .arg("-n")
        .arg(&pmns)
        .arg("-ie")
        .env("PCP_RUN_DIR", run_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dbpmda");
    let log = dir.path().join("agent.log");
    let open = format!(
        "open pipe {} -d {DOMAIN} -c {} -l {}\n",
        PMDALLM,
        config.display(),
        log.display()
    );
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(open.as_bytes()).unwrap();
        stdin.write_all(script.as_bytes()).unwrap();
        stdin.write_all(b"quit\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn dbpmda_desc_fetch_instance_text_children() {
    let dir = TempDir::new("dbpmda-run");
    let config = dir.path().join("llm.conf");
    std::fs::write(&config, "").unwrap();
    let out = dbpmda(
        "desc llm.agent.fetches\nfetch llm.agent.version\nfetch llm.agent.source.up\ninstance 505.0\ntext llm.agent.uptime\nchildren llm.agent\n",
        &config,
        dir.path(),
    );
    assert!(
        out.contains("Data Type: 64-bit unsigned int"),
        "desc: {out}"
    );
    assert!(
        out.contains("Semantics: counter  Units: count"),
        "desc: {out}"
    );
    assert!(
        out.contains(&format!("value \"{}\"", env!("CARGO_PKG_VERSION"))),
        "fetch version: {out}"
    );
    assert!(
        out.contains("Elapsed time since this pmdallm process started"),
        "text: {out}"
    );
    assert!(
        out.contains("child[0] version") || out.contains("version"),
        "children: {out}"
    );
    assert!(
        out.contains("config") && out.contains("source"),
        "children: {out}"
    );
    assert!(!out.contains("Botch"), "{out}");
}

#[test]
fn pminfo_lists_every_metric_with_help_and_agent_values() {
    let pmcd = PrivatePmcd::start("pminfo", "");
    let out = pmcd.pminfo(&["-fdT", "llm"]);
    for m in catalogue::metrics() {
        let at = out
            .find(&format!("\n{}\n", m.name))
            .unwrap_or_else(|| panic!("{} missing:\n{out}", m.name));
        let block = &out[at..];
        let help_first_words: String = m
            .help
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            block.contains(&help_first_words),
            "help of {} missing",
            m.name
        );
    }
    let version = pmcd.values("llm.agent.version");
    assert_eq!(
        version,
        vec![(String::new(), format!("\"{}\"", env!("CARGO_PKG_VERSION")))]
    );
    let fetches: u64 = pmcd.values("llm.agent.fetches")[0].1.parse().unwrap();
    let again: u64 = pmcd.values("llm.agent.fetches")[0].1.parse().unwrap();
    assert!(
        again > fetches,
        "fetch counter must grow: {fetches} then {again}"
    );
    assert_eq!(pmcd.values("llm.agent.config.errors")[0].1, "0");
}

#[test]
fn pmlogger_records_and_pmrep_replays() {
    let pmcd = PrivatePmcd::start("pmlogger", "");
    let config = pmcd.dir.path().join("logger.config");
    std::fs::write(&config, "log mandatory on 1 sec {\n    llm.agent\n}\n").unwrap();
    let archive = pmcd.dir.path().join("archive");
    Pmlogger::new(&pmcd.host(), &config, &archive)
        .samples(4)
        .interval("1")
        .run();
    let dump = run(Command::new("pmdumplog").arg("-a").arg(&archive));
    let text = stdout(&dump);
    assert!(text.contains("llm.agent.fetches"), "pmdumplog: {text}");
    assert!(
        text.matches("llm.agent.uptime").count() >= 4,
        "4 samples of uptime expected:\n{text}"
    );
    let rep = run(Command::new("pmrep")
        .env("PCP_PYTHON_PROG", "/usr/bin/python3")
        .arg("-a")
        .arg(&archive)
        .args(["-z", "-o", "csv", "llm.agent.fetches", "llm.agent.uptime"]));
    let csv = stdout(&rep);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(
        rows.len() >= 3,
        "pmrep rows: {csv} {}",
        String::from_utf8_lossy(&rep.stderr)
    );
    // fetches is a counter: pmrep rate-converts it (no value in the first row), about 1/s.
    // The last row has none either when pmrep's interpolation steps past the last record (a
    // loaded machine spaces pmlogger's samples unevenly): take the last row with a rate.
    let rate: f64 = rows
        .iter()
        .rev()
        .find_map(|row| row.split(',').nth(1).filter(|v| !v.is_empty()))
        .unwrap_or_else(|| panic!("no rate of llm.agent.fetches in pmrep's rows: {csv}"))
        .parse()
        .unwrap();
    assert!(
        rate > 0.5 && rate < 20.0,
        "rate of llm.agent.fetches: {rate} ({csv})"
    );
}

#[test]
fn config_errors_are_reported_in_agent_metrics_and_log() {
    let pmcd = PrivatePmcd::start("badconf", "[gpu]\nenabled = true\nintervall = \"2s\"\n");
    let errors = pmcd.values("llm.agent.config.errors");
    assert_eq!(errors[0].1, "1", "{errors:?}");
    let last = &pmcd.values("llm.agent.config.last_error")[0].1;
    let expected = format!(
        "{}:3: [gpu]: unknown key \"intervall\"",
        pmcd.config.display()
    );
    assert!(last.contains(&expected), "{last}");
    assert!(pmcd.log().contains(&expected), "log: {}", pmcd.log());
    assert!(
        pmcd.values("llm.agent.version")[0]
            .1
            .contains(env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_config_gives_one_line_per_error() {
    let dir = TempDir::new("checkconf");
    let bad_type = dir.path().join("type.conf");
    std::fs::write(&bad_type, "[gpu]\nenabled = \"yes\"\n").unwrap();
    let cases: Vec<(std::path::PathBuf, String)> = vec![
        (
            bad_type.clone(),
            format!(
                "pmdallm: {}:2: [gpu]: invalid type: string \"yes\", expected a boolean",
                bad_type.display()
            ),
        ),
        // A directory cannot be read as a file, even by root.
        (
            dir.path().to_path_buf(),
            format!("pmdallm: {}: cannot read:", dir.path().display()),
        ),
    ];
    for (path, expected) in cases {
        let out = run(Command::new(PMDALLM).arg("--check-config").arg(&path));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "one line expected: {err}");
        assert!(err.starts_with(&expected), "{err}\nexpected: {expected}");
    }
    let good = dir.path().join("good.conf");
    std::fs::copy(repo().join("pmda/llm.conf.example"), &good).unwrap();
    let out = run(Command::new(PMDALLM).arg("--check-config").arg(&good));
    assert!(
        out.status.success(),
        "the shipped example must be valid: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_second_instance_is_refused_with_one_line() {
    let pmcd = PrivatePmcd::start("second", "");
    // Same run directory as the running agent: the lock file is held.
    let started = Instant::now();
    let out = run(Command::new(PMDALLM)
        .env("PCP_RUN_DIR", pmcd.dir.path().join("pmcd/run"))
        .stdin(Stdio::piped())
        .args(["-l", "/dev/null"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("pmdallm: another pmdallm is already running"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // From a shell (a terminal on stdin): refused before anything else.
    let out = run(Command::new("script")
        .args(["-qec"])
        .arg(format!("{} -l /dev/null", PMDALLM))
        .arg("/dev/null"));
    let text = stdout(&out);
    assert!(
        text.contains("pmdallm: standard input is a terminal"),
        "{text}"
    );
    // The agent under pmcd is unaffected.
    assert!(
        pmcd.values("llm.agent.version")[0]
            .1
            .contains(env!("CARGO_PKG_VERSION"))
    );
}

/// Metric names found at run time by an earlier agent (kept in $PCP_VAR_DIR/config/pmda/
/// llm.dynamic) exist again from the first moment, under the dynamic subtree llm.other.
#[test]
fn remembered_dynamic_names_exist_from_the_start() {
    let seeded = "3000\t0\tllm.other.vllm.vllm.new_family_total\tdouble\tcounter\t0x100000\t-\tvllm:new_family_total from vllm0\tA family this catalogue does not know.\n";
    let pmcd =
        PrivatePmcd::start_seeded("dynamic", "", &[], &[("config/pmda/llm.dynamic", seeded)]);
    let out = pmcd.pminfo(&["-dT", "llm.other"]);
    assert!(
        out.contains("llm.other.vllm.vllm.new_family_total"),
        "{out}"
    );
    assert!(out.contains("Semantics: counter  Units: count"), "{out}");
    assert!(
        out.contains("A family this catalogue does not know."),
        "{out}"
    );
    assert!(
        out.contains(&format!("PMID: {DOMAIN}.3000.0"))
            || pmcd.pminfo(&["-m", "llm.other"]).contains("3000.0"),
        "{out}"
    );
    // No source reports it yet: the name exists, without values.
    let f = pmcd.pminfo(&["-f", "llm.other.vllm.vllm.new_family_total"]);
    assert!(f.contains("No value(s) available"), "{f}");
    assert!(
        pmcd.log().contains("1 metrics found by earlier runs"),
        "{}",
        pmcd.log()
    );
}

/// Install's optional socket mode: pmcd connects to the agent over an inet socket (-i PORT).
#[test]
fn the_agent_also_serves_pmcd_over_an_inet_socket() {
    let port = free_port().to_string();
    let ipc = format!("socket inet {port}");
    let options = Options {
        ipc: &ipc,
        extra_args: &["-i", &port],
        ..Options::default()
    };
    let pmcd = PrivatePmcd::start_opts("socket", "", options);
    assert!(
        pmcd.values("llm.agent.version")[0]
            .1
            .contains(env!("CARGO_PKG_VERSION"))
    );
    let conf = std::fs::read_to_string(pmcd.dir.path().join("pmcd/pmcd.conf")).unwrap();
    assert!(
        conf.contains(&format!("llm 505 socket inet {port}")),
        "{conf}"
    );
}
