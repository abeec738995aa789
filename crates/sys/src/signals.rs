//! Signals as PCP agents handle them: SIGHUP asks for the configuration to be read again (the
//! PCP thread does it between PDUs), SIGTERM and SIGINT log a line and exit cleanly.
//!
//! The signals are blocked in the calling thread before any other thread starts (threads
//! inherit the mask) and taken by one thread with `sigwait`, so no handler runs in the
//! middle of libpcp_pmda or the allocator.

use std::sync::atomic::{AtomicBool, Ordering};

static RELOAD: AtomicBool = AtomicBool::new(false);

fn set_of(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill the local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in signals {
            libc::sigaddset(&mut set, *s);
        }
        set
    }
}

/// Blocks `signals` in this thread (and the threads it starts later) and starts one thread
/// that takes them with `sigwait` and calls `on_signal` with each. Call before any other
/// thread is started (and, in a wrapper, after its child was spawned: the mask is inherited
/// across exec).
pub(crate) fn take_in_thread(
    signals: &[libc::c_int],
    mut on_signal: impl FnMut(libc::c_int) + Send + 'static,
) -> Result<(), String> {
    let set = set_of(signals);
    // SAFETY: a valid, initialised signal set; the old mask is not needed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(format!(
            "cannot block signals: {}",
            std::io::Error::from_raw_os_error(rc)
        ));
    }
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            loop {
                let mut sig: libc::c_int = 0;
                // SAFETY: the set is valid; sig receives the signal number.
                if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                    on_signal(sig);
                }
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}

/// Blocks SIGHUP, SIGTERM and SIGINT in this thread (and the threads it starts later) and
/// starts the thread that takes them. Call before any other thread is started. `log` writes
/// one line to the program's log (level, message).
pub fn watch(log: fn(&str, &str)) -> Result<(), String> {
    take_in_thread(&[libc::SIGHUP, libc::SIGTERM, libc::SIGINT], move |sig| {
        if sig == libc::SIGHUP {
            log("Info", "caught SIGHUP: reading the configuration again");
            RELOAD.store(true, Ordering::SeqCst);
            return;
        }
        let name = if sig == libc::SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        log("Info", &format!("caught {name}: exiting"));
        std::process::exit(0);
    })
}

/// Whether a SIGHUP arrived since the last call.
pub fn take_reload() -> bool {
    RELOAD.swap(false, Ordering::SeqCst)
}
