//! `pcp llm run --record DIR`: a pmlogger with the benchmark configuration around the command,
//! then the GuideLLM result file the command wrote imported with `guidellm2pcp --merge-with`,
//! and both merged with `pmlogextract` into one archive `DIR/RUN_ID`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long pmlogger keeps logging after the agent shows the run ended (a 1-second sample
/// more), and the longest wait for the agent to show it.
const AFTER: Duration = Duration::from_millis(1500);
const AGENT_WAIT: Duration = Duration::from_secs(10);

/// What `--record` needs besides the directory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordOptions {
    pub dir: PathBuf,
    /// pmcd to log from (pmlogger -h); default the local one.
    pub host: Option<String>,
    /// pmlogger configuration; default `config.llm-benchmark` (installed with the agent).
    pub config: Option<String>,
}

/// The running pmlogger.
pub struct Recording {
    /// None once stopped.
    logger: Option<Child>,
    host: Option<String>,
    pub system: PathBuf,
    log: PathBuf,
}

fn tool(name: &str) -> PathBuf {
    // guidellm2pcp next to this program (a build tree), else on PATH.
    if let Ok(me) = std::env::current_exe()
        && let Some(dir) = me.parent()
        && dir.join(name).is_file()
    {
        return dir.join(name);
    }
    PathBuf::from(name)
}

/// Starts pmlogger into `DIR/system` and waits until it wrote its first record.
pub fn start(o: &RecordOptions) -> Result<Recording, String> {
    std::fs::create_dir_all(&o.dir).map_err(|e| format!("{}: {e}", o.dir.display()))?;
    let system = o.dir.join("system");
    for ext in ["0", "meta", "index"] {
        if system.with_extension(ext).exists() {
            return Err(format!(
                "{}.{ext} exists: record into a new directory",
                system.display()
            ));
        }
    }
    let log = o.dir.join("pmlogger.log");
    let mut cmd = Command::new("pmlogger");
    if let Some(h) = &o.host {
        cmd.args(["-h", h]);
    }
    cmd.arg("-c")
        .arg(o.config.as_deref().unwrap_or("config.llm-benchmark"))
        .arg("-l")
        .arg(&log)
        .arg(&system)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut logger = cmd.spawn().map_err(|e| format!("pmlogger: {e}"))?;
    let meta = system.with_extension("0");
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        if std::fs::metadata(&meta).is_ok_and(|m| m.len() > 132) {
            break;
        }
        if let Ok(Some(status)) = logger.try_wait() {
            return Err(format!(
                "pmlogger exited ({status}) before logging: {}",
                std::fs::read_to_string(&log).unwrap_or_default().trim()
            ));
        }
        if Instant::now() > until {
            let _ = logger.kill();
            return Err(format!(
                "pmlogger wrote no record in 15 s (see {})",
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(Recording {
        logger: Some(logger),
        host: o.host.clone(),
        system,
        log,
    })
}

/// Where the GuideLLM command writes its JSON result (relative to the current directory):
/// 0.7+ `--output kind=json,path=P`, 0.5 `--output-path P` (a file, or a directory holding
/// benchmarks.json), `--output-dir D --outputs NAME.json`.
pub fn result_file(command: &[String]) -> Option<PathBuf> {
    let mut dir: Option<String> = None;
    let mut outputs: Option<String> = None;
    let mut found = None;
    let value = |i: usize, name: &str| -> Option<String> {
        let a = &command[i];
        if a == name {
            command.get(i + 1).cloned()
        } else {
            a.strip_prefix(&format!("{name}=")).map(String::from)
        }
    };
    for i in 0..command.len() {
        if let Some(v) = value(i, "--output") {
            let mut kind = None;
            let mut path = None;
            for kv in v.split(',') {
                match kv.split_once('=') {
                    Some(("kind", k)) => kind = Some(k.to_string()),
                    Some(("path", p)) => path = Some(p.to_string()),
                    _ => {}
                }
            }
            if let Some(p) = path
                && (kind.as_deref() == Some("json") || p.ends_with(".json"))
            {
                found = Some(PathBuf::from(p));
            }
        }
        if let Some(v) = value(i, "--output-path") {
            found = Some(if v.ends_with(".json") {
                PathBuf::from(v)
            } else {
                Path::new(&v).join("benchmarks.json")
            });
        }
        if let Some(v) = value(i, "--output-dir") {
            dir = Some(v);
        }
        if let Some(v) = value(i, "--outputs") {
            outputs = Some(v);
        }
    }
    if found.is_none()
        && let Some(d) = dir
    {
        let name = outputs
            .as_deref()
            .and_then(|o| o.split(',').find(|n| n.ends_with(".json")))
            .unwrap_or("benchmarks.json")
            .to_string();
        found = Some(Path::new(&d).join(name));
    }
    found
}

fn run_tool(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{}: {e}", cmd.get_program().to_string_lossy()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed ({}): {}",
            cmd.get_program().to_string_lossy(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Drop for Recording {
    /// A run that ends early (its command could not start) still stops its pmlogger.
    fn drop(&mut self) {
        self.stop();
    }
}

impl Recording {
    /// Polls the agent (pminfo) until run `name` is no longer running, at most AGENT_WAIT.
    fn wait_for_end(&self, name: &str) {
        let until = Instant::now() + AGENT_WAIT;
        let ended = [
            format!("/{name}\"] value \"finished\""),
            format!("/{name}\"] value \"failed\""),
        ];
        while Instant::now() < until {
            let mut cmd = Command::new("pminfo");
            if let Some(h) = &self.host {
                cmd.args(["-h", h]);
            }
            let Ok(out) = cmd.args(["-f", "llm.bench.run.state"]).output() else {
                return;
            };
            let text = String::from_utf8_lossy(&out.stdout);
            if ended.iter().any(|e| text.contains(e.as_str())) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// pmlogger ends cleanly (its epilogue record) on SIGTERM, which kill(1) sends.
    fn stop(&mut self) {
        if let Some(mut logger) = self.logger.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &logger.id().to_string()])
                .status();
            let _ = logger.wait();
        }
    }

    /// Stops pmlogger, imports `result` (when given and present) and merges both into
    /// `DIR/NAME`. Returns lines for the user.
    pub fn finish(mut self, result: Option<&Path>, name: &str) -> Result<Vec<String>, String> {
        let mut said = Vec::new();
        // The run's end (state, exit status) must be in the archive: wait until the agent shows
        // it, then for one more pmlogger sample.
        self.wait_for_end(name);
        std::thread::sleep(AFTER);
        self.stop();
        let dir = self.system.parent().unwrap_or(Path::new(".")).to_path_buf();
        let merged = dir.join(name);
        let import = dir.join("guidellm");
        let Some(result) = result.filter(|r| r.is_file()) else {
            said.push(match result {
                Some(r) => format!("no GuideLLM result {} to import", r.display()),
                None => "no GuideLLM result file in the command line to import".into(),
            });
            run_tool(Command::new("pmlogextract").arg(&self.system).arg(&merged))?;
            said.push(format!("archive {}", merged.display()));
            return Ok(said);
        };
        run_tool(
            Command::new(tool("guidellm2pcp"))
                .arg(result)
                .arg("-q")
                .arg("-o")
                .arg(&import)
                .arg("--merge-with")
                .arg(&self.system),
        )?;
        run_tool(
            Command::new("pmlogextract")
                .arg(&self.system)
                .arg(&import)
                .arg(&merged),
        )?;
        said.push(format!(
            "archive {} (pmlogger {} + {} imported)",
            merged.display(),
            self.log.display(),
            result.display()
        ));
        Ok(said)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn result_files_from_guidellm_arguments() {
        assert_eq!(
            result_file(&v(&[
                "guidellm",
                "run",
                "--output",
                "kind=json,path=out/b.json",
                "--output",
                "kind=console"
            ])),
            Some(PathBuf::from("out/b.json"))
        );
        assert_eq!(
            result_file(&v(&["guidellm", "benchmark", "--output-path", "res"])),
            Some(PathBuf::from("res/benchmarks.json"))
        );
        assert_eq!(
            result_file(&v(&[
                "guidellm",
                "benchmark",
                "--output-dir",
                "o",
                "--outputs",
                "a.csv,b.json"
            ])),
            Some(PathBuf::from("o/b.json"))
        );
        assert_eq!(result_file(&v(&["vllm", "bench"])), None);
    }
}
