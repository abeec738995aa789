//! The real installation path, through the machine's own pmcd (not a private one):
//! deploy/install-pmda installs the pcp-pmda-llm files of packaging/install-files and runs PCP's
//! Install; --remove undoes it and leaves pmcd.conf byte for byte as it was. Needs root and a
//! running pmcd (scripts/setup.sh).
//!
//! The machine is left as the test found it: an llm agent installed before (by the quickstart
//! or by hand) is saved first (its $PCP_PMDAS_DIR/llm, its other installed files
//! and its pmcd.conf line) and installed again afterwards with the same pmcd.conf line; the
//! other files of packaging/install-files found before (guidellm2pcp, man pages) are put back.

mod util;

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use util::*;

/// The tests here that use the machine's pmcd run one at a time.
static MACHINE: Mutex<()> = Mutex::new(());

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
        .arg(Path::new(PMDALLM).parent().unwrap())
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
        // Every file of both packages: the package test removes guidellm2pcp too.
        let (ok, list) = sh(&format!(
            "sh {}/packaging/install.sh --list",
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
        let Some(line) = self.line.clone() else {
            self.put_back_pmcd_conf_order()?;
            return Ok("no llm agent was installed before: none now".into());
        };
        let answers = install_answers(&line)?;
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
        self.put_back_pmcd_conf_order()?;
        let after = llm_line(&self.pmcd_conf);
        if after.as_deref().map(normalise) != Some(normalise(&line)) {
            return Err(format!(
                "pmcd.conf's llm line was {line:?} before the test, is {after:?} after it"
            ));
        }
        report.push_str(&format!(
            "the llm agent installed before is installed again: {line}"
        ));
        Ok(report)
    }

    /// PCP's Install sorts pmcd.conf: put the old order back when only the order differs.
    fn put_back_pmcd_conf_order(&self) -> Result<(), String> {
        let now = std::fs::read(&self.pmcd_conf).map_err(|e| e.to_string())?;
        let sorted = |b: &[u8]| {
            let mut l: Vec<Vec<u8>> = b.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
            l.sort();
            l
        };
        if sorted(&now) == sorted(&self.conf_bytes) {
            std::fs::write(&self.pmcd_conf, &self.conf_bytes).map_err(|e| e.to_string())?;
        }
        Ok(())
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
    let _machine = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
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

/// The destinations packaging/install-files gives one package (files and directories).
fn install_list(package: &str) -> BTreeSet<String> {
    let (ok, list) = sh(&format!(
        "sh {}/packaging/install.sh --list --package {package}",
        repo().display()
    ));
    assert!(ok, "install.sh --list --package {package}: {list}");
    let set: BTreeSet<String> = list
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_string)
        .collect();
    assert!(set.len() >= 2, "{package}: {list}");
    set
}

/// The binaries of this test build (what the packages here are made of).
fn bin_dir() -> PathBuf {
    Path::new(PMDALLM).parent().unwrap().to_path_buf()
}

fn has(tool: &str) -> bool {
    sh(&format!("command -v {tool}")).0
}

/// rpmbuild makes the two RPMs of packaging/pcp-pmda-llm.spec (RHEL-only build requirements
/// skipped with --nodeps, PCP's paths from this machine's /etc/pcp.env) and each holds exactly
/// its share of packaging/install-files, with the scriptlets that install and remove the agent.
#[test]
fn rpm_packages_hold_the_install_list_and_scriptlets() {
    assert!(
        has("rpmbuild"),
        "no rpmbuild: scripts/setup.sh installs it (Debian: apt-get install rpm)"
    );
    let top = TempDir::new("rpmbuild");
    let (ok, text) = sh(&format!(
        "cd {} && rpmbuild -bb --nodeps --build-in-place --define '_topdir {}' \
         --define 'llm_bin_dir {}' --define 'debug_package %{{nil}}' \
         --define '_binary_payload w1.gzdio' packaging/pcp-pmda-llm.spec 2>&1",
        repo().display(),
        top.path().display(),
        bin_dir().display()
    ));
    assert!(ok, "rpmbuild failed:\n{text}");
    for package in ["pcp-pmda-llm", "pcp-import-guidellm2pcp"] {
        let rpm = format!(
            "{}/RPMS/*/{package}-{}-1*.rpm",
            top.path().display(),
            env!("CARGO_PKG_VERSION")
        );
        let (ok, files) = sh(&format!("rpm -qlp {rpm}"));
        assert!(ok, "rpm -qlp {rpm}: {files}");
        // rpmbuild adds its own /usr/lib/.build-id links, and gzips man pages where its
        // brp-compress runs (Debian 13 and later).
        let files: BTreeSet<String> = files
            .lines()
            .filter(|f| !f.starts_with("/usr/lib/.build-id"))
            .map(|f| match f.strip_suffix(".gz") {
                Some(page) if f.contains("/man/man") => page.to_string(),
                _ => f.to_string(),
            })
            .collect();
        assert_eq!(
            files,
            install_list(package),
            "{package}: RPM files vs packaging/install-files"
        );
        let (ok, scripts) = sh(&format!("rpm -qp --scripts {rpm}"));
        assert!(ok, "rpm -qp --scripts {rpm}: {scripts}");
        if package == "pcp-pmda-llm" {
            let post = scripts.split("preuninstall scriptlet").next().unwrap();
            assert!(
                post.starts_with("postinstall scriptlet")
                    && post.contains(".NeedInstall")
                    && post.contains("./Install"),
                "{package} %post:\n{scripts}"
            );
            let preun = scripts
                .split("preuninstall scriptlet")
                .nth(1)
                .unwrap_or_else(|| panic!("{package}: no %preun:\n{scripts}"));
            assert!(preun.contains("./Remove"), "{package} %preun:\n{scripts}");
        } else {
            assert!(
                scripts.trim().is_empty(),
                "{package}: scriptlets:\n{scripts}"
            );
        }
    }
}

/// Files as `dpkg-deb -c` lists them, as absolute paths without a trailing slash.
fn deb_contents(deb: &str) -> BTreeSet<String> {
    let (ok, text) = sh(&format!("dpkg-deb -c {deb}"));
    assert!(ok, "dpkg-deb -c {deb}: {text}");
    text.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches('.').trim_end_matches('/').to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn sorted_lines(path: &str) -> Vec<String> {
    let mut l: Vec<String> = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(str::to_string)
        .collect();
    l.sort();
    l
}

/// The Debian packages built by packaging/build-deb.sh, installed and purged on this machine:
/// installed, pmcd serves llm.*, guidellm2pcp and man pmdallm work; purged, pmcd's
/// configuration and PMNS are as before. The llm agent found before is put back afterwards.
#[test]
fn machine_pmcd_debian_packages_install_and_purge_then_restore() {
    if !std::path::Path::new("/etc/debian_version").exists() {
        println!(
            "tests/install.rs: not a Debian system: no Debian package test (the RPM test runs)"
        );
        return;
    }
    let _machine = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(unsafe_free_euid(), 0, "the package test needs root");
    let (_, status) =
        sh("dpkg-query -W -f '${Status}' pcp-pmda-llm pcp-import-guidellm2pcp 2>/dev/null");
    assert!(
        !status.contains("installed"),
        "pcp-pmda-llm packages are installed on this machine ({status}): this test cannot put a \
         package back; remove them (dpkg --purge pcp-pmda-llm pcp-import-guidellm2pcp) first"
    );
    println!(
        "tests/install.rs: installs and purges the pcp-pmda-llm Debian packages on this machine \
         (its own pmcd), then puts back the llm agent found before"
    );
    let mut before = Before::save();
    install_pmda(&["--remove"]);
    let pmcd_conf = before.pmcd_conf.clone();
    let pmns_root = format!("{}/pmns/root", pcp_var("PCP_VAR_DIR"));
    let clean_conf = sorted_lines(&pmcd_conf);
    let clean_pmns = std::fs::read(&pmns_root).expect("PMNS root");

    let out = TempDir::new("debs");
    let (ok, text) = sh(&format!(
        "{}/packaging/build-deb.sh --bin-dir {} --out {} 2>&1",
        repo().display(),
        bin_dir().display(),
        out.path().display()
    ));
    assert!(ok, "build-deb.sh failed:\n{text}");
    let deb = |package: &str| {
        format!(
            "{}/{package}_{}-1_*.deb",
            out.path().display(),
            env!("CARGO_PKG_VERSION")
        )
    };
    for package in ["pcp-pmda-llm", "pcp-import-guidellm2pcp"] {
        let contents = deb_contents(&deb(package));
        let want = install_list(package);
        // dpkg-deb lists every parent directory too.
        let files: BTreeSet<String> = contents
            .iter()
            .filter(|p| want.contains(*p) || !want.iter().any(|w| w.starts_with(&format!("{p}/"))))
            .cloned()
            .collect();
        assert_eq!(
            files, want,
            "{package}: .deb contents vs packaging/install-files"
        );
    }

    let (ok, text) = sh(&format!(
        "dpkg -i {} {} 2>&1",
        deb("pcp-pmda-llm"),
        deb("pcp-import-guidellm2pcp")
    ));
    let purge = || sh("dpkg --purge pcp-pmda-llm pcp-import-guidellm2pcp 2>&1");
    if !ok {
        let _ = purge();
        panic!("dpkg -i failed:\n{text}");
    }
    let (ok_version, version) = sh("pminfo -f llm.agent.version");
    let (ok_help, help) = sh("guidellm2pcp --help");
    // PCP's own `pcp` command finds pcp-llm in $PCP_BINADM_DIR.
    let (ok_pcp_llm, pcp_llm) = sh("pcp llm --help 2>&1");
    let (ok_man, man) = sh("man -w pmdallm && man -P cat pmdallm 2>/dev/null | head -n 20");
    let (ok_logger, logger) = sh("pmlogger -C -c config.llm-benchmark 2>&1");
    let line = llm_line(&pmcd_conf);
    let (ok_purge, purged) = purge();
    assert!(ok_purge, "dpkg --purge failed:\n{purged}");
    assert!(
        ok_version && version.contains(&format!("value \"{}\"", env!("CARGO_PKG_VERSION"))),
        "after dpkg -i, pmcd does not serve llm.agent.version:\n{version}"
    );
    assert!(
        line.as_deref().is_some_and(|l| l.contains("pipe")),
        "pmcd.conf line after dpkg -i: {line:?}"
    );
    assert!(
        ok_help && help.contains("guidellm2pcp"),
        "guidellm2pcp --help:\n{help}"
    );
    assert!(
        ok_pcp_llm && pcp_llm.contains("compare") && pcp_llm.contains("run"),
        "pcp llm --help:\n{pcp_llm}"
    );
    assert!(
        ok_man && man.contains("/man1/pmdallm.1") && man.contains("pmdallm"),
        "man pmdallm:\n{man}"
    );
    assert!(ok_logger, "pmlogger -C -c config.llm-benchmark:\n{logger}");

    // Purged: pmcd's configuration as before (PCP's Install sorts pmcd.conf, so compare its
    // lines), the PMNS byte for byte, nothing of the packages left.
    assert_eq!(
        sorted_lines(&pmcd_conf),
        clean_conf,
        "pmcd.conf after purge"
    );
    assert!(
        std::fs::read(&pmns_root).unwrap() == clean_pmns,
        "{pmns_root} differs after purge"
    );
    for f in install_list("pcp-pmda-llm")
        .iter()
        .chain(install_list("pcp-import-guidellm2pcp").iter())
    {
        assert!(!Path::new(f).exists(), "{f} left after purge");
    }
    let (known, _) = sh("pminfo llm");
    assert!(!known, "llm still known after purge");

    let report = before.restore().unwrap_or_else(|e| {
        panic!(
            "could not put the machine's llm agent back: {e} (copies in {})",
            before.store.path().display()
        )
    });
    println!("tests/install.rs: {report}");
    assert!(
        std::fs::read(&pmcd_conf).unwrap() == before.conf_bytes,
        "pmcd.conf is not as before the test"
    );
}

/// The first ```sh block after `heading` in README.md.
fn readme_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let at = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README.md: no {heading:?}"));
    let start = readme[at..]
        .find("```sh\n")
        .expect("README.md: no ```sh block")
        + at
        + 6;
    let end = readme[start..]
        .find("```")
        .expect("README.md: unterminated block")
        + start;
    readme[start..end].to_string()
}

/// The README's recording example, verbatim, on this machine after the agent is installed the
/// quickstart's way with its default configuration: the vLLM stand-in's values end up in the
/// archive and pmrep replays them.
#[test]
fn machine_pmcd_readme_recording_example_runs_verbatim() {
    let _machine = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(
        unsafe_free_euid(),
        0,
        "the recording example test needs root"
    );
    let conf = format!("{}/llm/llm.conf", pcp_var("PCP_SYSCONF_DIR"));
    assert!(
        !Path::new(&conf).exists(),
        "{conf} exists: the README's example is for the default configuration (vLLM on localhost:8000)"
    );
    assert!(
        std::net::TcpListener::bind("127.0.0.1:8000").is_ok(),
        "port 8000 is taken: the README's example starts its vLLM stand-in there"
    );
    let block = readme_block("## Recording a benchmark");
    println!(
        "tests/install.rs: runs the README's recording example with this machine's pmcd:\n{block}"
    );
    let mut before = Before::save();
    install_pmda(&[]);
    let started = std::time::SystemTime::now();
    // In its own process group, so that a stand-in left by a failing block is stopped too.
    let child = Command::new("timeout")
        .args(["120", "sh", "-e", "-c", &block])
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("run the README's block");
    let group = child.id();
    let out = child
        .wait_with_output()
        .expect("wait for the README's block");
    let _ = sh(&format!("kill -TERM -- -{group} 2>/dev/null"));
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    // The archives the block made (/var/tmp/bench-*).
    if let Ok(dir) = std::fs::read_dir("/var/tmp") {
        for e in dir.flatten() {
            let new = e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= started);
            if new && e.file_name().to_string_lossy().starts_with("bench-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let report = before.restore();
    assert!(
        out.status.success(),
        "the README's recording example failed:\n{text}"
    );
    // Rows of pmrep: a time, then requests.running, tokens.generation and fetches, all numbers.
    let rows = text
        .lines()
        .filter(|l| l.len() > 8 && l.as_bytes()[2] == b':' && l.as_bytes()[5] == b':')
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().skip(1).collect();
            f.len() == 3 && f.iter().all(|v| v.parse::<f64>().is_ok())
        })
        .count();
    assert!(
        rows >= 5,
        "fewer than 5 pmrep rows with every value:\n{text}"
    );
    println!(
        "tests/install.rs: {}",
        report.unwrap_or_else(|e| panic!("{e}"))
    );
}

/// Runs `script` after sourcing scripts/setup.sh's functions (LLM_SETUP_FUNCTIONS_ONLY=1),
/// with HOME and PATH as given.
fn setup_functions(script: &str, home: &Path, path: &str) -> (bool, String) {
    let out = run(Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "export LLM_SETUP_FUNCTIONS_ONLY=1; . ./scripts/setup.sh; repo=$PWD; {script}"
        ))
        .current_dir(repo())
        .env("HOME", home)
        .env("PATH", path)
        .stdin(Stdio::null()));
    (
        out.status.success(),
        format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr)),
    )
}

fn write_script(path: &Path, text: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{text}\n")).unwrap();
    let (ok, err) = sh(&format!("chmod 755 '{}'", path.display()));
    assert!(ok, "{err}");
}

/// rust-version from Cargo.toml.
fn rust_version() -> String {
    let toml = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    toml.lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rust-version in Cargo.toml")
        .to_string()
}

/// setup.sh refuses a toolchain older than rust-version (Debian 12's cargo is 1.65) with what
/// to do, distinguishes rustup's toolchains from the distribution's, and accepts a new one.
#[test]
fn setup_checks_rustc_against_rust_version_with_exact_advice() {
    let dir = TempDir::new("rustc");
    let bin = dir.path().join("bin");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    // Only what check_rust needs besides the toolchain: a distribution's rustc in /usr/bin
    // must not be found.
    let tools = dir.path().join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    for tool in ["sed", "sort", "head"] {
        let (ok, text) = sh(&format!(
            "ln -s \"$(command -v {tool})\" '{}/{tool}'",
            tools.display()
        ));
        assert!(ok, "{tool}: {text}");
    }
    let path = format!("{}:{}", bin.display(), tools.display());
    let want = rust_version();

    // No toolchain: check_rust says so by its status (install_rust then runs rustup).
    let (ok, text) = setup_functions(
        "if check_rust; then echo status=0; else echo status=1; fi",
        &home,
        &path,
    );
    assert!(ok && text.contains("status=1"), "{text}");

    write_script(&bin.join("cargo"), "exit 0");
    write_script(
        &bin.join("rustc"),
        "echo 'rustc 1.65.0 (897e37553 2022-11-02)'",
    );
    let (ok, text) = setup_functions("check_rust", &home, &path);
    assert!(!ok, "1.65 accepted:\n{text}");
    assert!(
        text.contains(&format!(
            "is Rust 1.65.0; this project needs Rust {want} or newer"
        )) && text.contains("apt-get remove rustc cargo"),
        "{text}"
    );

    write_script(&bin.join("rustup"), "exit 0");
    let (ok, text) = setup_functions("check_rust", &home, &path);
    assert!(!ok && text.contains("rustup update stable"), "{text}");

    write_script(
        &bin.join("rustc"),
        &format!("echo 'rustc {want}.0 (0 2026-01-01)'"),
    );
    let (ok, text) = setup_functions("check_rust", &home, &path);
    assert!(ok && text.contains("is new enough"), "{text}");
}

/// When pmcd does not start, setup.sh shows what starting it said (the init script's or
/// systemctl's own message) and says when pmcd.log is absent, instead of pointing at a log that
/// does not exist. pminfo, the init script and systemctl are stand-ins here: nothing is started.
#[test]
fn setup_shows_why_pmcd_did_not_start() {
    let dir = TempDir::new("nopmcd");
    let bin = dir.path().join("bin");
    let rc = dir.path().join("rc");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&rc).unwrap();
    write_script(&bin.join("pminfo"), "exit 1");
    write_script(&bin.join("sleep"), "exit 0");
    let reason = "pmcd: cannot bind port 44321: Address already in use (stand-in)";
    write_script(
        &bin.join("systemctl"),
        &format!("echo '{reason}' >&2; exit 1"),
    );
    write_script(&rc.join("pmcd"), &format!("echo '{reason}'; exit 1"));
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let (ok, text) = setup_functions(
        &format!(
            "pcp_env; PCP_RC_DIR={0}; PCP_LOG_DIR={0}; start_pmcd",
            rc.display()
        ),
        dir.path(),
        &path,
    );
    assert!(!ok, "start_pmcd did not fail:\n{text}");
    assert!(
        text.contains("pmcd did not start. What starting it said:") && text.contains(reason),
        "{text}"
    );
    assert!(text.contains("pmcd.log is empty or absent"), "{text}");
}

/// setup.sh takes only this PCP's own pmcd for its own: the same version, the pid of its pidfile.
/// Reads the machine's pmcd (nothing is changed there).
#[test]
fn machine_pmcd_setup_knows_its_own_pmcd() {
    let dir = TempDir::new("pmcdcheck");
    let path = std::env::var("PATH").unwrap();
    let (ok, text) = setup_functions("pcp_env; check_pmcd_is_ours", dir.path(), &path);
    assert!(ok, "the machine's own pmcd not recognised:\n{text}");

    let (ok, text) = setup_functions(
        "pcp_env; PCP_VERSION=0.0.1; check_pmcd_is_ours",
        dir.path(),
        &path,
    );
    assert!(
        !ok && text.contains("is not the one PCP 0.0.1 installed here")
            && text.contains(&format!("it says version {}", pcp_var("PCP_VERSION"))),
        "{text}"
    );

    std::fs::write(dir.path().join("pmcd.pid"), "1\n").unwrap();
    let (ok, text) = setup_functions(
        &format!(
            "pcp_env; PCP_RUN_DIR={}; check_pmcd_is_ours",
            dir.path().display()
        ),
        dir.path(),
        &path,
    );
    assert!(!ok && text.contains("pmcd.pid says 1"), "{text}");
}

/// What the README says about PCP_PYTHON_PROG: with another python3 first on PATH (a venv,
/// conda; here one that does not see the system's site packages), PCP's Python tools fail where
/// pcp.conf names plain `python3` (PCP 6.0), and PCP_PYTHON_PROG=/usr/bin/python3 mends them.
/// Reads the machine's pmcd.
#[test]
fn machine_pmcd_pcp_python_prog_mends_pmrep_under_another_python3() {
    let dir = TempDir::new("python");
    write_script(
        &dir.path().join("python3"),
        "exec /usr/bin/python3 -S \"$@\"",
    );
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let pmrep = |prog: Option<&str>| {
        let mut cmd = Command::new("pmrep");
        cmd.args(["-s", "1", "pmcd.numagents"]).env("PATH", &path);
        match prog {
            Some(p) => cmd.env("PCP_PYTHON_PROG", p),
            None => cmd.env_remove("PCP_PYTHON_PROG"),
        };
        let out = run(&mut cmd);
        (
            out.status.success(),
            format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let (ok, text) = pmrep(None);
    // PCP 6.3 and later name an absolute interpreter in pcp.conf (PCP_PYTHON_PROG=/usr/bin/python3),
    // so the problem is gone there; 6.0 says plain `python3` and takes the first on PATH.
    let conf = std::fs::read_to_string("/etc/pcp.conf").unwrap_or_default();
    let absolute = conf
        .lines()
        .filter_map(|l| l.strip_prefix("PCP_PYTHON_PROG="))
        .any(|v| v.trim_matches('"').starts_with('/'));
    if absolute {
        assert!(
            ok,
            "pcp.conf names an absolute python, yet pmrep fails:\n{text}"
        );
    } else {
        assert!(
            !ok && text.contains("No module named 'pcp'"),
            "pmrep under another python3:\n{text}"
        );
    }
    let (ok, text) = pmrep(Some("/usr/bin/python3"));
    assert!(ok, "pmrep with PCP_PYTHON_PROG=/usr/bin/python3:\n{text}");
}

fn unsafe_free_euid() -> u32 {
    let out = run(Command::new("id").arg("-u"));
    stdout(&out).trim().parse().unwrap()
}

/// Every file the repository ships is in packaging/install-files, so the quickstart and both
/// kinds of package carry it: each generated pmlogconf group, each man page and each program
/// of Cargo.toml (pmlogconf groups of new sources and `pcp-llm` were once left out).
#[test]
fn install_list_holds_every_shipped_file() {
    let list = std::fs::read_to_string(repo().join("packaging/install-files")).unwrap();
    let sources: BTreeSet<String> = list
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_string)
        .collect();
    let mut shipped = Vec::new();
    for dir in ["pmda/pmlogconf", "man"] {
        for e in std::fs::read_dir(repo().join(dir)).unwrap() {
            shipped.push(format!(
                "{dir}/{}",
                e.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    let cargo = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let mut section = "";
    for l in cargo.lines() {
        if l.starts_with('[') {
            section = l;
        } else if let (Some(name), "[[bin]]") = (l.strip_prefix("name = "), section) {
            shipped.push(format!("target/release/{}", name.trim_matches('"')));
        }
    }
    assert!(shipped.len() >= 10, "{shipped:?}");
    let missing: Vec<&String> = shipped.iter().filter(|f| !sources.contains(*f)).collect();
    assert!(
        missing.is_empty(),
        "not in packaging/install-files: {missing:?}"
    );
}
