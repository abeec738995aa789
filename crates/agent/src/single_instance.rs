//! Refuses a second agent started by hand. pmcd starts `pmdallm` with a pipe on stdin; a shell
//! gives it a terminal, and a duplicate agent would find the lock file held.

use std::fs::{File, OpenOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static LOCK: OnceLock<File> = OnceLock::new();

fn lock_path() -> PathBuf {
    let dir = pcp::config_var("PCP_RUN_DIR").unwrap_or_else(|| "/run/pcp".into());
    PathBuf::from(dir).join("pmdallm.lock")
}

/// Checks that this process is the one agent pmcd started; returns a one-line reason if not.
pub fn check() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let socket_mode = args
        .iter()
        .any(|a| a.starts_with("-i") || a.starts_with("-u") || a.starts_with("-6"));
    if !socket_mode && std::io::stdin().is_terminal() {
        return Err(
            "standard input is a terminal: pmdallm is started by pmcd (install it with \
$PCP_PMDAS_DIR/llm/Install) or by dbpmda, not from a shell"
                .into(),
        );
    }
    let path = lock_path();
    let file = match OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    {
        Ok(f) => f,
        // Not fatal: without a writable run directory we cannot tell, and must not refuse to run.
        Err(_) => return Ok(()),
    };
    // pmcd may start the new agent while the old one is still closing: wait a little.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "another pmdallm is already running (it holds {}); stop it or use its pmcd",
                    path.display()
                ));
            }
            Err(std::fs::TryLockError::Error(_)) => return Ok(()),
        }
    }
    let _ = LOCK.set(file);
    Ok(())
}
