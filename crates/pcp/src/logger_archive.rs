//! What `guidellm2pcp --merge-with` reads from a pmlogger archive through libpcp: its host
//! name, and the identity of the pmcd it logged (`pmcd.pid`, `pmcd.seqnum`, as pmlogger writes
//! them in its prologue and epilogue records) with those metrics' descriptors.
//!
//! pmlogextract(1) puts a `<mark>` after the end of every input archive but the last, unless
//! the archive ends with pmlogger's epilogue record (five metrics, among them `pmcd.pid` and
//! `pmcd.seqnum`) naming the same pmcd as the record that comes next from another input: then
//! nothing was missed. An import that ends with the pmcd identity of the pmlogger archive it is
//! merged with so leaves that archive's columns unbroken.

use super::err_str;
use super::ffi::{
    self, PM_CONTEXT_ARCHIVE, PM_VAL_HDR_SIZE, PM_VAL_INSITU, pmDesc, pmDestroyContext,
    pmFetchArchive, pmFetchResult, pmFreeResult, pmGetContextHostName_r, pmID, pmLookupDesc,
    pmLookupName, pmNewContext, pmValueSet,
};
use libc::{c_char, c_int};
use std::ffi::{CStr, CString};

/// The five metrics of pmlogger's prologue and epilogue records, in its order.
pub const EPILOGUE_METRICS: [&str; 5] = [
    "pmcd.pmlogger.host",
    "pmcd.pmlogger.port",
    "pmcd.pmlogger.archive",
    "pmcd.pid",
    "pmcd.seqnum",
];

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
unsafe fn first_value(vs: *const pmValueSet, ty: c_int) -> Option<u64> {
    // SAFETY: the caller's contract; value blocks hold a header then the value.
    unsafe {
        if (*vs).numval < 1 {
            return None;
        }
        let first = std::ptr::addr_of!((*vs).vlist) as *const ffi::pmValue;
        if (*vs).valfmt == PM_VAL_INSITU {
            return Some(*(std::ptr::addr_of!((*first).pval) as *const u32) as u64);
        }
        let data = ((*first).pval as *const u8).add(PM_VAL_HDR_SIZE);
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
    let ctx = Context::open(archive)?;
    let host = ctx.host_name();
    let descs = epilogue_descs()?;
    let (pid, seqnum) =
        pmcd_at(&descs[3].1, &descs[4].1, at_sec).ok_or("no pmlogger prologue record in it")?;
    Ok(LoggerIdentity {
        host,
        descs,
        pid,
        seqnum,
    })
}

impl Context {
    /// A new archive context, current until dropped.
    fn open(archive: &str) -> std::result::Result<Context, String> {
        let c =
            CString::new(archive).map_err(|_| "archive name contains a NUL byte".to_string())?;
        // SAFETY: valid C string; the context is destroyed by Context's drop.
        let h = unsafe { pmNewContext(PM_CONTEXT_ARCHIVE, c.as_ptr()) };
        if h < 0 {
            return Err(format!("cannot open archive: {}", err_str(h)));
        }
        Ok(Context(h))
    }

    fn host_name(&self) -> String {
        let mut buf = [0 as c_char; 1024];
        // SAFETY: writes at most len bytes into buf, NUL-terminated.
        unsafe {
            pmGetContextHostName_r(self.0, buf.as_mut_ptr(), buf.len() as c_int);
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        }
    }
}

/// The name and descriptor of each of [`EPILOGUE_METRICS`] in the current context.
fn epilogue_descs() -> std::result::Result<Vec<(String, pmDesc)>, String> {
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
                format!(": {}", err_str(rc))
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
            return Err(format!("{name}: {}", err_str(rc)));
        }
        descs.push((name.to_string(), d));
    }
    Ok(descs)
}

/// `pmcd.pid` and `pmcd.seqnum` of the last prologue or epilogue record at or before `at_sec`
/// in the current context (the first one when none is that early).
fn pmcd_at(pid: &pmDesc, seq: &pmDesc, at_sec: i64) -> Option<(u64, u32)> {
    let mut found: Option<(u64, u32)> = None;
    loop {
        let mut r: *mut pmFetchResult = std::ptr::null_mut();
        // SAFETY: reads the next record of the current (archive) context into r.
        let rc = unsafe { pmFetchArchive(&mut r) };
        if rc < 0 {
            return found; // PM_ERR_EOL, or a damaged tail: keep what was found
        }
        // SAFETY: r is a valid result until pmFreeResult, freed once.
        let (sec, id) = unsafe {
            let got = record_pmcd(r, pid, seq);
            pmFreeResult(r);
            got
        };
        if let Some(id) = id {
            if sec > at_sec && found.is_some() {
                return found;
            }
            found = Some(id);
            if sec > at_sec {
                return found;
            }
        }
    }
}

/// A record's time (seconds) and, if it is a prologue or epilogue (five metrics), the pmcd
/// identity it holds.
///
/// # Safety
/// `r` is a result returned by pmFetchArchive and not yet freed.
unsafe fn record_pmcd(
    r: *const pmFetchResult,
    pid_desc: &pmDesc,
    seq_desc: &pmDesc,
) -> (i64, Option<(u64, u32)>) {
    // SAFETY: the caller's contract; vset is a C flexible array of numpmid pointers.
    unsafe {
        let mut pid = None;
        let mut seq = None;
        if (*r).numpmid == 5 {
            let list = std::ptr::addr_of!((*r).vset) as *const *const pmValueSet;
            for k in 0..5 {
                let vs = *list.add(k);
                if (*vs).pmid == pid_desc.pmid {
                    pid = first_value(vs, pid_desc.type_);
                } else if (*vs).pmid == seq_desc.pmid {
                    seq = first_value(vs, seq_desc.type_).map(|s| s as u32);
                }
            }
        }
        ((*r).timestamp[0], pid.zip(seq))
    }
}
