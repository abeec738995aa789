//! What `guidellm2pcp --merge-with` reads from a pmlogger archive through libpcp: its host
//! name, and the identity of the pmcd it logged (`pmcd.pid`, `pmcd.seqnum`, as pmlogger writes
//! them in its prologue and epilogue records) with those metrics' descriptors.
//!
//! pmlogextract(1) puts a `<mark>` after the end of every input archive but the last, unless
//! the archive ends with pmlogger's epilogue record (five metrics, among them `pmcd.pid` and
//! `pmcd.seqnum`) naming the same pmcd as the record that comes next from another input: then
//! nothing was missed. An import that ends with the pmcd identity of the pmlogger archive it is
//! merged with so leaves that archive's columns unbroken.

use super::ffi::{self, pmDesc, pmID};
use libc::{c_char, c_int, c_void};
use std::ffi::{CStr, CString};

const PM_CONTEXT_ARCHIVE: c_int = 2;
const PM_VAL_INSITU: c_int = 0;

/// The five metrics of pmlogger's prologue and epilogue records, in its order.
pub const EPILOGUE_METRICS: [&str; 5] = [
    "pmcd.pmlogger.host",
    "pmcd.pmlogger.port",
    "pmcd.pmlogger.archive",
    "pmcd.pid",
    "pmcd.seqnum",
];

#[repr(C)]
struct ValueSet {
    pmid: pmID,
    numval: c_int,
    valfmt: c_int,
    _pad: c_int,
    // first pmValue: inst, then the union of lval and pval
    inst: c_int,
    _pad2: c_int,
    value: *mut c_void,
}

const _: () = {
    assert!(std::mem::offset_of!(ValueSet, inst) == 16);
    assert!(std::mem::offset_of!(ValueSet, value) == 24);
    assert!(std::mem::offset_of!(Result, numpmid) == 16);
    assert!(std::mem::offset_of!(Result, vset) == 24);
};

/// `pmResult` (PCP 6) and its PCP 7 form have the same layout on LP64: a 16-byte timestamp
/// whose first field is seconds. Only the seconds are used here.
#[repr(C)]
struct Result {
    sec: i64,
    _frac: i64,
    numpmid: c_int,
    vset: [*mut ValueSet; 1],
}

#[link(name = "pcp")]
unsafe extern "C" {
    fn pmNewContext(ty: c_int, name: *const c_char) -> c_int;
    fn pmDestroyContext(handle: c_int) -> c_int;
    fn pmGetContextHostName_r(handle: c_int, buf: *mut c_char, len: c_int) -> *mut c_char;
    fn pmLookupName(n: c_int, names: *const *const c_char, pmids: *mut pmID) -> c_int;
    fn pmLookupDesc(pmid: pmID, desc: *mut pmDesc) -> c_int;
    fn pmFetchArchive(result: *mut *mut Result) -> c_int;
    fn pmFreeResult(result: *mut Result);
}

fn err(code: c_int) -> String {
    let mut buf = [0 as c_char; 256];
    // SAFETY: pmErrStr_r writes at most buflen bytes, NUL-terminated, and returns buf.
    unsafe {
        ffi::pmErrStr_r(code, buf.as_mut_ptr(), buf.len() as c_int);
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    }
}

/// A pmlogger archive's host and pmcd identity.
#[derive(Debug, Clone)]
pub struct LoggerIdentity {
    pub host: String,
    /// Name and descriptor of each of [`EPILOGUE_METRICS`].
    pub descs: Vec<(String, pmDesc)>,
    /// `pmcd.pid` and `pmcd.seqnum` of the last prologue or epilogue at or before the time
    /// asked for (the first one when none is that early).
    pub pid: u64,
    pub seqnum: u32,
}

struct Context(c_int);

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: destroys the context this process created.
        unsafe {
            pmDestroyContext(self.0);
        }
    }
}

/// One value of a singular metric in a record, as u64.
///
/// # Safety
/// `vs` points to a value set of a result returned by pmFetchArchive and not yet freed.
unsafe fn first_value(vs: *const ValueSet, ty: c_int) -> Option<u64> {
    // SAFETY: the caller's contract; value blocks hold a 4-byte header then the value.
    unsafe {
        if (*vs).numval < 1 {
            return None;
        }
        if (*vs).valfmt == PM_VAL_INSITU {
            return Some(*(std::ptr::addr_of!((*vs).value) as *const u32) as u64);
        }
        let data = ((*vs).value as *const u8).add(4);
        match ty {
            ffi::PM_TYPE_U64 | ffi::PM_TYPE_64 => {
                Some(std::ptr::read_unaligned(data as *const u64))
            }
            ffi::PM_TYPE_U32 | ffi::PM_TYPE_32 => {
                Some(std::ptr::read_unaligned(data as *const u32) as u64)
            }
            _ => None,
        }
    }
}

/// Read `archive`'s host name and the pmcd identity in force at `at_sec` (Unix seconds).
pub fn identity(archive: &str, at_sec: i64) -> std::result::Result<LoggerIdentity, String> {
    let c = CString::new(archive).map_err(|_| "archive name contains a NUL byte".to_string())?;
    // SAFETY: valid C string; the context is destroyed by Context's drop.
    let h = unsafe { pmNewContext(PM_CONTEXT_ARCHIVE, c.as_ptr()) };
    if h < 0 {
        return Err(format!("cannot open archive: {}", err(h)));
    }
    let _ctx = Context(h);
    let mut buf = [0 as c_char; 1024];
    // SAFETY: writes at most len bytes into buf, NUL-terminated.
    let host = unsafe {
        pmGetContextHostName_r(h, buf.as_mut_ptr(), buf.len() as c_int);
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    };
    let names: Vec<CString> = EPILOGUE_METRICS
        .iter()
        .map(|n| CString::new(*n).unwrap())
        .collect();
    let ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    let mut pmids = [0 as pmID; 5];
    // SAFETY: 5 valid names in, 5 pmids out.
    let rc = unsafe { pmLookupName(5, ptrs.as_ptr(), pmids.as_mut_ptr()) };
    if rc != 5 {
        return Err(format!(
            "no pmlogger prologue (pmcd.pid, pmcd.seqnum, pmcd.pmlogger.*) in it{}",
            if rc < 0 {
                format!(": {}", err(rc))
            } else {
                String::new()
            }
        ));
    }
    let mut descs = Vec::new();
    for (name, pmid) in EPILOGUE_METRICS.iter().zip(pmids) {
        // SAFETY: pmDesc is plain data, filled in by the library.
        let mut d: pmDesc = unsafe { std::mem::zeroed() };
        // SAFETY: valid pmid and out pointer, on the current context.
        let rc = unsafe { pmLookupDesc(pmid, &mut d) };
        if rc < 0 {
            return Err(format!("{name}: {}", err(rc)));
        }
        descs.push((name.to_string(), d));
    }
    let (pid_desc, seq_desc) = (descs[3].1, descs[4].1);
    let mut found: Option<(u64, u32)> = None;
    loop {
        let mut r: *mut Result = std::ptr::null_mut();
        // SAFETY: reads the next record of the current (archive) context into r.
        let rc = unsafe { pmFetchArchive(&mut r) };
        if rc < 0 {
            break; // PM_ERR_EOL, or a damaged tail: keep what was found
        }
        // SAFETY: r is a valid result until pmFreeResult.
        let (sec, id) = unsafe {
            let mut pid = None;
            let mut seq = None;
            if (*r).numpmid == 5 {
                let list = std::ptr::addr_of!((*r).vset) as *const *const ValueSet;
                for k in 0..5 {
                    let vs = *list.add(k);
                    if (*vs).pmid == pid_desc.pmid {
                        pid = first_value(vs, pid_desc.type_);
                    } else if (*vs).pmid == seq_desc.pmid {
                        seq = first_value(vs, seq_desc.type_).map(|s| s as u32);
                    }
                }
            }
            let sec = (*r).sec;
            pmFreeResult(r);
            (sec, pid.zip(seq))
        };
        if let Some(id) = id {
            if sec > at_sec && found.is_some() {
                break;
            }
            found = Some(id);
            if sec > at_sec {
                break;
            }
        }
    }
    let (pid, seqnum) = found.ok_or("no pmlogger prologue record in it")?;
    Ok(LoggerIdentity {
        host,
        descs,
        pid,
        seqnum,
    })
}
