//! The real installation path, through the machine's own pmcd (not a private one):
//! deploy/install-pmda installs the pcp-pmda-llm files of packaging/install-files and runs PCP's
//! Install; --remove undoes it and leaves pmcd.conf byte for byte as it was. Needs root and a
//! running pmcd (scripts/setup.sh).
//!
//! The machine is left as the test found it: an llm agent installed before (by the quickstart,
//! by hand or from a package) is saved first (its $PCP_PMDAS_DIR/llm, its other installed files
//! and its pmcd.conf line) and installed again afterwards with the same pmcd.conf line.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn pcp_var(name: &str) -> String {
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(format!(". /etc/pcp.env && echo ${name}")));
    stdout(&out).trim().to_string()
}

fn sh(script: &str) -> (bool, String) {
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null()));
    (
        out.status.success(),
        format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr)),
    )
}

fn install_pmda(args: &[&str]) -> String {
    let out = run(Command::new(repo().join("deploy/install-pmda"))
        .args(args)
        .arg("--bin-dir")
        .arg(pmdallm().parent().unwrap())
        .stdin(Stdio::null()));
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "install-pmda {args:?} failed:\n{text}"
    );
    text
}

fn llm_line(pmcd_conf: &str) -> Option<String> {
    std::fs::read_to_string(pmcd_conf)
        .unwrap_or_else(|e| panic!("{pmcd_conf}: {e}"))
        .lines()
        .find(|l| l.starts_with("llm") && l[3..].starts_with([' ', '\t']))
        .map(str::to_string)
}

/// The answers PCP's Install prompts for (pipe or socket, socket type, port or path) that give
/// this pmcd.conf line again, e.g. `llm 505 socket inet 44505 /var/lib/pcp/pmdas/llm/pmdallm ...`.
fn install_answers(line: &str) -> Result<String, String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    match (f.get(2).copied(), f.get(3).copied(), f.get(4)) {
        (Some("pipe"), ..) => Ok("pipe\n".into()),
        (Some("socket"), Some("inet"), Some(port)) => Ok(format!("socket\nInternet\n{port}\n")),
        (Some("socket"), Some("ipv6"), Some(port)) => Ok(format!("socket\nIPv6\n{port}\n")),
        (Some("socket"), Some("unix"), Some(path)) => Ok(format!("socket\nUnix\n{path}\n")),
        _ => Err(format!("pmcd.conf line not understood: {line:?}")),
    }
}

/// What the machine had before the test.
struct Before {
    pmcd_conf: String,
    conf_bytes: Vec<u8>,
    line: Option<String>,
    /// Copies: (where it was, where the copy is).
    copies: Vec<(PathBuf, PathBuf)>,
    pmda_dir: PathBuf,
    store: TempDir,
    restored: bool,
}

impl Before {
    fn save() -> Before {
        let pmcd_conf = pcp_var("PCP_PMCDCONF_PATH");
        let pmdas = PathBuf::from(pcp_var("PCP_PMDAS_DIR"));
        let store = TempDir::new("install-before");
        let mut copies = Vec::new();
        let mut paths: Vec<PathBuf> = vec![
            pmdas.join("llm"),
            pmdas.join(".llm-pmcd.conf.before-install"),
        ];
        let (ok, list) = sh(&format!(
            "sh {}/packaging/install.sh --list --package pcp-pmda-llm",
            repo().display()
        ));
        assert!(ok, "install.sh --list: {list}");
        paths.extend(
            list.lines()
                .filter_map(|l| l.split_whitespace().nth(2))
                .map(PathBuf::from)
                .filter(|p| !p.starts_with(pmdas.join("llm"))),
        );
        for (i, path) in paths.into_iter().enumerate() {
            if std::fs::symlink_metadata(&path).is_ok() {
                let copy = store.path().join(i.to_string());
                let (ok, text) = sh(&format!("cp -a '{}' '{}'", path.display(), copy.display()));
                assert!(ok, "saving {}: {text}", path.display());
                copies.push((path, copy));
            }
        }
        Before {
            conf_bytes: std::fs::read(&pmcd_conf).expect("pmcd.conf"),
            line: llm_line(&pmcd_conf),
            pmcd_conf,
            copies,
            pmda_dir: pmdas.join("llm"),
            store,
            restored: false,
        }
    }

    /// Removes the test's install, puts the saved files back and, when the agent was installed,
    /// runs its saved Install with the answers that give the same pmcd.conf line.
    fn restore(&mut self) -> Result<String, String> {
        self.restored = true;
        let mut report = String::new();
        let (ok, text) = sh(&format!(
            "{}/deploy/install-pmda --remove",
            repo().display()
        ));
        if !ok {
            return Err(format!("install-pmda --remove: {text}"));
        }
        for (path, copy) in &self.copies {
            let (ok, text) = sh(&format!(
                "rm -rf '{0}' && mkdir -p \"$(dirname '{0}')\" && cp -a '{1}' '{0}'",
                path.display(),
                copy.display()
            ));
            if !ok {
                return Err(format!("putting back {}: {text}", path.display()));
            }
        }
        let Some(line) = &self.line else {
            return Ok("no llm agent was installed before: none now".into());
        };
        let answers = install_answers(line)?;
        let mut child = Command::new("./Install")
            .current_dir(&self.pmda_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}/Install: {e}", self.pmda_dir.display()))?;
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(answers.as_bytes());
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            return Err(format!("reinstalling the saved agent: {text}"));
        }
        // Install sorts pmcd.conf: put the old order back when only the order differs.
        let now = std::fs::read(&self.pmcd_conf).map_err(|e| e.to_string())?;
        let sorted = |b: &[u8]| {
            let mut l: Vec<Vec<u8>> = b.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
            l.sort();
            l
        };
        if sorted(&now) == sorted(&self.conf_bytes) {
            std::fs::write(&self.pmcd_conf, &self.conf_bytes).map_err(|e| e.to_string())?;
        }
        let after = llm_line(&self.pmcd_conf);
        if after.as_deref().map(normalise) != Some(normalise(line)) {
            return Err(format!(
                "pmcd.conf's llm line was {line:?} before the test, is {after:?} after it"
            ));
        }
        report.push_str(&format!(
            "the llm agent installed before is installed again: {line}"
        ));
        Ok(report)
    }
}

fn normalise(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Drop for Before {
    fn drop(&mut self) {
        if !self.restored {
            match self.restore() {
                Ok(r) => eprintln!("tests/install.rs: {r}"),
                Err(e) => eprintln!(
                    "tests/install.rs: COULD NOT RESTORE the machine's llm agent: {e} (copies kept in {})",
                    self.store.path().display()
                ),
            }
        }
    }
}

#[test]
fn install_answers_give_the_same_pmcd_conf_line() {
    assert_eq!(
        install_answers("llm\t505\tpipe\tbinary\t\t/var/lib/pcp/pmdas/llm/pmdallm -d 505"),
        Ok("pipe\n".into())
    );
    assert_eq!(
        install_answers("llm 505 socket inet 44505 /var/lib/pcp/pmdas/llm/pmdallm -i 44505 -d 505"),
        Ok("socket\nInternet\n44505\n".into())
    );
    assert_eq!(
        install_answers("llm 505 socket unix /run/pcp/llm.sock /x/pmdallm -u /run/pcp/llm.sock"),
        Ok("socket\nUnix\n/run/pcp/llm.sock\n".into())
    );
    assert!(install_answers("llm 505 dso x").is_err());
}

#[test]
fn machine_pmcd_install_and_remove_then_restore() {
    assert_eq!(
        unsafe_free_euid(),
        0,
        "the install test needs root (run scripts/test-all.sh as root)"
    );
    println!(
        "tests/install.rs: uses this machine's own pmcd and {}: saves the llm agent installed \
         there (if any), installs and removes the one under test, then installs the saved one again",
        pcp_var("PCP_PMDAS_DIR")
    );
    let var_dir = pcp_var("PCP_VAR_DIR");
    let mut before = Before::save();
    match &before.line {
        Some(l) => println!("tests/install.rs: installed before the test: {l}"),
        None => println!("tests/install.rs: no llm agent installed before the test"),
    }
    // Start from a machine without the agent.
    install_pmda(&["--remove"]);
    let pmcd_conf = before.pmcd_conf.clone();
    let clean = std::fs::read(&pmcd_conf).expect("pmcd.conf");

    let text = install_pmda(&[]);
    assert!(text.contains("Check llm metrics have appeared"), "{text}");
    assert!(!text.contains("long line split"), "newhelp warned:\n{text}");
    let line = llm_line(&pmcd_conf).expect("llm line in pmcd.conf");
    assert!(
        line.contains("pipe") && line.contains("pmdallm -d 505"),
        "{line}"
    );

    let out = run(Command::new("pminfo").args(["-fdT", "llm.agent"]));
    let info = stdout(&out);
    assert!(
        info.contains(&format!("value \"{}\"", env!("CARGO_PKG_VERSION"))),
        "{info}"
    );
    assert!(info.contains("Semantics: counter  Units: count"), "{info}");
    let installed = [
        format!("{var_dir}/config/pmlogconf/llm/agent"),
        format!("{var_dir}/config/pmlogger/config.llm-benchmark"),
    ];
    for f in &installed {
        assert!(Path::new(f).exists(), "{f} not installed");
    }
    // The benchmark configuration is found by its short name, as documented.
    let (ok, text) = sh("pmlogger -C -c config.llm-benchmark 2>&1");
    assert!(ok, "pmlogger -C -c config.llm-benchmark:\n{text}");
    // The agent was started by pmdaroot as root and now runs as the PCP user.
    let ps = stdout(&run(
        Command::new("ps").args(["-o", "user=", "-C", "pmdallm"])
    ));
    assert!(
        ps.lines().any(|u| u.trim() == "pcp"),
        "pmdallm should run as pcp: {ps:?}"
    );
    let log = std::fs::read_to_string(format!("{}/pmcd/llm.log", pcp_var("PCP_LOG_DIR"))).unwrap();
    assert!(log.contains("serving domain 505"), "{log}");

    install_pmda(&["--remove"]);
    let after = std::fs::read(&pmcd_conf).unwrap();
    assert!(after == clean, "pmcd.conf differs after remove");
    for f in &installed {
        assert!(!Path::new(f).exists(), "{f} left after remove");
    }
    let out = run(Command::new("pminfo").arg("llm"));
    assert!(
        !out.status.success() || stdout(&out).trim().is_empty(),
        "llm still known after remove"
    );

    let report = before.restore().unwrap_or_else(|e| {
        panic!(
            "could not put the machine's llm agent back: {e} (copies in {})",
            before.store.path().display()
        )
    });
    println!("tests/install.rs: {report}");
    if before.line.is_some() {
        let out = run(Command::new("pminfo").args(["-f", "llm.agent.version"]));
        assert!(
            out.status.success() && stdout(&out).contains("value"),
            "the restored agent does not answer: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        std::fs::read(&pmcd_conf).unwrap(),
        before.conf_bytes,
        "pmcd.conf is not as before the test"
    );
}

fn unsafe_free_euid() -> u32 {
    let out = run(Command::new("id").arg("-u"));
    stdout(&out).trim().parse().unwrap()
}
