//! Signals for a command that runs another one and must outlive it (`pcp llm run`): the
//! terminal's SIGINT and SIGQUIT reach the whole foreground process group, so the child gets
//! them itself and the wrapper only has to survive them; SIGTERM and SIGHUP sent to the
//! wrapper are passed on to the child.
//!
//! The signals are blocked in the calling thread after the child was started (a blocked mask
//! would be inherited across exec) and before any other thread starts; one thread takes them
//! with `sigwait`.

/// Blocks SIGINT, SIGQUIT, SIGTERM and SIGHUP here and forwards SIGTERM and SIGHUP to
/// process `child`. Call from the main thread, after spawning the child, before other threads.
pub fn shield_and_forward(child: u32) -> Result<(), String> {
    let taken = [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP];
    super::signals::take_in_thread(&taken, move |sig| {
        if sig == libc::SIGTERM || sig == libc::SIGHUP {
            // SAFETY: kill has no memory effects; a child already reaped is ESRCH.
            unsafe {
                libc::kill(child as libc::pid_t, sig);
            }
        }
    })
}
