//! Safe Rust over PCP's C libraries. This module tree is the only place in the crate with
//! `unsafe` code: `ffi.rs` declares the C API, `pmda.rs` runs an agent over libpcp_pmda, and
//! `nvml_scoped.rs` makes the one NVML call nvml-wrapper lacks (`nvmlDeviceGetFieldValues`
//! with a chosen scopeId, for per-link NVLink throughput).
#![allow(unsafe_code)]

pub mod child_signals;
pub mod ffi;
pub mod hostname;
pub mod import;
#[doc(hidden)]
pub mod import_ffi;
pub mod logger_archive;
// after logger_archive: its pmFreeResult is declared with another (private) result type
pub mod archive;
pub mod nvml_scoped;
pub mod pmda;
pub mod signals;

/// Makes glibc give large blocks their own mappings, returned to the system when freed. By
/// default glibc raises that threshold (up to 32 MiB) each time such a block is freed, after
/// which a 16 MiB body buffer comes from a thread's heap, whose top is then never trimmed: the
/// agent's RSS would keep the largest body it ever read. Also caps the number of heaps.
/// Called once at start-up.
pub fn bound_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator parameters; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
        // One heap per source thread (glibc's default, up to 8 per core) keeps each one's
        // free pages resident; two are plenty for threads that mostly sleep.
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Hands free heap memory back to the system (glibc's `malloc_trim`), after a large buffer
/// was freed, so the agent's RSS returns to its steady level.
pub fn release_free_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns unused heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Units of a metric (PCP's `pmUnits`): dimensions and scales of space, time and count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Units(pub ffi::pmUnits);

pub const SPACE_BYTE: u32 = 0;
pub const SPACE_KBYTE: u32 = 1;
pub const SPACE_MBYTE: u32 = 2;
pub const TIME_NSEC: u32 = 0;
pub const TIME_USEC: u32 = 1;
pub const TIME_MSEC: u32 = 2;
pub const TIME_SEC: u32 = 3;

impl Units {
    pub const fn new(
        dim_space: i32,
        dim_time: i32,
        dim_count: i32,
        scale_space: u32,
        scale_time: u32,
        scale_count: i32,
    ) -> Self {
        Units(ffi::pmUnits::new(
            dim_space,
            dim_time,
            dim_count,
            scale_space,
            scale_time,
            scale_count,
        ))
    }
    /// Dimensionless (percentages, ratios, identifiers, watts and degrees: PCP has no
    /// dimension for those, the help text names the unit).
    pub const NONE: Units = Units::new(0, 0, 0, 0, 0, 0);
    pub const COUNT: Units = Units::new(0, 0, 1, 0, 0, 0);
    pub const BYTES: Units = Units::new(1, 0, 0, SPACE_BYTE, 0, 0);
    pub const KBYTES: Units = Units::new(1, 0, 0, SPACE_KBYTE, 0, 0);
    pub const MBYTES: Units = Units::new(1, 0, 0, SPACE_MBYTE, 0, 0);
    pub const NSEC: Units = Units::new(0, 1, 0, 0, TIME_NSEC, 0);
    pub const USEC: Units = Units::new(0, 1, 0, 0, TIME_USEC, 0);
    pub const MSEC: Units = Units::new(0, 1, 0, 0, TIME_MSEC, 0);
    pub const SEC: Units = Units::new(0, 1, 0, 0, TIME_SEC, 0);
    pub const KBYTES_PER_SEC: Units = Units::new(1, -1, 0, SPACE_KBYTE, TIME_SEC, 0);
    pub const BYTES_PER_SEC: Units = Units::new(1, -1, 0, SPACE_BYTE, TIME_SEC, 0);
    pub const COUNT_PER_SEC: Units = Units::new(0, -1, 1, 0, TIME_SEC, 0);

    pub const fn bits(self) -> u32 {
        self.0.0
    }

    /// The units as `pmUnits` text in a `help`/`pmns`-style comment, e.g. "byte", "sec".
    pub fn describe(self) -> String {
        let b = self.bits();
        let field = |shift: u32| ((b >> shift) & 0xf) as i32;
        let signed = |v: i32| if v >= 8 { v - 16 } else { v };
        let (ds, dt, dc) = (signed(field(28)), signed(field(24)), signed(field(20)));
        let (ss, st, sc) = (field(16), field(12), signed(field(8)));
        let space = [
            "byte", "Kbyte", "Mbyte", "Gbyte", "Tbyte", "Pbyte", "Ebyte", "Zbyte", "Ybyte",
        ];
        let time = ["nanosec", "microsec", "millisec", "sec", "min", "hour"];
        let mut num = Vec::new();
        let mut den = Vec::new();
        let mut put = |dim: i32, name: String| {
            if dim > 0 {
                num.push(if dim > 1 {
                    format!("{name}^{dim}")
                } else {
                    name
                });
            } else if dim < 0 {
                den.push(if dim < -1 {
                    format!("{name}^{}", -dim)
                } else {
                    name
                });
            }
        };
        put(ds, space.get(ss as usize).unwrap_or(&"?").to_string());
        put(dt, time.get(st as usize).unwrap_or(&"?").to_string());
        put(
            dc,
            if sc == 0 {
                "count".to_string()
            } else {
                format!("count x 10^{sc}")
            },
        );
        match (num.is_empty(), den.is_empty()) {
            (true, true) => "none".to_string(),
            (false, true) => num.join(" "),
            (true, false) => format!("/ {}", den.join(" ")),
            (false, false) => format!("{} / {}", num.join(" "), den.join(" ")),
        }
    }
}

/// PCP's `pmID_build`: domain, cluster, item into a PMID.
pub const fn pmid(domain: u32, cluster: u32, item: u32) -> u32 {
    ((domain & 0x1ff) << 22) | ((cluster & 0xfff) << 10) | (item & 0x3ff)
}

/// PCP's `pmInDom_build`.
pub const fn indom(domain: u32, serial: u32) -> u32 {
    ((domain & 0x1ff) << 22) | (serial & 0x3f_ffff)
}

/// The text of a PCP error code (thread-safe `pmErrStr_r`).
pub fn err_str(code: i32) -> String {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: pmErrStr_r writes at most buflen bytes, NUL-terminated, into buf and returns it.
    unsafe {
        ffi::pmErrStr_r(code, buf.as_mut_ptr(), buf.len() as i32);
        std::ffi::CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .into_owned()
    }
}

/// `pmGetConfig(name)`: a PCP configuration variable such as `PCP_SYSCONF_DIR`.
pub fn config_var(name: &str) -> Option<String> {
    if let Ok(v) = std::env::var(name) {
        return Some(v);
    }
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: pmGetConfig returns a pointer to a static string (possibly empty), never NULL.
    let s = unsafe { ffi::pmGetConfig(cname.as_ptr()) };
    if s.is_null() {
        return None;
    }
    // SAFETY: non-NULL, NUL-terminated, owned by libpcp.
    let v = unsafe { std::ffi::CStr::from_ptr(s) }
        .to_string_lossy()
        .into_owned();
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn units_encode_like_pmda_pmunits() {
        assert_eq!(Units::KBYTES_PER_SEC.bits(), 0x1f01_3000);
        assert_eq!(Units::BYTES.describe(), "byte");
        assert_eq!(Units::KBYTES_PER_SEC.describe(), "Kbyte / sec");
        assert_eq!(Units::COUNT_PER_SEC.describe(), "count / sec");
        assert_eq!(Units::NONE.describe(), "none");
    }
    #[test]
    fn pmid_matches_pcp_layout() {
        assert_eq!(pmid(505, 1, 2), (505 << 22) | (1 << 10) | 2);
        assert_eq!(
            err_str(ffi::PM_ERR_PMID),
            "Unknown or illegal metric identifier"
        );
    }
}
