//! The smallest safe wrapper over `perf_event_open(2)`, `read(2)` and `close(2)` for CPU-wide
//! counting counters (uncore PMUs): [`Counter::open`] and [`Counter::read`].
//!
//! Used by the agent's membw source; this file is its only `unsafe`: one `syscall` that passes a
//! pointer to a fully initialised attribute struct living on the stack for the duration of the
//! call, and one `read` into a stack buffer of the exact length given. The file descriptor is
//! owned by an [`OwnedFd`], so it is closed exactly once when the counter is dropped.
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING`: a read returns the count
/// and the two times, so a multiplexed counter can be scaled to the whole interval.
const READ_FORMAT: u64 = 1 | 2;
/// `PERF_FLAG_FD_CLOEXEC`.
const FLAG_FD_CLOEXEC: libc::c_ulong = 8;
/// `PERF_ATTR_SIZE_VER1`: the attribute struct up to and including `config2`.
const ATTR_SIZE_VER1: u32 = 72;

/// `struct perf_event_attr` up to `config2` (the kernel accepts any published size; fields a
/// newer kernel adds after them read as zero).
#[repr(C)]
#[derive(Default)]
struct Attr {
    ty: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    /// The bitfield word (`disabled`, `inherit`, `exclude_*` ...): all zero, so the counter
    /// counts from the moment it is opened, in every mode.
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
    config2: u64,
}

const _: () = assert!(std::mem::size_of::<Attr>() == ATTR_SIZE_VER1 as usize);

/// One value read from a counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    pub value: u64,
    /// Nanoseconds the counter was enabled, and actually counting (less when multiplexed).
    pub enabled: u64,
    pub running: u64,
}

impl Reading {
    /// The count scaled to the time enabled (`value x enabled / running`), as perf does for a
    /// multiplexed counter; `None` when it never ran.
    pub fn scaled(&self) -> Option<u64> {
        if self.running == 0 {
            return (self.enabled == 0).then_some(self.value);
        }
        if self.running >= self.enabled {
            return Some(self.value);
        }
        Some(((self.value as u128 * self.enabled as u128) / self.running as u128) as u64)
    }
}

/// An open CPU-wide counter.
#[derive(Debug)]
pub struct Counter {
    fd: OwnedFd,
}

impl Counter {
    /// Opens a counter for PMU `ty` with the given encoding on `cpu`, for all processes
    /// (`pid = -1`), counting from now.
    pub fn open(ty: u32, config: u64, config1: u64, config2: u64, cpu: u32) -> io::Result<Counter> {
        let attr = Attr {
            ty,
            size: ATTR_SIZE_VER1,
            config,
            read_format: READ_FORMAT,
            config1,
            config2,
            ..Attr::default()
        };
        let cpu =
            libc::c_int::try_from(cpu).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: `attr` is a valid, fully initialised perf_event_attr of the size it declares and
        // outlives the call; the other arguments are plain integers. The kernel does not keep
        // the pointer.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const Attr,
                -1 as libc::pid_t,
                cpu,
                -1 as libc::c_int,
                FLAG_FD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd =
            libc::c_int::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
        // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
        Ok(Counter {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Reads the counter: one `read(2)` of three u64 values, no allocation.
    pub fn read(&self) -> io::Result<Reading> {
        let mut buf = [0u64; 3];
        let want = std::mem::size_of_val(&buf);
        // SAFETY: `buf` is a writable buffer of exactly `want` bytes owned by this frame; the fd
        // is open for the lifetime of `self`.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), want) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != want {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("perf counter read returned {n} bytes, expected {want}"),
            ));
        }
        Ok(Reading {
            value: buf[0],
            enabled: buf[1],
            running: buf[2],
        })
    }
}

/// `/proc/sys/kernel/perf_event_paranoid`, when readable.
pub fn paranoid_level() -> Option<i32> {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The reason string for a failed open: what was denied and what to do.
pub fn open_error_reason(pmu: &str, err: &io::Error, paranoid: Option<i32>) -> String {
    match err.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => match paranoid {
            Some(p) if p > 0 => format!(
                "perf_event_paranoid is {p}; give pmdallm CAP_PERFMON or set it to 0 ({pmu}: {err})"
            ),
            _ => format!("{pmu}: permission denied opening the counter (need CAP_PERFMON): {err}"),
        },
        Some(libc::ENOENT) | Some(libc::ENODEV) | Some(libc::EOPNOTSUPP) => {
            format!("{pmu}: the kernel does not support this PMU or event here: {err}")
        }
        _ => format!("{pmu}: perf_event_open: {err}"),
    }
}
