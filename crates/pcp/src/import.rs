//! Safe wrapper over PCP's log-import library (LOGIMPORT(3), `libpcp_import.so.1`).
//!
//! libpcp_import keeps one global "current context" and is not thread-safe, so [`Archive`] is
//! `!Send`, and only one may exist in the process at a time ([`Archive::start`] refuses a second).
//! Metrics are described and valued with the crate's own [`Type`], [`Semantics`], [`Units`] and
//! [`Value`]; [`Archive::put_result`] takes `Option<Value>`, `None` being the one case only an
//! archive record has: a metric present with no values (pmlogger's epilogue).
//! Also here: [`remove_on_signal`], a SIGINT/SIGTERM/SIGHUP handler that unlinks a fixed set of
//! files (an unfinished archive) before the process dies.

use super::ffi::{self, pmUnits};
use super::import_ffi as ifi;
use super::{Semantics, Type, Units, Value};
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

/// Where a label or help text attaches.
#[derive(Clone, Copy, Debug)]
pub enum LabelTarget {
    Context,
    Metric(u32),
    Indom(u32),
    Instance(u32, u32),
}

/// A libpcp_import error: the call that failed and PCP's message.
#[derive(Debug, Clone)]
pub struct ImportError {
    pub call: &'static str,
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.call, self.message)
    }
}

impl std::error::Error for ImportError {}

/// A value handle from `pmiGetHandle` (a metric and instance pair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(i32);

static ACTIVE: AtomicBool = AtomicBool::new(false);

fn pmi_err(call: &'static str, code: i32) -> ImportError {
    let mut buf = [0 as libc::c_char; ifi::PMI_MAXERRMSGLEN + 64];
    // SAFETY: pmiErrStr_r writes at most buflen bytes, NUL-terminated, and returns buf.
    let message = unsafe {
        ifi::pmiErrStr_r(code, buf.as_mut_ptr(), buf.len() as i32);
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    };
    ImportError {
        call,
        code,
        message,
    }
}

fn check(call: &'static str, rc: i32) -> Result<i32, ImportError> {
    if rc < 0 {
        Err(pmi_err(call, rc))
    } else {
        Ok(rc)
    }
}

fn cstr(call: &'static str, s: &str) -> Result<CString, ImportError> {
    CString::new(s).map_err(|_| ImportError {
        call,
        code: ffi::PM_ERR_GENERIC,
        message: format!("string contains a NUL byte: {s:?}"),
    })
}

/// An archive being written through libpcp_import. Dropping it without [`Archive::finish`]
/// still closes the files (`pmiEnd`); the caller removes them.
pub struct Archive {
    ended: bool,
    _not_send: PhantomData<*const ()>,
}

impl Archive {
    /// `pmiStart(base, 0)` and, if given, `pmiSetVersion(version)` (2 or 3).
    pub fn start(base: &Path, version: Option<i32>) -> Result<Archive, ImportError> {
        if ACTIVE.swap(true, Ordering::SeqCst) {
            return Err(ImportError {
                call: "pmiStart",
                code: ffi::PM_ERR_GENERIC,
                message: "another archive is already open in this process".into(),
            });
        }
        let cbase = match CString::new(base.as_os_str().as_bytes()) {
            Ok(c) => c,
            Err(_) => {
                ACTIVE.store(false, Ordering::SeqCst);
                return Err(ImportError {
                    call: "pmiStart",
                    code: ffi::PM_ERR_GENERIC,
                    message: "archive name contains a NUL byte".into(),
                });
            }
        };
        // SAFETY: valid NUL-terminated string; libpcp_import copies it.
        let rc = unsafe { ifi::pmiStart(cbase.as_ptr(), 0) };
        if rc < 0 {
            ACTIVE.store(false, Ordering::SeqCst);
            return Err(pmi_err("pmiStart", rc));
        }
        let archive = Archive {
            ended: false,
            _not_send: PhantomData,
        };
        if let Some(v) = version {
            // SAFETY: plain integer argument on the current context.
            check("pmiSetVersion", unsafe { ifi::pmiSetVersion(v) })?;
        }
        Ok(archive)
    }

    pub fn set_hostname(&mut self, host: &str) -> Result<(), ImportError> {
        let c = cstr("pmiSetHostname", host)?;
        // SAFETY: valid C string, copied by the library.
        check("pmiSetHostname", unsafe { ifi::pmiSetHostname(c.as_ptr()) }).map(drop)
    }

    pub fn set_timezone(&mut self, tz: &str) -> Result<(), ImportError> {
        let c = cstr("pmiSetTimezone", tz)?;
        // SAFETY: valid C string, copied by the library.
        check("pmiSetTimezone", unsafe { ifi::pmiSetTimezone(c.as_ptr()) }).map(drop)
    }

    /// `pmiAddMetric`. `indom` is `None` for a singular metric.
    pub fn add_metric(
        &mut self,
        name: &str,
        pmid: u32,
        ty: Type,
        indom: Option<u32>,
        sem: Semantics,
        units: Units,
    ) -> Result<(), ImportError> {
        let c = cstr("pmiAddMetric", name)?;
        let (ty, sem) = (ty.c_code(), sem.c_code());
        let u: pmUnits = units.0;
        let indom = indom.unwrap_or(ffi::PM_INDOM_NULL);
        // SAFETY: valid C string; pmUnits is repr(transparent) u32, passed by value as in C.
        check("pmiAddMetric", unsafe {
            ifi::pmiAddMetric(c.as_ptr(), pmid, ty, indom, sem, u)
        })
        .map(drop)
    }

    /// `pmiAddMetric` with a descriptor as PCP gives it (e.g. read from another archive).
    pub fn add_metric_desc(&mut self, name: &str, d: &ffi::pmDesc) -> Result<(), ImportError> {
        let c = cstr("pmiAddMetric", name)?;
        // SAFETY: valid C string; pmUnits is repr(transparent) u32, passed by value as in C.
        check("pmiAddMetric", unsafe {
            ifi::pmiAddMetric(c.as_ptr(), d.pmid, d.type_, d.indom, d.sem, d.units)
        })
        .map(drop)
    }

    pub fn add_instance(&mut self, indom: u32, name: &str, inst: i32) -> Result<(), ImportError> {
        let c = cstr("pmiAddInstance", name)?;
        // SAFETY: valid C string, copied by the library.
        check("pmiAddInstance", unsafe {
            ifi::pmiAddInstance(indom, c.as_ptr(), inst)
        })
        .map(drop)
    }

    /// `pmiGetHandle(metric, instance)`; `instance` is "" for a singular metric.
    pub fn handle(&mut self, metric: &str, instance: &str) -> Result<Handle, ImportError> {
        let m = cstr("pmiGetHandle", metric)?;
        let i = cstr("pmiGetHandle", instance)?;
        // SAFETY: valid C strings; the library copies what it keeps.
        let rc = unsafe { ifi::pmiGetHandle(m.as_ptr(), i.as_ptr()) };
        check("pmiGetHandle", rc).map(Handle)
    }

    /// `pmiPutValueHandle`: the value as text (parsed by the library with the metric's type).
    pub fn put(&mut self, h: Handle, value: &Value) -> Result<(), ImportError> {
        let text = match value {
            Value::U32(x) => x.to_string(),
            Value::I32(x) => x.to_string(),
            Value::U64(x) => x.to_string(),
            Value::I64(x) => x.to_string(),
            Value::F64(x) => format!("{x}"),
            Value::Str(x) => x.clone(),
        };
        let v = cstr("pmiPutValueHandle", &text)?;
        // SAFETY: valid C string; copied into the pending result.
        check("pmiPutValueHandle", unsafe {
            ifi::pmiPutValueHandle(h.0, v.as_ptr())
        })
        .map(drop)
    }

    /// `pmiPutText` for a metric or an instance domain.
    pub fn put_text(
        &mut self,
        target: LabelTarget,
        oneline: bool,
        text: &str,
    ) -> Result<(), ImportError> {
        let (ty, id) = match target {
            LabelTarget::Metric(id) => (ffi::PM_TEXT_PMID, id),
            LabelTarget::Indom(id) => (ffi::PM_TEXT_INDOM, id),
            _ => {
                return Err(ImportError {
                    call: "pmiPutText",
                    code: ffi::PM_ERR_GENERIC,
                    message: "help text attaches to a metric or an indom".into(),
                });
            }
        };
        let class = if oneline {
            ffi::PM_TEXT_ONELINE
        } else {
            ffi::PM_TEXT_HELP
        };
        let c = cstr("pmiPutText", text)?;
        // SAFETY: valid C string, copied by the library.
        check("pmiPutText", unsafe {
            ifi::pmiPutText(ty as u32, class as u32, id, c.as_ptr())
        })
        .map(drop)
    }

    /// `pmiPutLabel`. The label's JSON value is a string, whatever `value` looks like, except
    /// for `true`, `false` and `null` (any case), which are JSON literals: that is what every
    /// libpcp_import before PCP 7.2 makes of any value, and 7.2's (which passes numbers and
    /// quoted strings through as JSON) is given the value quoted to make the same.
    pub fn put_label(
        &mut self,
        target: LabelTarget,
        name: &str,
        value: &str,
    ) -> Result<(), ImportError> {
        let (ty, id, inst) = match target {
            LabelTarget::Context => (ffi::PM_LABEL_CONTEXT, 0, 0),
            LabelTarget::Metric(id) => (ffi::PM_LABEL_ITEM, id, 0),
            LabelTarget::Indom(id) => (ffi::PM_LABEL_INDOM, id, 0),
            LabelTarget::Instance(indom, inst) => (ffi::PM_LABEL_INSTANCES, indom, inst),
        };
        let n = cstr("pmiPutLabel", name)?;
        let v = cstr("pmiPutLabel", &label_value_for_library(value))?;
        // SAFETY: valid C strings, copied by the library.
        check("pmiPutLabel", unsafe {
            ifi::pmiPutLabel(ty as u32, id, inst, n.as_ptr(), v.as_ptr())
        })
        .map(drop)
    }

    /// `pmiWrite`: write the values put since the last write at `sec`.`usec` (passed to the
    /// library as nanoseconds where its pmiWrite takes nanoseconds, PCP 7.2 and later).
    pub fn write(&mut self, sec: i32, usec: i32) -> Result<(), ImportError> {
        #[cfg(pcp_pmi_write_nsec)]
        let (sec, frac) = (sec as libc::c_ulonglong, (usec as libc::c_uint) * 1000);
        #[cfg(not(pcp_pmi_write_nsec))]
        let frac = usec;
        // SAFETY: plain integers on the current context.
        check("pmiWrite", unsafe { ifi::pmiWrite(sec, frac) }).map(drop)
    }

    /// `pmiPutResult`: write one record at `sec`.`usec` holding `values`, each
    /// `(pmid, instance id, value)`, grouped per PMID in first-seen order. A metric whose only
    /// values are `None` is in the record with no values (numval 0), as in pmlogger's
    /// epilogue. Faster than handles for many metrics: no name lookups, no per-value search of
    /// a pending result. Every metric and instance must have been added before.
    pub fn put_result(
        &mut self,
        sec: i64,
        usec: i64,
        values: &[(u32, i32, Option<Value>)],
    ) -> Result<(), ImportError> {
        let mut blocks = values
            .iter()
            .map(|(_, _, v)| value_block(v.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut vsets = group_by_pmid(values)
            .iter()
            .map(|(pmid, idx)| value_set(*pmid, idx, values, &mut blocks))
            .collect::<Result<Vec<_>, _>>()?;
        let res = result_record(sec, usec, &mut vsets);
        // SAFETY: the result and everything it points to live until this call returns; the
        // library encodes it into the archive record and frees nothing (pmiPutResult, unlike
        // pmiWrite, leaves the result to its caller). PM_VAL_DPTR, not PM_VAL_SPTR: the
        // valfmt is copied into the record as is, and readers (pmlogcheck, pmFetchArchive)
        // expect the stored form, PM_VAL_DPTR, for every value that is not in situ.
        let rc = unsafe { ifi::pmiPutResult(res.as_ptr() as *const ifi::pmResult) };
        drop((blocks, vsets, res));
        check("pmiPutResult", rc).map(drop)
    }

    /// `pmiPutMark`: a `<mark>` record (temporal gap) after the last write.
    pub fn put_mark(&mut self) -> Result<(), ImportError> {
        // SAFETY: no arguments; acts on the current context.
        check("pmiPutMark", unsafe { ifi::pmiPutMark() }).map(drop)
    }

    /// `pmiEnd`: flush and close the archive.
    pub fn finish(mut self) -> Result<(), ImportError> {
        self.ended = true;
        ACTIVE.store(false, Ordering::SeqCst);
        // SAFETY: closes the current context, opened by start().
        check("pmiEnd", unsafe { ifi::pmiEnd() }).map(drop)
    }
}

impl Drop for Archive {
    fn drop(&mut self) {
        if !self.ended {
            // SAFETY: closes the current context, opened by start(); errors are irrelevant here.
            unsafe {
                ifi::pmiEnd();
            }
            ACTIVE.store(false, Ordering::SeqCst);
        }
    }
}

/// The indexes into `values` of each PMID's values, PMIDs in first-seen order.
fn group_by_pmid(values: &[(u32, i32, Option<Value>)]) -> Vec<(u32, Vec<usize>)> {
    use std::collections::HashMap;
    let mut order: Vec<(u32, Vec<usize>)> = Vec::new();
    let mut at: HashMap<u32, usize> = HashMap::new();
    for (i, (pmid, _, _)) in values.iter().enumerate() {
        let k = *at.entry(*pmid).or_insert_with(|| {
            order.push((*pmid, Vec::new()));
            order.len() - 1
        });
        order[k].1.push(i);
    }
    order
}

/// A value held in the `pmValue` itself (`PM_VAL_INSITU`): 32-bit values, as archives hold them.
fn in_situ(v: &Value) -> Option<u32> {
    match v {
        Value::U32(x) => Some(*x),
        Value::I32(x) => Some(*x as u32),
        _ => None,
    }
}

/// The bytes of a value kept in a value block; None for a value held in situ.
fn block_payload(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::U32(_) | Value::I32(_) => None,
        Value::U64(x) => Some(x.to_ne_bytes().to_vec()),
        Value::I64(x) => Some(x.to_ne_bytes().to_vec()),
        Value::F64(x) => Some(x.to_ne_bytes().to_vec()),
        Value::Str(x) => {
            let mut b = x.as_bytes().to_vec();
            b.retain(|c| *c != 0);
            b.push(0);
            Some(b)
        }
    }
}

/// The `pmValueBlock` of a value: a u32 header (vtype << 24 | vlen) then the value, 8-byte
/// aligned; empty for a value in situ or no value.
fn value_block(v: Option<&Value>) -> Result<Vec<u64>, ImportError> {
    let Some((v, payload)) = v.and_then(|v| Some((v, block_payload(v)?))) else {
        return Ok(Vec::new());
    };
    let vlen = ffi::PM_VAL_HDR_SIZE + payload.len();
    if vlen >= 1 << 24 {
        return Err(ImportError {
            call: "pmiPutResult",
            code: ffi::PM_ERR_GENERIC,
            message: "value too long".into(),
        });
    }
    let mut block = vec![0u64; vlen.div_ceil(8)];
    let header = ffi::value_block_header(v.type_().c_code(), vlen);
    // SAFETY: block has at least vlen bytes; u8 has no alignment requirement.
    let bytes =
        unsafe { std::slice::from_raw_parts_mut(block.as_mut_ptr() as *mut u8, block.len() * 8) };
    bytes[..4].copy_from_slice(&header.to_ne_bytes());
    bytes[4..vlen].copy_from_slice(&payload);
    Ok(block)
}

/// The `pmValueSet` of `pmid` (a 16-byte header, then 16-byte `pmValue` entries) holding
/// `values[i]` for each `i` of `idx` that has a value, pointing into `blocks` (one per value).
fn value_set(
    pmid: u32,
    idx: &[usize],
    values: &[(u32, i32, Option<Value>)],
    blocks: &mut [Vec<u64>],
) -> Result<Vec<u64>, ImportError> {
    let present: Vec<(usize, &Value)> = idx
        .iter()
        .filter_map(|&i| values[i].2.as_ref().map(|v| (i, v)))
        .collect();
    let insitu = present.iter().any(|(_, v)| in_situ(v).is_some());
    if insitu && !present.iter().all(|(_, v)| in_situ(v).is_some()) {
        return Err(ImportError {
            call: "pmiPutResult",
            code: ffi::PM_ERR_GENERIC,
            message: format!("metric {pmid:#x}: 32-bit and other values mixed"),
        });
    }
    let mut vs = vec![0u64; 2 + 2 * present.len().max(1)];
    let p = vs.as_mut_ptr() as *mut ffi::pmValueSet;
    // SAFETY: vs is 8-byte aligned and sized for the header plus present.len() entries
    // (offsets checked by the const asserts in import_ffi.rs).
    unsafe {
        (*p).pmid = pmid;
        (*p).numval = present.len() as i32;
        (*p).valfmt = if insitu {
            ffi::PM_VAL_INSITU
        } else {
            ffi::PM_VAL_DPTR
        };
        let list = std::ptr::addr_of_mut!((*p).vlist) as *mut ffi::pmValue;
        for (j, &(i, v)) in present.iter().enumerate() {
            let e = list.add(j);
            (*e).inst = values[i].1;
            match in_situ(v) {
                // lval, the union's first 4 bytes
                Some(x) => *(std::ptr::addr_of_mut!((*e).pval) as *mut u32) = x,
                None => (*e).pval = blocks[i].as_mut_ptr() as *mut libc::c_void,
            }
        }
    }
    Ok(vs)
}

/// The `pmResult` `pmiPutResult` takes: the timestamp, then one pointer per value set.
fn result_record(sec: i64, usec: i64, vsets: &mut [Vec<u64>]) -> Vec<u64> {
    let mut res = vec![0u64; 3 + vsets.len().max(1)];
    let r = res.as_mut_ptr() as *mut ifi::pmResult;
    // SAFETY: res is 8-byte aligned and sized for the header plus one pointer per set.
    unsafe {
        (*r).timestamp = ifi::pmi_time(sec, usec);
        (*r).numpmid = vsets.len() as i32;
        let list = std::ptr::addr_of_mut!((*r).vset) as *mut *mut ffi::pmValueSet;
        for (k, vs) in vsets.iter_mut().enumerate() {
            *list.add(k) = vs.as_mut_ptr() as *mut ffi::pmValueSet;
        }
    }
    res
}

/// The text to give `pmiPutLabel` so that the label's JSON value is the string `value` (or
/// the literal, for true/false/null) on every libpcp_import: see [`Archive::put_label`].
pub fn label_value_for_library(value: &str) -> std::borrow::Cow<'_, str> {
    let literal = ["true", "false", "null"]
        .iter()
        .any(|l| value.eq_ignore_ascii_case(l));
    if cfg!(pcp_pmi_write_nsec) && !literal {
        format!("\"{value}\"").into()
    } else {
        value.into()
    }
}

/// Files the signal handler unlinks: a leaked, immutable list, swapped atomically.
static DOOMED: AtomicPtr<Vec<CString>> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn on_fatal_signal(sig: libc::c_int) {
    let p = DOOMED.load(Ordering::SeqCst);
    if !p.is_null() {
        // SAFETY: p points to a leaked Vec that is never freed or mutated; unlink is
        // async-signal-safe.
        for c in unsafe { &*p }.iter() {
            unsafe {
                libc::unlink(c.as_ptr());
            }
        }
    }
    // SAFETY: restore the default action and re-raise so the exit status shows the signal;
    // signal() and raise() are async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// On SIGINT, SIGTERM or SIGHUP, unlink `paths` and die of the signal; ignore SIGXFSZ. Calling
/// it again replaces the list; [`clear_remove_on_signal`] empties it.
pub fn remove_on_signal(paths: &[PathBuf]) {
    let list: Vec<CString> = paths
        .iter()
        .filter_map(|p| CString::new(p.as_os_str().as_bytes()).ok())
        .collect();
    DOOMED.store(Box::into_raw(Box::new(list)), Ordering::SeqCst);
    let handler = on_fatal_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe {
            libc::signal(sig, handler);
        }
    }
    // A write past RLIMIT_FSIZE then fails with EFBIG (reported and cleaned up like ENOSPC)
    // instead of killing the process with the archive half written.
    // SAFETY: setting a signal to SIG_IGN is always sound.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Stop removing files on a signal (the archive has been renamed into place).
pub fn clear_remove_on_signal() {
    DOOMED.store(std::ptr::null_mut(), Ordering::SeqCst);
}

/// While alive, file descriptor 2 goes to /dev/null: libpcp_import prints its own diagnostics
/// (e.g. `__pmLogPutDesc(...): write failed`) before returning the error code that the caller
/// reports in one line. Dropping it restores the original stderr.
pub struct QuietStderr {
    saved: libc::c_int,
}

impl QuietStderr {
    pub fn new() -> Option<QuietStderr> {
        // SAFETY: plain fd operations; on any failure nothing is changed or the saved fd closed.
        unsafe {
            let saved = libc::dup(2);
            if saved < 0 {
                return None;
            }
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null < 0 {
                libc::close(saved);
                return None;
            }
            libc::dup2(null, 2);
            libc::close(null);
            Some(QuietStderr { saved })
        }
    }
}

impl Drop for QuietStderr {
    fn drop(&mut self) {
        // SAFETY: restores fd 2 from the descriptor saved in new().
        unsafe {
            libc::dup2(self.saved, 2);
            libc::close(self.saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::label_value_for_library as lv;
    use super::*;

    fn block_bytes(v: &Value) -> Vec<u8> {
        let block = value_block(Some(v)).unwrap();
        block.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    #[test]
    fn value_blocks_hold_a_header_then_the_value() {
        let b = block_bytes(&Value::Str("a\0b".into()));
        let header = ffi::value_block_header(ffi::PM_TYPE_STRING, 4 + 3);
        assert_eq!(&b[..4], header.to_ne_bytes());
        assert_eq!(&b[4..7], b"ab\0", "NUL bytes dropped, one ends the string");
        let b = block_bytes(&Value::I64(-2));
        assert_eq!(
            &b[..4],
            ffi::value_block_header(ffi::PM_TYPE_64, 12).to_ne_bytes()
        );
        assert_eq!(&b[4..12], (-2i64).to_ne_bytes());
        let b = block_bytes(&Value::F64(0.5));
        assert_eq!(
            &b[..4],
            ffi::value_block_header(ffi::PM_TYPE_DOUBLE, 12).to_ne_bytes()
        );
        // 32-bit values are held in situ, and no value has no block
        assert!(value_block(Some(&Value::I32(-1))).unwrap().is_empty());
        assert!(value_block(None).unwrap().is_empty());
    }

    /// A value set as built: pmid, numval, valfmt, and (inst, value slot) per entry, the
    /// slot read as a pointer (or, in situ, its first 4 bytes).
    fn read_set(s: &[u64]) -> (u32, i32, i32, Vec<(i32, u64)>) {
        let p = s.as_ptr() as *const ffi::pmValueSet;
        // SAFETY: s was built by value_set: a header and numval entries.
        unsafe {
            let list = std::ptr::addr_of!((*p).vlist) as *const ffi::pmValue;
            let entries = (0..(*p).numval as usize)
                .map(|j| {
                    let e = list.add(j);
                    let slot = if (*p).valfmt == ffi::PM_VAL_INSITU {
                        *(std::ptr::addr_of!((*e).pval) as *const u32) as u64
                    } else {
                        (*e).pval as u64
                    };
                    ((*e).inst, slot)
                })
                .collect();
            ((*p).pmid, (*p).numval, (*p).valfmt, entries)
        }
    }

    #[test]
    fn value_sets_group_per_pmid_in_first_seen_order() {
        let values = vec![
            (7, 1, Some(Value::U64(10))),
            (5, 0, None),
            (7, 2, Some(Value::U64(20))),
            (6, -1, Some(Value::I32(-3))),
        ];
        let order = group_by_pmid(&values);
        assert_eq!(order, vec![(7, vec![0, 2]), (5, vec![1]), (6, vec![3])]);
        let mut blocks: Vec<Vec<u64>> = values
            .iter()
            .map(|(_, _, v)| value_block(v.as_ref()).unwrap())
            .collect();
        let sets: Vec<_> = order
            .iter()
            .map(|(pmid, idx)| read_set(&value_set(*pmid, idx, &values, &mut blocks).unwrap()))
            .collect();
        let (b0, b2) = (blocks[0].as_ptr() as u64, blocks[2].as_ptr() as u64);
        assert_eq!(sets[0], (7, 2, ffi::PM_VAL_DPTR, vec![(1, b0), (2, b2)]));
        // in the record with no values
        assert_eq!(sets[1], (5, 0, ffi::PM_VAL_DPTR, vec![]));
        assert_eq!(
            sets[2],
            (6, 1, ffi::PM_VAL_INSITU, vec![(-1, -3i32 as u32 as u64)])
        );
        let mixed = vec![(9, 0, Some(Value::U32(1))), (9, 1, Some(Value::U64(2)))];
        let e = value_set(9, &[0, 1], &mixed, &mut [vec![], vec![]]).unwrap_err();
        assert_eq!(e.message, "metric 0x9: 32-bit and other values mixed");
    }

    #[test]
    fn label_values_become_the_same_json_on_every_libpcp_import() {
        // JSON literals go through as they are, on every version.
        for v in ["true", "False", "NULL"] {
            assert_eq!(lv(v), v);
        }
        // Everything else: given as is where the library quotes it (before PCP 7.2), quoted
        // where the library would pass a number or a quoted string through (7.2 and later).
        for v in ["2", "0.95", "1e3", "concurrent@2", "\"x\""] {
            let want = if cfg!(pcp_pmi_write_nsec) {
                format!("\"{v}\"")
            } else {
                v.to_string()
            };
            assert_eq!(lv(v), want, "{v}");
        }
    }
}
