//! The README's importing example, run as it stands: the first `sh` block of the section
//! "Importing GuideLLM results", in a directory holding `benchmarks.json` (the 0.4 fixture
//! moved into the recording's time) and `bench`, an archive pmlogger wrote with the shipped
//! deploy/pmlogger/benchmark.config from a private pmcd on this host, which has no GPU and
//! no vLLM. The one change: the window of the example's `-S … -T … -Z UTC` is the one the
//! import printed for the first benchmark (the README's is from another run).

mod util;

use std::process::Command;
use util::*;

/// The README's example commands: continuation lines joined, comments and blank lines dropped.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("## Importing GuideLLM results")
        .nth(1)
        .expect("README has no importing section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("no sh block in the importing section");
    let mut out: Vec<String> = Vec::new();
    let mut cont = false;
    for line in block.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (body, more) = match t.strip_suffix('\\') {
            Some(b) => (b.trim_end(), true),
            None => (t, false),
        };
        if cont {
            let last = out.last_mut().unwrap();
            last.push(' ');
            last.push_str(body);
        } else {
            out.push(body.to_string());
        }
        cont = more;
    }
    out
}

/// `-S '@…' -T '@…' -Z UTC` in a command, as (start, the whole option text).
fn window_options(cmd: &str) -> Option<String> {
    let s = cmd.find("-S '@")?;
    let z = cmd[s..].find("-Z UTC")? + s + "-Z UTC".len();
    Some(cmd[s..z].to_string())
}

#[test]
fn readme_import_example_runs_on_a_merged_archive_without_gpu() {
    let cmds = readme_commands();
    assert!(cmds.len() >= 5, "{cmds:?}");
    assert!(cmds[0].starts_with("guidellm2pcp "), "{cmds:?}");
    for c in &cmds {
        assert!(
            !c.contains(" -i "),
            "README example picks instances with -i: {c}"
        );
    }

    let dir = TempDir::new("readme");
    let pmcd = Pmcd::linux(dir.path());
    let config = repo().join("deploy/pmlogger/benchmark.config");
    let logger = Pmlogger::new(&pmcd.host(), &config, dir.join("logger"))
        .samples(13)
        .run();
    drop(pmcd);
    let (start, _) = window(&logger);
    let work = dir.join("work");
    std::fs::create_dir(&work).unwrap();
    for ext in ["0", "meta", "index"] {
        std::fs::copy(format!("{logger}.{ext}"), work.join(format!("bench.{ext}"))).unwrap();
    }
    std::fs::copy(
        shifted_fixture(&dir, start + 3.0),
        work.join("benchmarks.json"),
    )
    .unwrap();

    let bin_dir = std::path::Path::new(GUIDELLM2PCP)
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut printed_window: Option<String> = None;
    for cmd in &cmds {
        let cmd = match (window_options(cmd), &printed_window) {
            (Some(readme), Some(ours)) => cmd.replace(&readme, ours.as_str()),
            (Some(_), None) => panic!("the import printed no window before: {cmd}"),
            (None, _) => cmd.clone(),
        };
        let out = Command::new("bash")
            .args(["-c", &cmd])
            .current_dir(&work)
            .env("PATH", &path)
            .env("PCP_PYTHON_PROG", "/usr/bin/python3")
            .output()
            .unwrap();
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "README command failed: {cmd}\n{said}");
        assert!(!said.contains("PM_ERR"), "{cmd}\n{said}");
        if cmd.starts_with("guidellm2pcp ") {
            // "  <instance>: -S '@…' -T '@…' -Z UTC" per benchmark
            let line = text(&out.stdout)
                .lines()
                .find(|l| l.starts_with("  0 "))
                .unwrap_or_else(|| panic!("no window printed: {said}"))
                .to_string();
            printed_window = Some(window_options(&line).expect(&line));
        }
        if cmd.starts_with("pmrep ") {
            // rows with a GuideLLM value and a live (kernel) value side by side
            let rows: Vec<&str> = said
                .lines()
                .filter(|l| {
                    l.split_whitespace()
                        .next()
                        .is_some_and(|w| w.parse::<f64>().is_ok() || w.contains(':'))
                })
                .collect();
            assert!(
                rows.iter().any(|r| {
                    let f: Vec<&str> = r.split_whitespace().collect();
                    f.iter().filter(|x| x.parse::<f64>().is_ok()).count() >= 4
                }),
                "{cmd}: no row with both values\n{said}"
            );
        }
    }
    assert!(work.join("merged.0").exists());
}
