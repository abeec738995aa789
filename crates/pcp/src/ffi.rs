//! Hand-written declarations of the parts of PCP's C API this project uses from libpcp and
//! libpcp_pmda (`/usr/include/pcp/pmapi.h`, `pmda.h`): each function once, for the agent
//! (`pmda.rs`) and the archive readers (`archive.rs`, `logger_archive.rs`) alike.
//! libpcp_import's functions are in `import_ffi.rs`.
//!
//! Layouts are checked twice: by the `const` asserts below (x86_64 / aarch64, LP64), and by
//! the header probe test in `tests/foundation.rs`, which compiles a C probe against the
//! installed headers and compares every size and offset with the values Rust computes here
//! (and in `import_ffi.rs`). A PCP release that changes a
//! structure therefore fails the test suite instead of corrupting memory.
#![allow(non_camel_case_types, non_snake_case, dead_code)]

use libc::{c_char, c_int, c_uint, c_void};
use std::mem::{offset_of, size_of};

pub type pmID = c_uint;
pub type pmInDom = c_uint;

pub const PM_IN_NULL: c_uint = 0xffff_ffff;
pub const PM_INDOM_NULL: pmInDom = 0xffff_ffff;
pub const PM_ID_NULL: pmID = 0xffff_ffff;

pub const PM_CONTEXT_ARCHIVE: c_int = 2;

pub const PM_TYPE_32: c_int = 0;
pub const PM_TYPE_U32: c_int = 1;
pub const PM_TYPE_64: c_int = 2;
pub const PM_TYPE_U64: c_int = 3;
pub const PM_TYPE_DOUBLE: c_int = 5;
pub const PM_TYPE_STRING: c_int = 6;
pub const PM_TYPE_AGGREGATE: c_int = 7;

pub const PM_SEM_COUNTER: c_int = 1;
pub const PM_SEM_INSTANT: c_int = 3;
pub const PM_SEM_DISCRETE: c_int = 4;

const PM_ERR_BASE: c_int = 12345;
pub const PM_ERR_GENERIC: c_int = -PM_ERR_BASE;
pub const PM_ERR_TEXT: c_int = -PM_ERR_BASE - 4;
pub const PM_ERR_APPVERSION: c_int = -PM_ERR_BASE - 5;
pub const PM_ERR_VALUE: c_int = -PM_ERR_BASE - 6;
pub const PM_ERR_PMID: c_int = -PM_ERR_BASE - 13;
pub const PM_ERR_INDOM: c_int = -PM_ERR_BASE - 14;
pub const PM_ERR_INST: c_int = -PM_ERR_BASE - 15;
pub const PM_ERR_EOL: c_int = -PM_ERR_BASE - 25;
pub const PM_ERR_AGAIN: c_int = -PM_ERR_BASE - 44;

pub const PM_TEXT_ONELINE: c_int = 1;
pub const PM_TEXT_HELP: c_int = 2;
pub const PM_TEXT_PMID: c_int = 4;
pub const PM_TEXT_INDOM: c_int = 8;

pub const PM_LABEL_CONTEXT: c_int = 1 << 0;
pub const PM_LABEL_DOMAIN: c_int = 1 << 1;
pub const PM_LABEL_INDOM: c_int = 1 << 2;
pub const PM_LABEL_CLUSTER: c_int = 1 << 3;
pub const PM_LABEL_ITEM: c_int = 1 << 4;
pub const PM_LABEL_INSTANCES: c_int = 1 << 5;

pub const PMDA_INTERFACE_7: c_int = 7;
pub const PMDA_FETCH_NOVALUES: c_int = 0;
pub const PMDA_FETCH_STATIC: c_int = 1;
pub const PMDA_EXT_LABEL_CHANGE: c_int = 1 << 5;

/// `pmUnits` is a 32-bit bitfield; PCP lays it out so that the integer value is the same on
/// every platform: `dimSpace<<28 | dimTime<<24 | dimCount<<20 | scaleSpace<<16 |
/// scaleTime<<12 | scaleCount<<8`, low byte padding. `repr(transparent)` keeps it ABI-identical
/// when passed by value (pmiAddMetric, pmiUnits).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct pmUnits(pub u32);

impl pmUnits {
    pub const fn new(
        dim_space: i32,
        dim_time: i32,
        dim_count: i32,
        scale_space: u32,
        scale_time: u32,
        scale_count: i32,
    ) -> Self {
        pmUnits(
            ((dim_space as u32 & 0xf) << 28)
                | ((dim_time as u32 & 0xf) << 24)
                | ((dim_count as u32 & 0xf) << 20)
                | ((scale_space & 0xf) << 16)
                | ((scale_time & 0xf) << 12)
                | ((scale_count as u32 & 0xf) << 8),
        )
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pmDesc {
    pub pmid: pmID,
    pub type_: c_int,
    pub indom: pmInDom,
    pub sem: c_int,
    pub units: pmUnits,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union pmAtomValue {
    pub l: i32,
    pub ul: u32,
    pub ll: i64,
    pub ull: u64,
    pub f: f32,
    pub d: f64,
    pub cp: *mut c_char,
    pub vbp: *mut c_void,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct pmdaInstid {
    pub i_inst: c_int,
    pub i_name: *mut c_char,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct pmdaIndom {
    pub it_indom: pmInDom,
    pub it_numinst: c_int,
    pub it_set: *mut pmdaInstid,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct pmdaMetric {
    pub m_user: *mut c_void,
    pub m_desc: pmDesc,
}

/// `pmValue`: an instance id and `union { pmValueBlock *pval; int lval; }`, held here as the
/// pointer (an `lval`, a value in situ, is its first 4 bytes).
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

/// `valfmt`: a 32-bit value held in `lval` itself.
pub const PM_VAL_INSITU: c_int = 0;
/// `valfmt`: the value is in `pval->vbuf`, in a block of its own. The form archive records
/// hold for every value that is not in situ (`pmlogcheck` rejects any other).
pub const PM_VAL_DPTR: c_int = 1;
/// `valfmt`: as [`PM_VAL_DPTR`], statically allocated; an in-memory form only, never stored.
pub const PM_VAL_SPTR: c_int = 2;
/// Bytes of the `pmValueBlock` header (`vtype:8`, `vlen:24`; as a u32: `vtype << 24 | vlen`,
/// bitfields allocated LSB first as on every platform PCP 6 builds for, see PCP-NOTES P2).
pub const PM_VAL_HDR_SIZE: usize = 4;

/// The first 4 bytes of a `pmValueBlock` (its `vtype` and `vlen` bitfields) as a `u32`.
pub const fn value_block_header(vtype: c_int, vlen: usize) -> u32 {
    ((vtype as u32) << 24) | (vlen as u32 & 0x00ff_ffff)
}

/// `pmResult` as libpcp returns it to a client (`pmFetch`, `pmFetchArchive`; freed with
/// `pmFreeResult`), with its first `vset` pointer; the rest follow in the same allocation.
/// Its timestamp is a `struct timeval` up to PCP 6 and a `struct timespec` from PCP 7, where
/// `PMAPI_VERSION_4` is the default (cfg `pcp_pmapi_v4`): two 8-byte fields, seconds first, on
/// the LP64 targets this crate builds for, so one layout serves both and
/// [`PM_RESULT_FRACTION`] is the unit of the second field. (Not [`pmResult`], the opaque result
/// of the PMDA interface.)
#[repr(C)]
pub struct pmFetchResult {
    pub timestamp: [i64; 2],
    pub numpmid: c_int,
    pub vset: [*mut pmValueSet; 1],
}

/// The unit of [`pmFetchResult`]'s timestamp's second field, in seconds.
#[cfg(pcp_pmapi_v4)]
pub const PM_RESULT_FRACTION: f64 = 1e-9;
#[cfg(not(pcp_pmapi_v4))]
pub const PM_RESULT_FRACTION: f64 = 1e-6;

/// Opaque PCP structures we only pass through. `pmResult` is the result of the PMDA
/// interface: `pmResult` (timeval) up to PCP 6, `pmdaResult` = `pmResult_v2` (still timeval)
/// from PCP 7 on (cfg `pcp_pmapi_v4`), because pmcd and the agents keep speaking the old form;
/// PCP 7 has no high-resolution result on that interface, and pmcd stamps the time anyway.
#[repr(C)]
pub struct pmResult {
    _private: [u8; 0],
}
#[repr(C)]
pub struct pmInResult {
    _private: [u8; 0],
}
#[repr(C)]
pub struct pmLabelSet {
    _private: [u8; 0],
}
#[repr(C)]
pub struct pmProfile {
    _private: [u8; 0],
}

pub type pmdaFetchCallBack =
    Option<unsafe extern "C" fn(*mut pmdaMetric, c_uint, *mut pmAtomValue) -> c_int>;
pub type pmdaLabelCallBack =
    Option<unsafe extern "C" fn(pmInDom, c_uint, *mut *mut pmLabelSet) -> c_int>;
type AnyFn = Option<unsafe extern "C" fn()>;

#[repr(C)]
pub struct pmdaExt {
    pub e_flags: c_uint,
    pub e_ext: *mut c_void,
    pub e_sockname: *mut c_char,
    pub e_name: *const c_char,
    pub e_logfile: *const c_char,
    pub e_helptext: *const c_char,
    pub e_status: c_int,
    pub e_infd: c_int,
    pub e_outfd: c_int,
    pub e_port: c_int,
    pub e_singular: c_int,
    pub e_ordinal: c_int,
    pub e_direct: c_int,
    pub e_domain: c_int,
    pub e_nmetrics: c_int,
    pub e_nindoms: c_int,
    pub e_help: c_int,
    pub e_prof: *mut pmProfile,
    pub e_io: c_int,
    pub e_indoms: *mut pmdaIndom,
    pub e_idp: *mut pmdaIndom,
    pub e_metrics: *mut pmdaMetric,
    pub e_resultCallBack: AnyFn,
    pub e_fetchCallBack: pmdaFetchCallBack,
    pub e_checkCallBack: AnyFn,
    pub e_doneCallBack: AnyFn,
    pub e_context: c_int,
    pub e_endCallBack: AnyFn,
    pub e_labelCallBack: pmdaLabelCallBack,
}

pub type FetchFn =
    Option<unsafe extern "C" fn(c_int, *mut pmID, *mut *mut pmResult, *mut pmdaExt) -> c_int>;
pub type DescFn = Option<unsafe extern "C" fn(pmID, *mut pmDesc, *mut pmdaExt) -> c_int>;
pub type InstanceFn = Option<
    unsafe extern "C" fn(pmInDom, c_int, *mut c_char, *mut *mut pmInResult, *mut pmdaExt) -> c_int,
>;
pub type TextFn =
    Option<unsafe extern "C" fn(c_int, c_int, *mut *mut c_char, *mut pmdaExt) -> c_int>;
pub type LabelFn =
    Option<unsafe extern "C" fn(c_int, c_int, *mut *mut pmLabelSet, *mut pmdaExt) -> c_int>;

pub type PmidFn = Option<unsafe extern "C" fn(*const c_char, *mut pmID, *mut pmdaExt) -> c_int>;
pub type NameFn = Option<unsafe extern "C" fn(pmID, *mut *mut *mut c_char, *mut pmdaExt) -> c_int>;
pub type ChildrenFn = Option<
    unsafe extern "C" fn(
        *const c_char,
        c_int,
        *mut *mut *mut c_char,
        *mut *mut c_int,
        *mut pmdaExt,
    ) -> c_int,
>;

/// Opaque namespace tree of libpcp_pmda (`pmdaTreeCreate`).
#[repr(C)]
pub struct pmdaNameSpace {
    _private: [u8; 0],
}

/// The `seven` arm of `pmdaInterface.version` (the only interface version this agent speaks).
#[repr(C)]
pub struct pmdaInterfaceV7 {
    pub ext: *mut pmdaExt,
    pub profile: AnyFn,
    pub fetch: FetchFn,
    pub desc: DescFn,
    pub instance: InstanceFn,
    pub text: TextFn,
    pub store: AnyFn,
    pub pmid: PmidFn,
    pub name: NameFn,
    pub children: ChildrenFn,
    pub attribute: AnyFn,
    pub label: LabelFn,
}

#[repr(C)]
pub struct pmdaInterface {
    pub domain: c_int,
    /// bitfield `pmda_interface:8 | pmapi_version:8 | flags:16`
    pub comm: c_uint,
    pub status: c_int,
    pub version: pmdaInterfaceV7,
}

// Layout checks for LP64 targets (the header probe test checks them against the real headers).
const _: () = assert!(size_of::<pmUnits>() == 4);
const _: () = assert!(size_of::<pmDesc>() == 20 && offset_of!(pmDesc, units) == 16);
const _: () = assert!(size_of::<pmAtomValue>() == 8);
const _: () = assert!(size_of::<pmdaInstid>() == 16 && offset_of!(pmdaInstid, i_name) == 8);
const _: () = assert!(size_of::<pmdaIndom>() == 16 && offset_of!(pmdaIndom, it_set) == 8);
const _: () = assert!(size_of::<pmdaMetric>() == 32 && offset_of!(pmdaMetric, m_desc) == 8);
const _: () = assert!(size_of::<pmdaExt>() == 192);
const _: () = assert!(offset_of!(pmdaExt, e_status) == 48 && offset_of!(pmdaExt, e_infd) == 52);
const _: () = assert!(offset_of!(pmdaExt, e_domain) == 76 && offset_of!(pmdaExt, e_help) == 88);
const _: () =
    assert!(offset_of!(pmdaExt, e_indoms) == 112 && offset_of!(pmdaExt, e_metrics) == 128);
const _: () = assert!(offset_of!(pmdaExt, e_fetchCallBack) == 144);
const _: () = assert!(offset_of!(pmdaExt, e_context) == 168);
const _: () = assert!(offset_of!(pmdaExt, e_labelCallBack) == 184);
const _: () =
    assert!(size_of::<pmdaInterface>() == 112 && offset_of!(pmdaInterface, version) == 16);
const _: () = assert!(pmUnits::new(1, -1, 0, 1, 3, 0).0 == 0x1f01_3000);
const _: () = assert!(size_of::<pmValue>() == 16 && offset_of!(pmValue, pval) == 8);
const _: () = assert!(offset_of!(pmValueSet, vlist) == 16 && size_of::<pmValueSet>() == 32);
const _: () = assert!(
    offset_of!(pmFetchResult, numpmid) == 16
        && offset_of!(pmFetchResult, vset) == 24
        && size_of::<pmFetchResult>() == 32
);

/// (name, size, offsets...) of every structure above, for the C header probe test.
pub fn layout_table() -> Vec<(&'static str, usize)> {
    vec![
        ("sizeof(pmUnits)", size_of::<pmUnits>()),
        ("sizeof(pmDesc)", size_of::<pmDesc>()),
        ("offsetof(pmDesc,type)", offset_of!(pmDesc, type_)),
        ("offsetof(pmDesc,indom)", offset_of!(pmDesc, indom)),
        ("offsetof(pmDesc,sem)", offset_of!(pmDesc, sem)),
        ("offsetof(pmDesc,units)", offset_of!(pmDesc, units)),
        ("sizeof(pmAtomValue)", size_of::<pmAtomValue>()),
        ("sizeof(pmdaInstid)", size_of::<pmdaInstid>()),
        (
            "offsetof(pmdaInstid,i_name)",
            offset_of!(pmdaInstid, i_name),
        ),
        ("sizeof(pmdaIndom)", size_of::<pmdaIndom>()),
        (
            "offsetof(pmdaIndom,it_numinst)",
            offset_of!(pmdaIndom, it_numinst),
        ),
        ("offsetof(pmdaIndom,it_set)", offset_of!(pmdaIndom, it_set)),
        ("sizeof(pmdaMetric)", size_of::<pmdaMetric>()),
        (
            "offsetof(pmdaMetric,m_desc)",
            offset_of!(pmdaMetric, m_desc),
        ),
        ("sizeof(pmdaExt)", size_of::<pmdaExt>()),
        ("offsetof(pmdaExt,e_name)", offset_of!(pmdaExt, e_name)),
        ("offsetof(pmdaExt,e_status)", offset_of!(pmdaExt, e_status)),
        ("offsetof(pmdaExt,e_infd)", offset_of!(pmdaExt, e_infd)),
        ("offsetof(pmdaExt,e_domain)", offset_of!(pmdaExt, e_domain)),
        ("offsetof(pmdaExt,e_help)", offset_of!(pmdaExt, e_help)),
        ("offsetof(pmdaExt,e_prof)", offset_of!(pmdaExt, e_prof)),
        ("offsetof(pmdaExt,e_io)", offset_of!(pmdaExt, e_io)),
        ("offsetof(pmdaExt,e_indoms)", offset_of!(pmdaExt, e_indoms)),
        (
            "offsetof(pmdaExt,e_metrics)",
            offset_of!(pmdaExt, e_metrics),
        ),
        (
            "offsetof(pmdaExt,e_fetchCallBack)",
            offset_of!(pmdaExt, e_fetchCallBack),
        ),
        (
            "offsetof(pmdaExt,e_context)",
            offset_of!(pmdaExt, e_context),
        ),
        (
            "offsetof(pmdaExt,e_labelCallBack)",
            offset_of!(pmdaExt, e_labelCallBack),
        ),
        ("sizeof(pmdaInterface)", size_of::<pmdaInterface>()),
        (
            "offsetof(pmdaInterface,version)",
            offset_of!(pmdaInterface, version),
        ),
        (
            "offsetof(pmdaInterface,version.seven.fetch)",
            16 + offset_of!(pmdaInterfaceV7, fetch),
        ),
        (
            "offsetof(pmdaInterface,version.seven.instance)",
            16 + offset_of!(pmdaInterfaceV7, instance),
        ),
        (
            "offsetof(pmdaInterface,version.seven.text)",
            16 + offset_of!(pmdaInterfaceV7, text),
        ),
        (
            "offsetof(pmdaInterface,version.seven.label)",
            16 + offset_of!(pmdaInterfaceV7, label),
        ),
        (
            "PMDA_PMUNITS(1,-1,0,PM_SPACE_KBYTE,PM_TIME_SEC,0)",
            pmUnits::new(1, -1, 0, 1, 3, 0).0 as usize,
        ),
        ("sizeof(pmValue)", size_of::<pmValue>()),
        ("offsetof(pmValue,value.pval)", offset_of!(pmValue, pval)),
        ("sizeof(pmValueSet)", size_of::<pmValueSet>()),
        (
            "offsetof(pmValueSet,numval)",
            offset_of!(pmValueSet, numval),
        ),
        (
            "offsetof(pmValueSet,valfmt)",
            offset_of!(pmValueSet, valfmt),
        ),
        ("offsetof(pmValueSet,vlist)", offset_of!(pmValueSet, vlist)),
        ("offsetof(pmValueBlock,vbuf)", PM_VAL_HDR_SIZE),
        (
            "VALUE_BLOCK_HEADER(PM_TYPE_STRING,9)",
            value_block_header(PM_TYPE_STRING, 9) as usize,
        ),
        ("PM_VAL_INSITU", PM_VAL_INSITU as usize),
        ("PM_VAL_DPTR", PM_VAL_DPTR as usize),
        ("PM_VAL_SPTR", PM_VAL_SPTR as usize),
        // pmFetchResult: pmapi.h's pmResult under its default PMAPI_VERSION
        ("sizeof(((pmResult*)0)->timestamp)", size_of::<[i64; 2]>()),
        (
            "offsetof(pmResult,numpmid)",
            offset_of!(pmFetchResult, numpmid),
        ),
        ("offsetof(pmResult,vset)", offset_of!(pmFetchResult, vset)),
        ("sizeof(pmResult)", size_of::<pmFetchResult>()),
        ("PM_CONTEXT_ARCHIVE", PM_CONTEXT_ARCHIVE as usize),
        ("PM_ID_NULL", PM_ID_NULL as usize),
        ("PM_INDOM_NULL", PM_INDOM_NULL as usize),
        ("PM_TYPE_AGGREGATE", PM_TYPE_AGGREGATE as usize),
        ("PM_ERR_EOL", PM_ERR_EOL as usize),
        ("PM_LABEL_CONTEXT", PM_LABEL_CONTEXT as usize),
        ("PM_LABEL_DOMAIN", PM_LABEL_DOMAIN as usize),
        ("PM_LABEL_INDOM", PM_LABEL_INDOM as usize),
        ("PM_LABEL_CLUSTER", PM_LABEL_CLUSTER as usize),
        ("PM_LABEL_ITEM", PM_LABEL_ITEM as usize),
        ("PM_LABEL_INSTANCES", PM_LABEL_INSTANCES as usize),
        ("PM_TEXT_ONELINE", PM_TEXT_ONELINE as usize),
        ("PM_TEXT_HELP", PM_TEXT_HELP as usize),
        ("PM_TEXT_PMID", PM_TEXT_PMID as usize),
        ("PM_TEXT_INDOM", PM_TEXT_INDOM as usize),
    ]
}

unsafe extern "C" {
    // libpcp
    pub fn pmSetProgname(name: *const c_char);
    pub fn pmGetUsername(name: *mut *mut c_char) -> c_int;
    pub fn pmSetProcessIdentity(name: *const c_char) -> c_int;
    pub fn pmGetConfig(name: *const c_char) -> *mut c_char;
    pub fn pmErrStr_r(code: c_int, buf: *mut c_char, buflen: c_int) -> *mut c_char;

    // libpcp, client side: contexts, names, descriptors, fetching (the archive readers)
    pub fn pmNewContext(kind: c_int, name: *const c_char) -> c_int;
    pub fn pmUseContext(handle: c_int) -> c_int;
    pub fn pmDestroyContext(handle: c_int) -> c_int;
    pub fn pmGetContextHostName_r(handle: c_int, buf: *mut c_char, len: c_int) -> *mut c_char;
    pub fn pmLookupName(n: c_int, names: *const *const c_char, pmids: *mut pmID) -> c_int;
    pub fn pmLookupDesc(pmid: pmID, desc: *mut pmDesc) -> c_int;
    pub fn pmNameInDomArchive(indom: pmInDom, inst: c_int, name: *mut *mut c_char) -> c_int;
    pub fn pmFetch(n: c_int, pmids: *const pmID, result: *mut *mut pmFetchResult) -> c_int;
    pub fn pmFetchArchive(result: *mut *mut pmFetchResult) -> c_int;
    pub fn pmFreeResult(result: *mut pmFetchResult);
    pub fn pmExtractValue(
        valfmt: c_int,
        ival: *const pmValue,
        itype: c_int,
        oval: *mut pmAtomValue,
        otype: c_int,
    ) -> c_int;

    // libpcp_pmda
    pub fn pmdaDaemon(
        dispatch: *mut pmdaInterface,
        interface: c_int,
        name: *const c_char,
        domain: c_int,
        logfile: *const c_char,
        helptext: *const c_char,
    );
    pub fn pmdaGetOpt(
        argc: c_int,
        argv: *const *mut c_char,
        optstring: *const c_char,
        dispatch: *mut pmdaInterface,
        err: *mut c_int,
    ) -> c_int;
    pub fn pmdaOpenLog(dispatch: *mut pmdaInterface);
    pub fn pmdaConnect(dispatch: *mut pmdaInterface);
    pub fn pmdaInit(
        dispatch: *mut pmdaInterface,
        indoms: *mut pmdaIndom,
        nindoms: c_int,
        metrics: *mut pmdaMetric,
        nmetrics: c_int,
    );
    pub fn pmdaSetFetchCallBack(dispatch: *mut pmdaInterface, cb: pmdaFetchCallBack);
    pub fn pmdaSetLabelCallBack(dispatch: *mut pmdaInterface, cb: pmdaLabelCallBack);
    pub fn pmdaFetch(
        n: c_int,
        pmids: *mut pmID,
        resp: *mut *mut pmResult,
        pmda: *mut pmdaExt,
    ) -> c_int;
    pub fn pmdaInstance(
        indom: pmInDom,
        inst: c_int,
        name: *mut c_char,
        result: *mut *mut pmInResult,
        pmda: *mut pmdaExt,
    ) -> c_int;
    pub fn pmdaLabel(
        ident: c_int,
        type_: c_int,
        sets: *mut *mut pmLabelSet,
        pmda: *mut pmdaExt,
    ) -> c_int;
    pub fn pmdaAddLabels(sets: *mut *mut pmLabelSet, fmt: *const c_char, ...) -> c_int;
    pub fn pmdaExtSetFlags(pmda: *mut pmdaExt, flags: c_int);
    pub fn pmdaTreeCreate(tree: *mut *mut pmdaNameSpace) -> c_int;
    pub fn pmdaTreeInsert(tree: *mut pmdaNameSpace, pmid: pmID, name: *const c_char) -> c_int;
    pub fn pmdaTreeRebuildHash(tree: *mut pmdaNameSpace, count: c_int);
    pub fn pmdaTreePMID(tree: *mut pmdaNameSpace, name: *const c_char, pmid: *mut pmID) -> c_int;
    pub fn pmdaTreeName(
        tree: *mut pmdaNameSpace,
        pmid: pmID,
        names: *mut *mut *mut c_char,
    ) -> c_int;
    pub fn pmdaTreeChildren(
        tree: *mut pmdaNameSpace,
        name: *const c_char,
        traverse: c_int,
        offspring: *mut *mut *mut c_char,
        status: *mut *mut c_int,
    ) -> c_int;
    pub fn __pmdaInFd(dispatch: *mut pmdaInterface) -> c_int;
    pub fn __pmdaMainPDU(dispatch: *mut pmdaInterface) -> c_int;
}
