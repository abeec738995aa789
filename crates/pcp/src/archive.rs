//! Reading PCP archives through libpcp (`pmNewContext(PM_CONTEXT_ARCHIVE)`, `pmLookupName`,
//! `pmLookupDesc`, `pmFetch` in the archive's default forward mode, `pmExtractValue`,
//! `pmNameInDomArchive`): every recorded value of a few metrics, in time order.
//!
//! The C declarations, the result layout and its timestamp unit (PCP 6 and 7) are in `ffi.rs`.

use super::err_str;
use super::ffi::{
    PM_CONTEXT_ARCHIVE, PM_ERR_EOL, PM_ID_NULL, PM_INDOM_NULL, PM_RESULT_FRACTION,
    PM_TYPE_AGGREGATE, PM_TYPE_DOUBLE, PM_TYPE_STRING, pmAtomValue, pmDesc, pmDestroyContext,
    pmExtractValue, pmFetch, pmFetchResult, pmFreeResult, pmLookupDesc, pmLookupName,
    pmNameInDomArchive, pmNewContext, pmUseContext, pmValue, pmValueSet,
};
use libc::{c_char, c_int, c_void};
use std::ffi::{CStr, CString};

/// One recorded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
}

/// A metric found in the archive.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    pub pmid: u32,
    pub type_: i32,
    pub indom: u32,
}

/// An open archive context (destroyed on drop).
pub struct ArchiveReader {
    ctx: c_int,
}

impl ArchiveReader {
    /// Open the archive `name` (base name, or a file of it).
    pub fn open(name: &str) -> Result<ArchiveReader, String> {
        let c = CString::new(name).map_err(|_| "archive name holds a NUL byte".to_string())?;
        // SAFETY: c is a valid NUL-terminated string for the duration of the call.
        let ctx = unsafe { pmNewContext(PM_CONTEXT_ARCHIVE, c.as_ptr()) };
        if ctx < 0 {
            return Err(err_str(ctx));
        }
        Ok(ArchiveReader { ctx })
    }

    fn use_ctx(&self) -> Result<(), String> {
        // SAFETY: plain call with a handle this object owns.
        let rc = unsafe { pmUseContext(self.ctx) };
        if rc < 0 { Err(err_str(rc)) } else { Ok(()) }
    }

    /// Look up metrics by name: `None` for each name the archive does not hold.
    pub fn lookup(&self, names: &[String]) -> Result<Vec<Option<Metric>>, String> {
        self.use_ctx()?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let Ok(c) = CString::new(name.as_str()) else {
                out.push(None);
                continue;
            };
            let ptr = c.as_ptr();
            let mut pmid = PM_ID_NULL;
            // SAFETY: one valid name pointer and room for one pmID.
            let rc = unsafe { pmLookupName(1, &ptr, &mut pmid) };
            if rc < 1 || pmid == PM_ID_NULL {
                out.push(None);
                continue;
            }
            let mut d = std::mem::MaybeUninit::<pmDesc>::zeroed();
            // SAFETY: pmLookupDesc fills the pmDesc it is given.
            let rc = unsafe { pmLookupDesc(pmid, d.as_mut_ptr()) };
            if rc < 0 {
                return Err(format!("{name}: {}", err_str(rc)));
            }
            // SAFETY: initialised by pmLookupDesc (and zeroed before).
            let d = unsafe { d.assume_init() };
            out.push(Some(Metric {
                pmid,
                type_: d.type_,
                indom: d.indom,
            }));
        }
        Ok(out)
    }

    /// Every recorded value of `metrics`, in time order from the start of the archive (once
    /// per context: the context is left at the end):
    /// `f(index into metrics, instance, time (Unix seconds), value)`. Aggregate and event
    /// values are skipped.
    pub fn replay(
        &self,
        metrics: &[Metric],
        mut f: impl FnMut(usize, i32, f64, Value),
    ) -> Result<(), String> {
        if metrics.is_empty() {
            return Ok(());
        }
        self.use_ctx()?;
        let pmids: Vec<u32> = metrics.iter().map(|m| m.pmid).collect();
        loop {
            let mut res: *mut pmFetchResult = std::ptr::null_mut();
            // SAFETY: pmids has pmids.len() elements; res receives a result we free below.
            let rc = unsafe { pmFetch(pmids.len() as c_int, pmids.as_ptr(), &mut res) };
            if rc == PM_ERR_EOL {
                return Ok(());
            }
            if rc < 0 {
                return Err(err_str(rc));
            }
            // SAFETY: on success res points to a pmResult of numpmid value sets, each with
            // numval values, valid until pmFreeResult.
            let outcome = unsafe { Self::visit(res, metrics, &mut f) };
            // SAFETY: res came from pmFetch and is freed once.
            unsafe { pmFreeResult(res) };
            outcome?;
        }
    }

    /// # Safety
    /// `res` must be a valid result of pmFetch.
    unsafe fn visit(
        res: *mut pmFetchResult,
        metrics: &[Metric],
        f: &mut impl FnMut(usize, i32, f64, Value),
    ) -> Result<(), String> {
        // SAFETY (whole body): see the caller; vset and vlist are C flexible arrays.
        unsafe {
            let [sec, frac] = (*res).timestamp;
            let t = sec as f64 + frac as f64 * PM_RESULT_FRACTION;
            let n = (*res).numpmid.max(0) as usize;
            let sets = std::ptr::addr_of!((*res).vset) as *const *mut pmValueSet;
            for s in 0..n {
                let vs = *sets.add(s);
                if vs.is_null() || (*vs).numval <= 0 {
                    continue;
                }
                let Some(k) = metrics.iter().position(|m| m.pmid == (*vs).pmid) else {
                    continue;
                };
                let ty = metrics[k].type_;
                if !(0..PM_TYPE_AGGREGATE).contains(&ty) {
                    continue;
                }
                let vals = std::ptr::addr_of!((*vs).vlist) as *const pmValue;
                for i in 0..(*vs).numval as usize {
                    let v = vals.add(i);
                    let mut atom = pmAtomValue { d: 0.0 };
                    if ty == PM_TYPE_STRING {
                        let rc = pmExtractValue((*vs).valfmt, v, ty, &mut atom, PM_TYPE_STRING);
                        if rc < 0 {
                            return Err(err_str(rc));
                        }
                        let text = CStr::from_ptr(atom.cp).to_string_lossy().into_owned();
                        libc::free(atom.cp as *mut c_void);
                        f(k, (*v).inst, t, Value::Text(text));
                    } else {
                        let rc = pmExtractValue((*vs).valfmt, v, ty, &mut atom, PM_TYPE_DOUBLE);
                        if rc < 0 {
                            return Err(err_str(rc));
                        }
                        f(k, (*v).inst, t, Value::Number(atom.d));
                    }
                }
            }
        }
        Ok(())
    }

    /// The name of instance `inst` of `indom`, as the archive records it.
    pub fn instance_name(&self, indom: u32, inst: i32) -> Option<String> {
        if indom == PM_INDOM_NULL {
            return None;
        }
        self.use_ctx().ok()?;
        let mut name: *mut c_char = std::ptr::null_mut();
        // SAFETY: name receives a malloc'd string on success, freed here.
        unsafe {
            if pmNameInDomArchive(indom, inst, &mut name) < 0 || name.is_null() {
                return None;
            }
            let s = CStr::from_ptr(name).to_string_lossy().into_owned();
            libc::free(name as *mut c_void);
            Some(s)
        }
    }
}

impl Drop for ArchiveReader {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and destroyed once.
        unsafe {
            pmDestroyContext(self.ctx);
        }
    }
}
