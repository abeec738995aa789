//! Test harness: a private pmcd (own port, config, PMNS and log directory) running the
//! `pmdallm` under test as a pipe agent, so tests never touch the machine's pmcd and can run in
//! parallel. Built on tests/private-pmcd.sh. Every test gets its own directory and port.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

pub const DOMAIN: u32 = 505;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn pmdallm() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pmdallm"))
}

/// A fresh, empty directory for one test (removed by `TempDir::drop`).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU16 = AtomicU16::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pmdallm-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // The agent drops to user pcp only when started by pmdaroot; keep the tree readable.
        let _ = Command::new("chmod")
            .args(["-R", "a+rwx"])
            .arg(&dir)
            .status();
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("PMDALLM_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs a command and returns its output, panicking with the command line if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The agent's PMNS as one complete ASCII file (root + our subtree), made with pmcpp.
pub fn write_pmns(dir: &Path) -> PathBuf {
    let out = run(Command::new("/usr/lib/pcp/bin/pmcpp")
        .arg("-I")
        .arg(repo().join("pmda"))
        .arg(repo().join("pmda/root")));
    assert!(
        out.status.success(),
        "pmcpp failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join("llm.pmns");
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// How to start a [`PrivatePmcd`]; the default is the agent alone, as a pipe agent.
#[derive(Default)]
pub struct Options<'a> {
    /// pmcd.conf's connection part: "" for "pipe binary", or "socket inet PORT" together with
    /// "-i PORT" in `extra_args`.
    pub ipc: &'a str,
    /// Extra agent arguments.
    pub extra_args: &'a [&'a str],
    /// Files written under pmcd's PCP_VAR_DIR first (path, contents).
    pub var_files: &'a [(&'a str, &'a str)],
    /// Also run PCP's pmdalinux (as a DSO), as on a benchmark node.
    pub with_linux: bool,
}

/// A private pmcd serving the agent under test.
pub struct PrivatePmcd {
    pub dir: TempDir,
    pub port: u16,
    pub config: PathBuf,
}

/// A port nothing listens on now (the OS's pick), for a server a test starts later.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PrivatePmcd {
    /// Starts pmcd with the agent configured by `config_toml` (written to llm.conf).
    pub fn start(tag: &str, config_toml: &str) -> PrivatePmcd {
        Self::start_with(tag, config_toml, &[])
    }

    /// As `start`, with extra agent arguments.
    pub fn start_with(tag: &str, config_toml: &str, extra_args: &[&str]) -> PrivatePmcd {
        Self::start_seeded(tag, config_toml, extra_args, &[])
    }

    /// As `start_with`, with files written under pmcd's PCP_VAR_DIR first (path, contents),
    /// e.g. `config/pmda/llm.dynamic` as an earlier run of the agent left it.
    pub fn start_seeded(
        tag: &str,
        config_toml: &str,
        extra_args: &[&str],
        var_files: &[(&str, &str)],
    ) -> PrivatePmcd {
        let options = Options {
            extra_args,
            var_files,
            ..Options::default()
        };
        Self::start_opts(tag, config_toml, options)
    }

    /// The general form.
    pub fn start_opts(tag: &str, config_toml: &str, options: Options) -> PrivatePmcd {
        let Options {
            ipc,
            extra_args,
            var_files,
            with_linux,
        } = options;
        let ipc = if ipc.is_empty() { "pipe binary" } else { ipc };
        let dir = TempDir::new(tag);
        for (rel, text) in var_files {
            let path = dir.path().join("pmcd/var").join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let config = dir.path().join("llm.conf");
        std::fs::write(&config, config_toml).unwrap();
        let pmns = write_pmns(dir.path());
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let agent = format!(
                "llm {DOMAIN} {ipc} {} -d {DOMAIN} -c {} {}",
                pmdallm().display(),
                config.display(),
                extra_args.join(" ")
            );
            let mut cmd = Command::new("bash");
            cmd.env(
                "PRIVATE_PMCD_KEEP_VAR",
                if var_files.is_empty() { "0" } else { "1" },
            )
            .arg(repo().join("tests/private-pmcd.sh"))
            .arg("start")
            .arg(dir.path().join("pmcd"))
            .arg(port.to_string())
            .arg("--agent")
            .arg(&agent)
            .arg("--pmns-file")
            .arg(&pmns);
            if with_linux {
                cmd.args(["--pmns-file", "/var/lib/pcp/pmns/root_linux", "--agent"])
                    .arg("linux 60 dso linux_init /var/lib/pcp/pmdas/linux/pmda_linux.so");
            }
            let out = run(&mut cmd);
            if out.status.success() {
                let p = PrivatePmcd { dir, port, config };
                p.wait_for_agent();
                return p;
            }
            last_err = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        }
        panic!("private pmcd did not start: {last_err}");
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The agent's log file.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pmcd/log/pmcd/llm.log")).unwrap_or_default()
    }

    /// Waits until the agent answers (pmcd starts it asynchronously).
    fn wait_for_agent(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self
                .pminfo(&["-f", "llm.agent.version"])
                .contains("value \"")
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("agent did not answer; log:\n{}", self.log());
    }

    /// Runs a PCP client command against this pmcd (`-h host` is added) and returns stdout+stderr.
    pub fn client(&self, tool: &str, args: &[&str]) -> String {
        let out = run(Command::new(tool)
            .arg("-h")
            .arg(self.host())
            .args(args)
            .env("PCP_PYTHON_PROG", "/usr/bin/python3"));
        format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr))
    }

    pub fn pminfo(&self, args: &[&str]) -> String {
        self.client("pminfo", args)
    }

    /// Values of a metric as (instance name or "", value text) pairs, from `pminfo -f`.
    pub fn values(&self, metric: &str) -> Vec<(String, String)> {
        parse_pminfo_values(&self.pminfo(&["-f", metric]))
    }

    /// `pminfo -f` of `names`: metric -> instance name ("" for singular) -> value text
    /// (strings without their quotes).
    pub fn fetch(&self, names: &[&str]) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut args = vec!["-f"];
        args.extend_from_slice(names);
        parse_pminfo(&self.pminfo(&args))
    }

    /// The value of one instance ("" for a singular metric), if it has one.
    pub fn value(&self, metric: &str, inst: &str) -> Option<String> {
        self.fetch(&[metric]).get(metric)?.get(inst).cloned()
    }

    /// Polls until `f` holds (at most `secs` seconds); returns whether it did.
    pub fn wait(&self, secs: u64, mut f: impl FnMut(&PrivatePmcd) -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if f(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Polls until `pred(values)` holds or `timeout` passes; returns the last values.
    pub fn wait_values(
        &self,
        metric: &str,
        timeout: Duration,
        pred: impl Fn(&[(String, String)]) -> bool,
    ) -> Vec<(String, String)> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.values(metric);
            if pred(&v) || Instant::now() > deadline {
                return v;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for PrivatePmcd {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo().join("tests/private-pmcd.sh"))
            .arg("stop")
            .arg(self.dir.path().join("pmcd"))
            .output();
    }
}

/// Parses `pminfo -f` output for one metric into (instance, value) pairs.
pub fn parse_pminfo_values(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("inst [") {
            // inst [0 or "gpu0"] value 42
            if let Some(q1) = rest.find(" or \"") {
                let after = &rest[q1 + 5..];
                if let Some(q2) = after.find("\"] value ") {
                    out.push((after[..q2].to_string(), after[q2 + 9..].to_string()));
                }
            }
        } else if let Some(v) = l.strip_prefix("value ") {
            out.push((String::new(), v.to_string()));
        }
    }
    out
}

/// Parses `pminfo -f` output of several metrics: metric -> instance name -> value text, with
/// the quotes of string values removed.
pub fn parse_pminfo(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            current = line.trim().to_string();
            out.entry(current.clone()).or_default();
            continue;
        }
        for (inst, v) in parse_pminfo_values(line) {
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(&v);
            out.entry(current.clone())
                .or_default()
                .insert(inst, v.to_string());
        }
    }
    out
}

/// `pmrep -o csv` output, split into the header's column names and the rows' fields (each
/// unquoted). Column names spell an instance `metric-inst` on PCP 6 and `metric[inst]` on
/// PCP 7; [`PmrepCsv::column`] accepts both.
pub struct PmrepCsv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl PmrepCsv {
    pub fn parse(text: &str) -> PmrepCsv {
        let split = |l: &str| -> Vec<String> {
            l.split(',')
                .map(|f| f.trim().trim_matches('"').to_string())
                .collect()
        };
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines.next().map(split).unwrap_or_default();
        let rows = lines.map(split).collect();
        PmrepCsv { header, rows }
    }

    /// The index of the column of `metric`'s instance `inst`, in either spelling.
    pub fn column(&self, metric: &str, inst: &str) -> Option<usize> {
        let (dash, bracket) = (format!("{metric}-{inst}"), format!("{metric}[{inst}]"));
        self.header.iter().position(|h| *h == dash || *h == bracket)
    }

    /// The number in `row` at `metric`'s instance `inst`, if the row has one there.
    pub fn value(&self, row: &[String], metric: &str, inst: &str) -> Option<f64> {
        row.get(self.column(metric, inst)?)?.parse().ok()
    }
}
