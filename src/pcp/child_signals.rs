//! Signals for a command that runs another one and must outlive it (`pcp llm run`): the
//! terminal's SIGINT and SIGQUIT reach the whole foreground process group, so the child gets
//! them itself and the wrapper only has to survive them; SIGTERM and SIGHUP sent to the
//! wrapper are passed on to the child.
//!
//! The signals are blocked in the calling thread after the child was started (a blocked mask
//! would be inherited across exec) and before any other thread starts; one thread takes them
//! with `sigwait`.

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

/// Blocks SIGINT, SIGQUIT, SIGTERM and SIGHUP here and forwards SIGTERM and SIGHUP to
/// process `child`. Call from the main thread, after spawning the child, before other threads.
pub fn shield_and_forward(child: u32) -> Result<(), String> {
    let set = set_of(&[libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP]);
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
                if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                    continue;
                }
                if sig == libc::SIGTERM || sig == libc::SIGHUP {
                    // SAFETY: kill has no memory effects; a child already reaped is ESRCH.
                    unsafe {
                        libc::kill(child as libc::pid_t, sig);
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}
