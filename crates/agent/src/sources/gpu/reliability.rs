//! Cluster 16, reliability: `llm.gpu.ecc.*` and `llm.gpu.xid.*` (counted from the XID event
//! set by `State::drain_events` in `mod.rs`). (`remapped_rows.*` are field values:
//! `fields.rs`.)

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_RELIABILITY, R_ECC_CORR_AGG, R_ECC_CORR_VOL, R_ECC_UNCORR_AGG, R_ECC_UNCORR_VOL,
    R_XID_COUNT, R_XID_LAST,
};
use crate::sources::Value;
use nvml_wrapper::enum_wrappers::device::{EccCounter, MemoryError};

pub(super) fn refresh_reliability(g: &mut Gpu) -> Result<(), Lost> {
    let c = CLUSTER_RELIABILITY;
    for (item, err, counter) in [
        (R_ECC_CORR_VOL, MemoryError::Corrected, EccCounter::Volatile),
        (
            R_ECC_CORR_AGG,
            MemoryError::Corrected,
            EccCounter::Aggregate,
        ),
        (
            R_ECC_UNCORR_VOL,
            MemoryError::Uncorrected,
            EccCounter::Volatile,
        ),
        (
            R_ECC_UNCORR_AGG,
            MemoryError::Uncorrected,
            EccCounter::Aggregate,
        ),
    ] {
        if let Some(v) = g.check(
            "nvmlDeviceGetTotalEccErrors",
            g.dev.total_ecc_errors(err, counter),
        )? {
            g.put(c, item, Value::U64(v));
        }
    }
    if let Some(&(count, last)) = g.st.xid.get(&g.index) {
        g.put(c, R_XID_COUNT, Value::U64(count));
        g.put(c, R_XID_LAST, Value::U64(last));
    }
    Ok(())
}
