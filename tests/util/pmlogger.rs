//! pmlogger recording from a (private) pmcd: to its end (`-s N`), or in the background until
//! the test stops it.

use super::{run, text};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// A pmlogger command: `pmlogger -h HOST -c CONFIG [-s N] [-t T] -l LOG ARCHIVE`, its log
/// `pmlogger.log` beside the archive.
pub struct Pmlogger {
    host: String,
    config: PathBuf,
    archive: PathBuf,
    samples: Option<u32>,
    interval: Option<String>,
}

impl Pmlogger {
    /// Records what `config` asks from the pmcd at `host` into the archive base `archive`.
    pub fn new(host: &str, config: impl AsRef<Path>, archive: impl AsRef<Path>) -> Pmlogger {
        Pmlogger {
            host: host.to_string(),
            config: config.as_ref().to_path_buf(),
            archive: archive.as_ref().to_path_buf(),
            samples: None,
            interval: None,
        }
    }

    /// Stops after `n` samples (`-s`).
    pub fn samples(mut self, n: u32) -> Pmlogger {
        self.samples = Some(n);
        self
    }

    /// The default logging interval (`-t`).
    pub fn interval(mut self, t: &str) -> Pmlogger {
        self.interval = Some(t.to_string());
        self
    }

    /// The log file: pmlogger.log beside the archive.
    pub fn log_path(&self) -> PathBuf {
        self.archive.parent().unwrap().join("pmlogger.log")
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("pmlogger");
        cmd.arg("-h").arg(&self.host).arg("-c").arg(&self.config);
        if let Some(n) = self.samples {
            cmd.arg("-s").arg(n.to_string());
        }
        if let Some(t) = &self.interval {
            cmd.arg("-t").arg(t);
        }
        cmd.arg("-l").arg(self.log_path()).arg(&self.archive);
        cmd
    }

    /// Runs pmlogger to its end (give [`Pmlogger::samples`]); panics unless it succeeds.
    /// Returns the archive base.
    pub fn run(self) -> String {
        let out = run(&mut self.command());
        assert!(
            out.status.success(),
            "pmlogger: {}{}",
            text(&out.stderr),
            std::fs::read_to_string(self.log_path()).unwrap_or_default()
        );
        self.archive.to_string_lossy().into_owned()
    }

    /// Starts pmlogger in the background (its output discarded).
    pub fn spawn(self) -> Running {
        let child = self
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pmlogger");
        Running {
            child: Some(child),
            log: self.log_path(),
        }
    }
}

/// A pmlogger running in the background; stopped with SIGTERM on drop.
pub struct Running {
    child: Option<Child>,
    log: PathBuf,
}

impl Running {
    /// SIGTERM, as at a node's shutdown: pmlogger closes the archive and exits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Waits for pmlogger to end by itself (after its `-s` samples).
    pub fn wait(&mut self) -> ExitStatus {
        self.child
            .take()
            .expect("pmlogger already stopped")
            .wait()
            .unwrap()
    }

    /// pmlogger's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}
