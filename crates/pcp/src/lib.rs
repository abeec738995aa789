//! Safe Rust over PCP's C libraries, and the types PCP defines (metric type, semantics, units,
//! PMID and instance-domain packing, values), once for the whole workspace. This crate knows
//! PCP, not our agent: it depends on no other crate of the workspace, and it is the only one
//! with `unsafe` code for PCP. `ffi.rs` declares libpcp and libpcp_pmda, `import_ffi.rs`
//! libpcp_import (each C function once); `pmda.rs` serves pmcd for any [`pmda::Agent`];
//! `import.rs` writes archives through libpcp_import; `archive.rs` and `logger_archive.rs` read
//! archives through libpcp.
#![allow(unsafe_code)]

pub mod archive;
pub mod ffi;
pub mod import;
#[doc(hidden)]
pub mod import_ffi;
pub mod logger_archive;
pub mod pmda;

/// The type of a metric's values (PCP's `PM_TYPE_*`, those this workspace uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    U32,
    I32,
    U64,
    I64,
    Double,
    String,
}

impl Type {
    pub const ALL: [Type; 6] = [
        Type::U32,
        Type::I32,
        Type::U64,
        Type::I64,
        Type::Double,
        Type::String,
    ];
    /// PCP's short type name, as in `pminfo -d` abbreviations.
    pub fn as_str(self) -> &'static str {
        match self {
            Type::U32 => "u32",
            Type::I32 => "32",
            Type::U64 => "u64",
            Type::I64 => "64",
            Type::Double => "double",
            Type::String => "string",
        }
    }
    pub fn parse(s: &str) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.as_str() == s)
    }
    /// The C constant (`PM_TYPE_*`).
    pub const fn c_code(self) -> libc::c_int {
        match self {
            Type::U32 => ffi::PM_TYPE_U32,
            Type::I32 => ffi::PM_TYPE_32,
            Type::U64 => ffi::PM_TYPE_U64,
            Type::I64 => ffi::PM_TYPE_64,
            Type::Double => ffi::PM_TYPE_DOUBLE,
            Type::String => ffi::PM_TYPE_STRING,
        }
    }
}

/// The semantics of a metric (PCP's `PM_SEM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Semantics {
    /// Cumulative, monotonic: `pmrep` rate-converts it.
    Counter,
    /// A value at an instant, continuous domain (a level, a percentage).
    Instant,
    /// A value that rarely changes (versions, names, configuration).
    Discrete,
}

impl Semantics {
    pub fn as_str(self) -> &'static str {
        match self {
            Semantics::Counter => "counter",
            Semantics::Instant => "instant",
            Semantics::Discrete => "discrete",
        }
    }
    pub fn parse(s: &str) -> Option<Semantics> {
        [Semantics::Counter, Semantics::Instant, Semantics::Discrete]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
    /// The C constant (`PM_SEM_*`).
    pub const fn c_code(self) -> libc::c_int {
        match self {
            Semantics::Counter => ffi::PM_SEM_COUNTER,
            Semantics::Instant => ffi::PM_SEM_INSTANT,
            Semantics::Discrete => ffi::PM_SEM_DISCRETE,
        }
    }
}

/// A metric value; its variant must match the metric's [`Type`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
}

impl Value {
    /// The metric type this value belongs to.
    pub fn type_(&self) -> Type {
        match self {
            Value::U32(_) => Type::U32,
            Value::I32(_) => Type::I32,
            Value::U64(_) => Type::U64,
            Value::I64(_) => Type::I64,
            Value::F64(_) => Type::Double,
            Value::Str(_) => Type::String,
        }
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

    /// The units whose `pmUnits` bit pattern is `bits` (as [`Units::bits`] returns it).
    pub const fn from_bits(bits: u32) -> Self {
        Units(ffi::pmUnits(bits))
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
