//! Running commands: any command, PCP's tools, and the programs of this package.

use super::{GUIDELLM2PCP, PCP_LLM, TempDir};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// Runs a command to its end and returns its output; panics with the command line if it
/// cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Bytes as text (lossy UTF-8).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A command's standard output as text.
pub fn stdout(o: &Output) -> String {
    text(&o.stdout)
}

/// A command's standard output and then its standard error, as text.
pub fn stdout_stderr(o: &Output) -> String {
    format!("{}{}", text(&o.stdout), text(&o.stderr))
}

/// The standard output of a command that must have succeeded; panics with `what` and all it
/// said otherwise.
pub fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}",
        out.status,
        stdout_stderr(&out)
    );
    stdout(&out)
}

/// A PCP tool (`PCP_PYTHON_PROG` set for the Python ones) that must succeed: its standard
/// output.
pub fn tool(cmd: &str, args: &[&str]) -> String {
    ok(
        run(Command::new(cmd)
            .args(args)
            .env("PCP_PYTHON_PROG", "/usr/bin/python3")),
        &format!("{cmd} {args:?}"),
    )
}

/// A PCP tool whatever its exit status: its standard output and error.
pub fn tool_output(cmd: &str, args: &[&str]) -> String {
    stdout_stderr(&run(Command::new(cmd)
        .args(args)
        .env("PCP_PYTHON_PROG", "/usr/bin/python3")))
}

/// `pcp-llm ARGS`.
pub fn run_pcp_llm(args: &[&str]) -> Output {
    run(Command::new(PCP_LLM).args(args))
}

/// `guidellm2pcp ARGS`.
pub fn run_importer(args: &[&str]) -> Output {
    run(Command::new(GUIDELLM2PCP).args(args))
}

/// `guidellm2pcp ARGS` with `input` on its standard input.
pub fn run_importer_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut c = Command::new(GUIDELLM2PCP)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input).unwrap();
    c.wait_with_output().unwrap()
}

/// Imports `inputs` into `dir/name`; panics unless it succeeds. Returns the archive base path.
pub fn import(dir: &TempDir, name: &str, inputs: &[&Path], extra: &[&str]) -> String {
    let base = dir.join(name).to_string_lossy().into_owned();
    let mut args: Vec<String> = inputs
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    args.push("-o".into());
    args.push(base.clone());
    args.extend(extra.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_importer(&a);
    assert!(
        out.status.success(),
        "import failed: {}",
        stdout_stderr(&out)
    );
    base
}

/// A child process killed and reaped on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The name of the user running the tests (`id -un`).
pub fn user_name() -> String {
    stdout(&run(Command::new("id").arg("-un")))
        .trim()
        .to_string()
}
