//! Hand-written declarations of PCP's log-import library, `libpcp_import.so.1`
//! (`/usr/include/pcp/import.h`, LOGIMPORT(3)), as shipped with PCP 6.x.
//!
//! ABI notes: `pmiWrite(int sec, int usec)` is the `.so.1` signature (PCP 7.2's `.so.2` takes
//! `(unsigned long long, unsigned int)`); `pmUnits` is passed **by value** as the `u32`
//! newtype from [`super::ffi::pmUnits`]. The library keeps global state and is not thread-safe.
#![allow(non_camel_case_types, non_snake_case, dead_code)]

use super::ffi::{pmID, pmInDom, pmUnits};
use libc::{c_char, c_int, c_uint, c_void};
use std::mem::{offset_of, size_of};

pub const PM_LABEL_CONTEXT: c_int = 1 << 0;
pub const PM_LABEL_DOMAIN: c_int = 1 << 1;
pub const PM_LABEL_INDOM: c_int = 1 << 2;
pub const PM_LABEL_CLUSTER: c_int = 1 << 3;
pub const PM_LABEL_ITEM: c_int = 1 << 4;
pub const PM_LABEL_INSTANCES: c_int = 1 << 5;

pub const PM_TEXT_ONELINE: c_uint = 1;
pub const PM_TEXT_HELP: c_uint = 2;
pub const PM_TEXT_PMID: c_uint = 4;
pub const PM_TEXT_INDOM: c_uint = 8;

pub const PMI_MAXERRMSGLEN: usize = 128;

/// `pmValue.value` is a union of `pmValueBlock *pval` and `int lval`; only `pval` is used here.
#[repr(C)]
pub struct pmValue {
    pub inst: c_int,
    pub pval: *mut c_void,
}

/// `pmValueSet` with its first `vlist` entry; the rest follow in the same allocation.
#[repr(C)]
pub struct pmValueSet {
    pub pmid: pmID,
    pub numval: c_int,
    pub valfmt: c_int,
    pub vlist: [pmValue; 1],
}

/// `pmResult` with its first `vset` pointer; the rest follow in the same allocation.
#[repr(C)]
pub struct pmResult {
    pub timestamp: libc::timeval,
    pub numpmid: c_int,
    pub vset: [*mut pmValueSet; 1],
}

/// `valfmt`: the value is in `pval->vbuf`, in a block of its own. The form archive records
/// hold for every value that is not in situ (`pmlogcheck` rejects any other).
pub const PM_VAL_DPTR: c_int = 1;
/// `valfmt`: as [`PM_VAL_DPTR`], statically allocated; an in-memory form only, never stored.
pub const PM_VAL_SPTR: c_int = 2;
/// Bytes of the `pmValueBlock` header (`vtype:8`, `vlen:24`; as a u32: `vtype << 24 | vlen`,
/// bitfields allocated LSB first as on every platform PCP 6 builds for, see PCP-NOTES P2).
pub const PM_VAL_HDR_SIZE: usize = 4;

const _: () = {
    assert!(size_of::<pmValue>() == 16 && offset_of!(pmValue, pval) == 8);
    assert!(offset_of!(pmValueSet, vlist) == 16 && size_of::<pmValueSet>() == 32);
    assert!(offset_of!(pmResult, numpmid) == 16 && offset_of!(pmResult, vset) == 24);
};

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
    pub fn pmiWrite(sec: c_int, usec: c_int) -> c_int;
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
