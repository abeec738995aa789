//! `pcp llm run` and `pcp llm mark` (see man/pcp-llm.1, RUN): run a benchmark command
//! unchanged and record it in the spool directory the agent's progress source follows
//! (crates/agent/src/sources/progress), one `RUN_ID.jsonl` file per run.

pub mod record;

use llm_spool::spool_dir;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const RUN_USAGE: &str =
    "Usage: pcp llm run [--label NAME=VALUE]... [--spool DIR] [--id RUN_ID] [--no-hook]
                   [--record DIR [--pmcd-host HOST] [--logger-config CONFIG]] -- COMMAND [ARG]...

Run COMMAND unchanged (its exit status, output and terminal pass through) and record the run
(start, end, command line, labels, exit status, marks) in the spool directory that pmdallm
follows, as the llm.bench.* instance USER/RUN_ID.

Options:
  -l, --label NAME=VALUE   a label of the run (repeatable; NAME: letters, digits, _)
      --spool DIR          spool directory (default: $PCP_LLM_SPOOL, else /var/tmp/pcp-llm)
      --id RUN_ID          the run's id (default: UTC start time and process id)
      --no-hook            do not load the GuideLLM progress hook into Python processes
      --record DIR         record the run: pmlogger (config.llm-benchmark) around the
                           command, its GuideLLM result imported, both merged into DIR/RUN_ID
      --pmcd-host HOST     with --record: the pmcd to log from (default: this host)
      --logger-config CONFIG  with --record: pmlogger configuration (default config.llm-benchmark)
  -h, --help               this text";

pub const MARK_USAGE: &str = "Usage: pcp llm mark TEXT...

Inside a command started by pcp llm run: record TEXT (e.g. a phase such as
\"native-offload c=25\") as the run's latest mark, llm.bench.run.mark.";

/// Seconds between touches of the run file while the command runs (the agent takes a running
/// run whose file is older than its stale_after as lost).
const HEARTBEAT: Duration = Duration::from_secs(10);

#[derive(Debug, Default, PartialEq)]
pub struct RunOptions {
    pub labels: BTreeMap<String, String>,
    pub spool: Option<PathBuf>,
    pub id: Option<String>,
    pub command: Vec<String>,
    pub no_hook: bool,
    pub record: Option<record::RecordOptions>,
}

/// The GuideLLM progress hook, written for each run into a private directory that is put
/// first on the command's PYTHONPATH.
pub const HOOK: &str = include_str!("sitecustomize.py");

/// Writes the hook into a new private directory; returns it.
fn install_hook() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!("pcp-llm-hook-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    std::fs::write(dir.join("sitecustomize.py"), HOOK)?;
    Ok(dir)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub fn parse_run_args(args: &[String]) -> Result<RunOptions, String> {
    let mut o = RunOptions::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let mut value = |name: &str| -> Result<String, String> {
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a {
            "--" => {
                o.command = args[i + 1..].to_vec();
                break;
            }
            "-l" | "--label" => {
                let kv = value(a)?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("--label {kv:?}: write NAME=VALUE"))?;
                let ok = !k.is_empty()
                    && k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ok {
                    return Err(format!(
                        "--label {kv:?}: NAME must be letters, digits and _ (not starting with a digit)"
                    ));
                }
                if llm_spool::RESERVED_LABELS.contains(&k) {
                    return Err(format!("--label {kv:?}: {k} is set by pcp llm run itself"));
                }
                o.labels.insert(k.to_string(), v.to_string());
            }
            "--no-hook" => o.no_hook = true,
            "--record" => {
                let dir = PathBuf::from(value(a)?);
                o.record.get_or_insert_with(Default::default).dir = dir;
            }
            "--pmcd-host" => {
                let h = value(a)?;
                o.record.get_or_insert_with(Default::default).host = Some(h);
            }
            "--logger-config" => {
                let c = value(a)?;
                o.record.get_or_insert_with(Default::default).config = Some(c);
            }
            "--spool" => o.spool = Some(PathBuf::from(value(a)?)),
            "--id" => {
                let id = value(a)?;
                if llm_spool::run_id_of(&format!("{id}.jsonl")).is_none() {
                    return Err(format!(
                        "--id {id:?}: letters, digits, '.', '_' and '-', at most 128, starting with a letter or digit"
                    ));
                }
                o.id = Some(id);
            }
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s:?}")),
            _ => {
                o.command = args[i..].to_vec();
                break;
            }
        }
        i += 1;
    }
    if o.record
        .as_ref()
        .is_some_and(|r| r.dir.as_os_str().is_empty())
    {
        return Err("--pmcd-host and --logger-config go with --record DIR".into());
    }
    if o.command.is_empty() {
        return Err("no command given (pcp llm run [options] -- COMMAND...)".into());
    }
    Ok(o)
}

/// What the command line says about the run: tool, target, model, planned benchmark count.
#[derive(Debug, Default, PartialEq)]
pub struct Guess {
    pub tool: String,
    pub target: Option<String>,
    pub model: Option<String>,
    pub count: Option<u32>,
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Reads GuideLLM's arguments (0.5: `benchmark run --target --model --rate`; 0.8: `run
/// --backend kind=…,target=…,model=… --override profile.streams 1,4`).
pub fn guess(command: &[String]) -> Guess {
    let prog = basename(command.first().map_or("", String::as_str));
    let is_guidellm = prog == "guidellm"
        || (prog.starts_with("python")
            && command
                .windows(2)
                .any(|w| w[0] == "-m" && w[1] == "guidellm"));
    if !is_guidellm {
        return Guess {
            tool: prog.chars().take(64).collect(),
            ..Guess::default()
        };
    }
    let mut g = Guess {
        tool: "guidellm".into(),
        ..Guess::default()
    };
    let mut rate_type = None;
    let opt = |i: usize, name: &str| -> Option<String> {
        let a = &command[i];
        if a == name {
            command.get(i + 1).cloned()
        } else {
            a.strip_prefix(&format!("{name}=")).map(String::from)
        }
    };
    let list_len = |v: &str| v.split(',').filter(|x| !x.trim().is_empty()).count() as u32;
    for i in 0..command.len() {
        if let Some(v) = opt(i, "--target") {
            g.target = Some(v);
        }
        if let Some(v) = opt(i, "--model") {
            g.model = Some(v);
        }
        if let Some(v) = opt(i, "--rate-type") {
            rate_type = Some(v);
        }
        if let Some(v) = opt(i, "--rate") {
            g.count = Some(list_len(&v));
            if rate_type.as_deref() == Some("sweep") {
                g.count = v.trim().parse().ok();
            }
        }
        if let Some(v) = opt(i, "--backend") {
            for kv in v.split(',') {
                match kv.split_once('=') {
                    Some(("target", t)) => g.target = Some(t.to_string()),
                    Some(("model", m)) => g.model = Some(m.to_string()),
                    _ => {}
                }
            }
        }
        if command[i] == "--override"
            && let Some(v) = command.get(i + 1)
            && let Some(list) = v
                .strip_prefix("profile.streams ")
                .or_else(|| v.strip_prefix("profile.rate "))
                .or_else(|| {
                    matches!(v.as_str(), "profile.streams" | "profile.rate")
                        .then(|| command.get(i + 2).map(String::as_str))
                        .flatten()
                })
        {
            g.count = Some(list_len(list));
        }
    }
    if rate_type.as_deref() == Some("sweep") && g.count.is_none() {
        g.count = Some(10); // GuideLLM's default sweep size
    }
    g
}

/// The command line as exported (to every user who can reach pmcd): the value of any option
/// with a word key, token, password or secret in its name is shown as ***.
pub fn shown_command(command: &[String]) -> Vec<String> {
    // Whole words of the option's name: api_key, --api-key, auth-token, password; not
    // --tokenizer or prompt_tokens.
    let secret = |name: &str| {
        name.to_ascii_lowercase().split(['-', '_', '.']).any(|w| {
            matches!(
                w,
                "key" | "apikey" | "token" | "password" | "passwd" | "secret"
            )
        })
    };
    let mut out = Vec::with_capacity(command.len());
    let mut hide_next = false;
    for a in command {
        if hide_next {
            out.push("***".to_string());
            hide_next = false;
            continue;
        }
        let mut shown: Vec<String> = Vec::new();
        for part in a.split(',') {
            match part.split_once('=') {
                Some((k, _)) if secret(k) => shown.push(format!("{k}=***")),
                _ => shown.push(part.to_string()),
            }
        }
        let joined = shown.join(",");
        if a.starts_with("--") && !a.contains('=') && secret(a) {
            hide_next = true;
        }
        out.push(joined);
    }
    out
}

fn default_id() -> String {
    let stamp = guidellm::utc(now());
    // "YYYY-MM-DD HH:MM:SS.sss" -> "YYYYMMDDTHHMMSSZ"
    let digits: String = stamp[..19].chars().filter(char::is_ascii_digit).collect();
    format!(
        "{}T{}Z-{}",
        &digits[..8],
        &digits[8..14],
        std::process::id()
    )
}

/// The spool directory, created (mode 1777, like /tmp) when it does not exist.
fn ensure_spool(dir: &Path) -> Result<(), String> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777))
        .map_err(|e| format!("{}: cannot make it writable by all: {e}", dir.display()))
}

fn write_record(file: &Mutex<File>, value: &serde_json::Value) {
    let mut line = value.to_string();
    line.push('\n');
    if let Ok(mut f) = file.lock() {
        // One write per line: with O_APPEND a mark from another process never splits it.
        let _ = f.write_all(line.as_bytes());
    }
}

/// `pcp llm run`: returns the exit status to leave with.
pub fn run_main(args: &[String]) -> i32 {
    let o = match parse_run_args(args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{RUN_USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("pcp-llm run: {e}\n{RUN_USAGE}");
            return 2;
        }
    };
    let dir = spool_dir(o.spool.as_deref());
    let id = o.id.clone().unwrap_or_else(default_id);
    // With --record, pmlogger runs before the command starts: no recording, no benchmark.
    let recording = match &o.record {
        Some(r) => match record::start(r) {
            Ok(rec) => Some(rec),
            Err(e) => {
                eprintln!("pcp-llm run: --record {}: {e}", r.dir.display());
                return 1;
            }
        },
        None => None,
    };
    let path = dir.join(format!("{id}.jsonl"));
    let file = ensure_spool(&dir).and_then(|()| {
        OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
    });
    // The command runs even when the run cannot be recorded: a benchmark is not lost to a
    // full or missing spool directory.
    let file = match file {
        Ok(f) => Some(Arc::new(Mutex::new(f))),
        Err(e) => {
            eprintln!("pcp-llm run: not recording this run: {e}");
            None
        }
    };
    let g = guess(&o.command);
    if let Some(f) = &file {
        write_record(
            f,
            &serde_json::json!({
                "ev": "start",
                "t": now(),
                "command": shown_command(&o.command),
                "tool": g.tool,
                "target": g.target,
                "model": g.model,
                "count": g.count,
                "labels": o.labels,
                "pid": std::process::id(),
            }),
        );
    }
    let mut cmd = Command::new(&o.command[0]);
    cmd.args(&o.command[1..]);
    let mut hook_dir = None;
    if file.is_some() {
        cmd.env("PCP_LLM_RUN", &path);
        if !o.no_hook {
            match install_hook() {
                Ok(dir) => {
                    let mut paths = vec![dir.clone()];
                    if let Some(old) = std::env::var_os("PYTHONPATH") {
                        paths.extend(std::env::split_paths(&old));
                    }
                    if let Ok(joined) = std::env::join_paths(paths) {
                        cmd.env("PYTHONPATH", joined);
                    }
                    hook_dir = Some(dir);
                }
                Err(e) => eprintln!("pcp-llm run: no GuideLLM progress hook: {e}"),
            }
        }
    }
    let remove_hook = |dir: &Option<PathBuf>| {
        if let Some(d) = dir {
            let _ = std::fs::remove_dir_all(d);
        }
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pcp-llm run: {}: {e}", o.command[0]);
            remove_hook(&hook_dir);
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            if let Some(f) = &file {
                write_record(
                    f,
                    &serde_json::json!({"ev": "end", "t": now(), "exit_status": code}),
                );
            }
            return code;
        }
    };
    if let Err(e) = llm_sys::child_signals::shield_and_forward(child.id()) {
        eprintln!("pcp-llm run: {e}");
    }
    if let Some(f) = &file {
        let f = f.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(HEARTBEAT);
                if let Ok(f) = f.lock() {
                    let _ = f.set_modified(SystemTime::now());
                }
            }
        });
    }
    let waited = child.wait();
    remove_hook(&hook_dir);
    let status = match waited {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pcp-llm run: waiting for {}: {e}", o.command[0]);
            return 1;
        }
    };
    let (code, signal) = match (status.code(), status.signal()) {
        (Some(c), _) => (c, 0),
        (None, Some(s)) => (128 + s, s),
        (None, None) => (1, 0),
    };
    if let Some(f) = &file {
        write_record(
            f,
            &serde_json::json!({"ev": "end", "t": now(), "exit_status": code, "signal": signal}),
        );
    }
    if let Some(rec) = recording {
        let result = record::result_file(&o.command);
        match rec.finish(result.as_deref(), &id) {
            Ok(lines) => {
                for l in lines {
                    eprintln!("pcp-llm run: {l}");
                }
            }
            Err(e) => {
                eprintln!("pcp-llm run: --record: {e}");
                if code == 0 {
                    return 1;
                }
            }
        }
    }
    code
}

/// `pcp llm mark`: returns the exit status.
pub fn mark_main(args: &[String]) -> i32 {
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{MARK_USAGE}");
        return if args.is_empty() { 2 } else { 0 };
    }
    let Some(path) = std::env::var_os("PCP_LLM_RUN") else {
        eprintln!(
            "pcp-llm mark: not inside a command started by pcp llm run (PCP_LLM_RUN is not set)"
        );
        return 1;
    };
    let (t, text) = (now(), args.join(" "));
    let f = OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path);
    match f {
        Ok(f) => {
            write_record(
                &Mutex::new(f),
                &serde_json::json!({"ev": "mark", "t": t, "text": text}),
            );
            0
        }
        Err(e) => {
            eprintln!("pcp-llm mark: {}: {e}", Path::new(&path).display());
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments() {
        let o = parse_run_args(&v(&["-l", "node=a", "--", "sleep", "1"])).unwrap();
        assert_eq!(o.command, v(&["sleep", "1"]));
        assert_eq!(o.labels.get("node").map(String::as_str), Some("a"));
        assert!(parse_run_args(&v(&["--label", "user=x", "--", "true"])).is_err());
        assert!(parse_run_args(&v(&["--label", "1x=y", "true"])).is_err());
        assert!(parse_run_args(&v(&["--"])).is_err());
        assert_eq!(
            parse_run_args(&v(&["true", "-x"])).unwrap().command,
            v(&["true", "-x"])
        );
    }

    #[test]
    fn guidellm_command_lines() {
        let g = guess(&v(&[
            "/opt/gl081/bin/guidellm",
            "run",
            "--backend",
            "kind=openai_http,target=http://127.0.0.1:8081,model=mock-llama",
            "--override",
            "profile.streams",
            "1,4,8",
        ]));
        assert_eq!(g.tool, "guidellm");
        assert_eq!(g.target.as_deref(), Some("http://127.0.0.1:8081"));
        assert_eq!(g.model.as_deref(), Some("mock-llama"));
        assert_eq!(g.count, Some(3));
        let g = guess(&v(&[
            "guidellm",
            "benchmark",
            "run",
            "--target",
            "http://h:1",
            "--model=m",
            "--rate-type",
            "concurrent",
            "--rate",
            "2,4",
        ]));
        assert_eq!(
            (g.target.as_deref(), g.model.as_deref(), g.count),
            (Some("http://h:1"), Some("m"), Some(2))
        );
        assert_eq!(guess(&v(&["/usr/bin/vllm", "bench"])).tool, "vllm");
        assert_eq!(
            shown_command(&v(&[
                "x",
                "--api-key",
                "s3",
                "kind=a,api_key=s4",
                "--n",
                "1"
            ])),
            v(&["x", "--api-key", "***", "kind=a,api_key=***", "--n", "1"])
        );
        let plain = v(&[
            "--tokenizer",
            "t",
            "kind=x,prompt_tokens=128,output_tokens=32",
        ]);
        assert_eq!(shown_command(&plain), plain);
    }
}
