//! Hand-written declarations of PCP's log-import library (`/usr/include/pcp/import.h`,
//! LOGIMPORT(3)), in the form build.rs found in the installed headers:
//!
//! | PCP        | library               | `pmiWrite`                                   | `pmiPutResult` takes        |
//! |------------|-----------------------|----------------------------------------------|-----------------------------|
//! | 6.x        | `libpcp_import.so.1`  | `(int sec, int usec)`                        | `pmResult` (timeval)        |
//! | 7.0, 7.1   | `libpcp_import.so.1`  | `(int sec, int usec)`                        | `pmResult_v2` (timeval)     |
//! | 7.2 and up | `libpcp_import.so.2`  | `(unsigned long long sec, unsigned int nsec)` | `pmResult` (timespec)       |
//!
//! cfg `pcp_pmi_write_nsec` selects the second `pmiWrite`, cfg `pcp_pmi_result_timespec` the
//! timespec result. The two result forms have the same layout on LP64 (two 8-byte fields);
//! what differs is the unit of the second field, which [`PmiTime`] hides. `pmUnits` is passed
//! **by value** as the `u32` newtype from [`super::ffi::pmUnits`]. The value sets, value blocks
//! and the constants libpcp_import shares with libpcp are in `ffi.rs`. The library keeps global
//! state and is not thread-safe.
#![allow(non_camel_case_types, non_snake_case, dead_code)]

use super::ffi::{pmID, pmInDom, pmUnits, pmValueSet};
#[cfg(pcp_pmi_write_nsec)]
use libc::c_ulonglong;
use libc::{c_char, c_int, c_uint};
use std::mem::{offset_of, size_of};

pub const PMI_MAXERRMSGLEN: usize = 128;

/// The timestamp of the result `pmiPutResult` takes.
#[cfg(pcp_pmi_result_timespec)]
pub type PmiTime = libc::timespec;
#[cfg(not(pcp_pmi_result_timespec))]
pub type PmiTime = libc::timeval;

/// The C name of the structure `pmiPutResult` takes, as build.rs read it from import.h.
pub const PMI_RESULT_C_NAME: &str = env!("PCP_PMI_RESULT");

/// A timestamp in the result form: seconds and microseconds in, the library's unit out.
pub fn pmi_time(sec: i64, usec: i64) -> PmiTime {
    #[cfg(pcp_pmi_result_timespec)]
    let t = libc::timespec {
        tv_sec: sec as libc::time_t,
        tv_nsec: (usec * 1000) as libc::c_long,
    };
    #[cfg(not(pcp_pmi_result_timespec))]
    let t = libc::timeval {
        tv_sec: sec as libc::time_t,
        tv_usec: usec as libc::suseconds_t,
    };
    t
}

/// The result `pmiPutResult` takes ([`PMI_RESULT_C_NAME`]) with its first `vset` pointer;
/// the rest follow in the same allocation.
#[repr(C)]
pub struct pmResult {
    pub timestamp: PmiTime,
    pub numpmid: c_int,
    pub vset: [*mut pmValueSet; 1],
}

const _: () = {
    assert!(offset_of!(pmResult, numpmid) == 16 && offset_of!(pmResult, vset) == 24);
    assert!(size_of::<PmiTime>() == 16);
};

/// (C expression, value Rust computes) for every structure and constant above, for the C
/// header probe test in tests/foundation.rs.
pub fn layout_table() -> Vec<(String, usize)> {
    let r = PMI_RESULT_C_NAME;
    vec![
        (
            format!("sizeof((({r}*)0)->timestamp)"),
            size_of::<PmiTime>(),
        ),
        (
            format!("offsetof({r},numpmid)"),
            offset_of!(pmResult, numpmid),
        ),
        (format!("offsetof({r},vset)"), offset_of!(pmResult, vset)),
        (format!("sizeof({r})"), size_of::<pmResult>()),
        ("PMI_MAXERRMSGLEN".into(), PMI_MAXERRMSGLEN),
    ]
}

/// (function, its C type as the declarations below have it) for every libpcp_import function
/// declared here; the header probe test checks each against import.h's prototype.
pub fn prototype_table() -> Vec<(&'static str, String)> {
    #[cfg(pcp_pmi_write_nsec)]
    let write = "int (*)(unsigned long long, unsigned int)";
    #[cfg(not(pcp_pmi_write_nsec))]
    let write = "int (*)(int, int)";
    let put_result = format!("int (*)(const {PMI_RESULT_C_NAME} *)");
    vec![
        ("pmiStart", "int (*)(const char *, int)".into()),
        ("pmiEnd", "int (*)(void)".into()),
        ("pmiSetHostname", "int (*)(const char *)".into()),
        ("pmiSetTimezone", "int (*)(const char *)".into()),
        ("pmiSetVersion", "int (*)(int)".into()),
        (
            "pmiAddMetric",
            "int (*)(const char *, pmID, int, pmInDom, int, pmUnits)".into(),
        ),
        (
            "pmiAddInstance",
            "int (*)(pmInDom, const char *, int)".into(),
        ),
        (
            "pmiPutValue",
            "int (*)(const char *, const char *, const char *)".into(),
        ),
        ("pmiGetHandle", "int (*)(const char *, const char *)".into()),
        ("pmiPutValueHandle", "int (*)(int, const char *)".into()),
        ("pmiWrite", write.into()),
        ("pmiPutMark", "int (*)(void)".into()),
        ("pmiPutResult", put_result),
        (
            "pmiPutText",
            "int (*)(unsigned int, unsigned int, unsigned int, const char *)".into(),
        ),
        (
            "pmiPutLabel",
            "int (*)(unsigned int, unsigned int, unsigned int, const char *, const char *)".into(),
        ),
        ("pmiErrStr_r", "char *(*)(int, char *, int)".into()),
    ]
}

#[link(name = "pcp_import")]
unsafe extern "C" {
    pub fn pmiStart(archive: *const c_char, inherit: c_int) -> c_int;
    pub fn pmiEnd() -> c_int;
    pub fn pmiSetHostname(host: *const c_char) -> c_int;
    pub fn pmiSetTimezone(tz: *const c_char) -> c_int;
    pub fn pmiSetVersion(version: c_int) -> c_int;
    pub fn pmiAddMetric(
        name: *const c_char,
        pmid: pmID,
        ty: c_int,
        indom: pmInDom,
        sem: c_int,
        units: pmUnits,
    ) -> c_int;
    pub fn pmiAddInstance(indom: pmInDom, instance: *const c_char, inst: c_int) -> c_int;
    pub fn pmiPutValue(name: *const c_char, instance: *const c_char, value: *const c_char)
    -> c_int;
    pub fn pmiGetHandle(name: *const c_char, instance: *const c_char) -> c_int;
    pub fn pmiPutValueHandle(handle: c_int, value: *const c_char) -> c_int;
    #[cfg(not(pcp_pmi_write_nsec))]
    pub fn pmiWrite(sec: c_int, usec: c_int) -> c_int;
    #[cfg(pcp_pmi_write_nsec)]
    pub fn pmiWrite(sec: c_ulonglong, nsec: c_uint) -> c_int;
    pub fn pmiPutMark() -> c_int;
    pub fn pmiPutResult(result: *const pmResult) -> c_int;
    pub fn pmiPutText(ty: c_uint, class: c_uint, id: c_uint, content: *const c_char) -> c_int;
    pub fn pmiPutLabel(
        ty: c_uint,
        id: c_uint,
        inst: c_uint,
        name: *const c_char,
        value: *const c_char,
    ) -> c_int;
    pub fn pmiErrStr_r(code: c_int, buf: *mut c_char, buflen: c_int) -> *mut c_char;
}
