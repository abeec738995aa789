//! One NVML call nvml-wrapper 0.13 lacks: `nvmlDeviceGetFieldValues` with a chosen `scopeId`
//! (nvml-wrapper's `Device::field_values_for` always sends scope 0). For NVLink fields the
//! scope is the link index, so this is how per-link NVLink throughput is read.
//!
//! A crate of its own so that the GPU source (crates/agent) can forbid `unsafe`: the call goes
//! through the symbol nvml-wrapper already loaded (`Nvml::lib()`) with the device's raw handle.
//!
//! Field ids are passed through untranslated. nvml-wrapper remaps ids 251..=273 for drivers
//! from 580.82 on (its `translate_field_id` is crate-private); callers must only pass ids
//! outside that range (the NVLink throughput fields 138/139 are).
#![allow(unsafe_code)]

use nvml_wrapper::Device;
use nvml_wrapper::error::{NvmlError, nvml_try};
use nvml_wrapper_sys::bindings::*;

/// Reads field values with explicit scopes: `requests` is `(field id, scope id)` pairs. The
/// outer error is the call's own; each entry carries its value (as u64) or its own
/// `nvmlReturn` error. Signed or floating-point values are refused per entry
/// (`UnexpectedVariant`), negative ones never become counters.
pub fn scoped_field_values(
    device: &Device,
    requests: &[(u32, u32)],
) -> Result<Vec<Result<u64, NvmlError>>, NvmlError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let sym = match device.nvml().lib().nvmlDeviceGetFieldValues.as_ref() {
        Ok(s) => s,
        Err(e) => return Err(NvmlError::FailedToLoadSymbol(e.to_string())),
    };
    let mut values: Vec<nvmlFieldValue_t> = requests
        .iter()
        .map(|&(field, scope)| {
            // SAFETY: nvmlFieldValue_t is plain C data (integers and a union of numbers);
            // all-zero is a valid value.
            let mut v: nvmlFieldValue_t = unsafe { std::mem::zeroed() };
            v.fieldId = field;
            v.scopeId = scope;
            v
        })
        .collect();
    // SAFETY: the handle belongs to a live Device borrowed for the call, the array has exactly
    // `values.len()` initialised elements, and NVML writes only within them.
    let rc = unsafe { sym(device.handle(), values.len() as i32, values.as_mut_ptr()) };
    nvml_try(rc)?;
    Ok(values.iter().map(value_of).collect())
}

// c_ulong is u64 here but u32 on some targets, hence the allowed u64::from.
#[allow(non_upper_case_globals, clippy::useless_conversion)]
fn value_of(v: &nvmlFieldValue_t) -> Result<u64, NvmlError> {
    nvml_try(v.nvmlReturn)?;
    // SAFETY: valueType says which union member NVML wrote.
    unsafe {
        match v.valueType {
            nvmlValueType_enum_NVML_VALUE_TYPE_UNSIGNED_INT => Ok(u64::from(v.value.uiVal)),
            nvmlValueType_enum_NVML_VALUE_TYPE_UNSIGNED_LONG => Ok(u64::from(v.value.ulVal)),
            nvmlValueType_enum_NVML_VALUE_TYPE_UNSIGNED_LONG_LONG => Ok(v.value.ullVal),
            nvmlValueType_enum_NVML_VALUE_TYPE_UNSIGNED_SHORT => Ok(u64::from(v.value.usVal)),
            other => Err(NvmlError::UnexpectedVariant(other)),
        }
    }
}
