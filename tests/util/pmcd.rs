//! A private pmcd (tests/private-pmcd.sh: its own port on 127.0.0.1, pmcd.conf, PMNS and
//! run/log/var directories), so tests never touch the machine's pmcd and run in parallel:
//! [`PrivatePmcd`] serves the `pmdallm` under test (as a pipe agent by default), [`Pmcd`] is the
//! bare server, e.g. PCP's linux agent alone ([`Pmcd::linux`]).

use super::{PMDALLM, TempDir, parse_pminfo, parse_pminfo_values, repo, run, stdout, text};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The agent's PMDA domain.
pub const DOMAIN: u32 = 505;

/// PCP's linux agent as a DSO, and its PMNS: what a benchmark node's pmcd also runs.
const LINUX_AGENT: &str = "linux 60 dso linux_init /var/lib/pcp/pmdas/linux/pmda_linux.so";
const LINUX_PMNS: &str = "/var/lib/pcp/pmns/root_linux";

/// A port nothing listens on now (the OS's pick), for a server a test starts later.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// tests/private-pmcd.sh with `args`.
fn private_pmcd_sh(args: &[&str], state: &Path) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("tests/private-pmcd.sh"))
        .arg(args[0])
        .arg(state)
        .args(&args[1..]);
    cmd
}

/// The agent's PMNS as one complete ASCII file (root + our subtree), made with pmcpp.
pub fn write_pmns(dir: &Path) -> PathBuf {
    let out = run(Command::new("/usr/lib/pcp/bin/pmcpp")
        .arg("-I")
        .arg(repo().join("pmda"))
        .arg(repo().join("pmda/root")));
    assert!(out.status.success(), "pmcpp failed: {}", text(&out.stderr));
    let path = dir.join("llm.pmns");
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// A running private pmcd, stopped (with its agents) on drop. Its state is in `state`.
pub struct Pmcd {
    pub state: PathBuf,
    pub port: u16,
}

impl Pmcd {
    /// Starts pmcd with its state in `state`, these pmcd.conf agent lines and PMNS files, on
    /// a free port (three tries). `keep_var`: keep what is already under state/var.
    pub fn start(state: &Path, agents: &[&str], pmns_files: &[&Path], keep_var: bool) -> Pmcd {
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let mut cmd = private_pmcd_sh(&["start", &port.to_string()], state);
            cmd.env("PRIVATE_PMCD_KEEP_VAR", if keep_var { "1" } else { "0" });
            for agent in agents {
                cmd.arg("--agent").arg(agent);
            }
            for pmns in pmns_files {
                cmd.arg("--pmns-file").arg(pmns);
            }
            let out = run(&mut cmd);
            if out.status.success() {
                return Pmcd {
                    state: state.to_path_buf(),
                    port,
                };
            }
            last_err = format!("{}{}", stdout(&out), text(&out.stderr));
        }
        panic!("private pmcd did not start: {last_err}");
    }

    /// pmcd with PCP's linux agent alone, its state in `dir/pmcd`.
    pub fn linux(dir: &Path) -> Pmcd {
        Self::start(
            &dir.join("pmcd"),
            &[LINUX_AGENT],
            &[Path::new(LINUX_PMNS)],
            false,
        )
    }

    /// The host spec a client gives with `-h`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `private-pmcd.sh status`: the pids of pmcd and its agents ("agent pid=N ...").
    pub fn status(&self) -> String {
        stdout(&run(&mut private_pmcd_sh(&["status"], &self.state)))
    }
}

impl Drop for Pmcd {
    fn drop(&mut self) {
        let _ = private_pmcd_sh(&["stop"], &self.state).output();
    }
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

/// A private pmcd serving the agent under test, configured by `config` (llm.conf), everything
/// under `dir` (pmcd's state in dir/pmcd).
pub struct PrivatePmcd {
    // Declared first: dropped (pmcd and the agent stopped) before `dir` is removed.
    pmcd: Pmcd,
    pub dir: TempDir,
    pub port: u16,
    pub config: PathBuf,
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
            let path = dir.join("pmcd/var").join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let config = dir.join("llm.conf");
        std::fs::write(&config, config_toml).unwrap();
        let pmns = write_pmns(dir.path());
        let agent = format!(
            "llm {DOMAIN} {ipc} {PMDALLM} -d {DOMAIN} -c {} {}",
            config.display(),
            extra_args.join(" ")
        );
        let mut agents = vec![agent.as_str()];
        let mut pmns_files = vec![pmns.as_path()];
        if with_linux {
            pmns_files.push(Path::new(LINUX_PMNS));
            agents.push(LINUX_AGENT);
        }
        let pmcd = Pmcd::start(
            &dir.join("pmcd"),
            &agents,
            &pmns_files,
            !var_files.is_empty(),
        );
        let p = PrivatePmcd {
            port: pmcd.port,
            pmcd,
            dir,
            config,
        };
        p.wait_for_agent();
        p
    }

    pub fn host(&self) -> String {
        self.pmcd.host()
    }

    /// `private-pmcd.sh status`: the pids of pmcd and its agents ("agent pid=N ...").
    pub fn status(&self) -> String {
        self.pmcd.status()
    }

    /// The agent's log file.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pmcd/log/pmcd/llm.log")).unwrap_or_default()
    }

    /// The agent's process id, as its log's latest start line says (`pmdallm(PID)`).
    pub fn agent_pid(&self) -> String {
        let log = self.log();
        log.split("pmdallm(")
            .last()
            .and_then(|r| r.split(')').next())
            .expect("pid in the log")
            .to_string()
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
        let out: Output = run(Command::new(tool)
            .arg("-h")
            .arg(self.host())
            .args(args)
            .env("PCP_PYTHON_PROG", "/usr/bin/python3"));
        format!("{}{}", stdout(&out), text(&out.stderr))
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

/// The agent configuration of the vLLM tests: no GPU, one endpoint `vllm0` on
/// 127.0.0.1:`port`, and `extra` lines for it.
pub fn vllm_conf(port: u16, extra: &str) -> String {
    format!(
        "[gpu]\nenabled = false\n\n[[vllm]]\nname = \"vllm0\"\nurl = \"http://127.0.0.1:{port}/metrics\"\n{extra}\n"
    )
}
