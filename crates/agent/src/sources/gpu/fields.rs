//! Field values of several clusters, read in one `nvmlDeviceGetFieldValues` call per GPU:
//! `llm.gpu.temperature.memory` (cluster 12), `pcie.tx_bytes`, `pcie.rx_bytes` (14),
//! `nvlink.tx`, `nvlink.rx` (15, all links together), `remapped_rows.*` (16).

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_NVLINK, CLUSTER_PCIE, CLUSTER_POWER, CLUSTER_RELIABILITY, N_RX_KIB, N_TX_KIB,
    P_TEMP_MEMORY, R_REMAP_CORR, R_REMAP_FAILED, R_REMAP_PENDING, R_REMAP_UNCORR, X_RX_BYTES,
    X_TX_BYTES,
};
use crate::sources::Value;
use nvml_wrapper::enums::device::SampleValue;
use nvml_wrapper::structs::device::FieldId;
use nvml_wrapper::sys_exports::field_id::*;

/// The field values read, with the metric (cluster, item) each feeds and the field's name for
/// the log.
const FIELDS: &[(u32, u32, u32, &str)] = &[
    (
        NVML_FI_DEV_MEMORY_TEMP,
        CLUSTER_POWER,
        P_TEMP_MEMORY,
        "NVML_FI_DEV_MEMORY_TEMP",
    ),
    (
        NVML_FI_DEV_PCIE_COUNT_TX_BYTES,
        CLUSTER_PCIE,
        X_TX_BYTES,
        "NVML_FI_DEV_PCIE_COUNT_TX_BYTES",
    ),
    (
        NVML_FI_DEV_PCIE_COUNT_RX_BYTES,
        CLUSTER_PCIE,
        X_RX_BYTES,
        "NVML_FI_DEV_PCIE_COUNT_RX_BYTES",
    ),
    (
        NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX,
        CLUSTER_NVLINK,
        N_TX_KIB,
        "NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX",
    ),
    (
        NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX,
        CLUSTER_NVLINK,
        N_RX_KIB,
        "NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX",
    ),
    (
        NVML_FI_DEV_REMAPPED_COR,
        CLUSTER_RELIABILITY,
        R_REMAP_CORR,
        "NVML_FI_DEV_REMAPPED_COR",
    ),
    (
        NVML_FI_DEV_REMAPPED_UNC,
        CLUSTER_RELIABILITY,
        R_REMAP_UNCORR,
        "NVML_FI_DEV_REMAPPED_UNC",
    ),
    (
        NVML_FI_DEV_REMAPPED_PENDING,
        CLUSTER_RELIABILITY,
        R_REMAP_PENDING,
        "NVML_FI_DEV_REMAPPED_PENDING",
    ),
    (
        NVML_FI_DEV_REMAPPED_FAILURE,
        CLUSTER_RELIABILITY,
        R_REMAP_FAILED,
        "NVML_FI_DEV_REMAPPED_FAILURE",
    ),
];

pub(super) fn refresh_fields(g: &mut Gpu) -> Result<(), Lost> {
    let ids: Vec<FieldId> = FIELDS.iter().map(|f| FieldId(f.0)).collect();
    let Some(samples) = g.check("nvmlDeviceGetFieldValues", g.dev.field_values_for(&ids))? else {
        return Ok(());
    };
    for (s, &(_, cl, item, fname)) in samples.into_iter().zip(FIELDS) {
        let v = s.and_then(|s| s.value);
        let Some(v) = g.check(fname, v)? else {
            continue;
        };
        match sample_to_u64(&v) {
            None => {}
            Some(x) if is_u32(cl, item) => g.put(cl, item, Value::U32(x as u32)),
            Some(x) => g.put(cl, item, Value::U64(x)),
        }
    }
    Ok(())
}

/// Whether the catalogue declares field metric (cluster, item) 32-bit (the others are 64-bit).
fn is_u32(cluster: u32, item: u32) -> bool {
    matches!(
        (cluster, item),
        (CLUSTER_POWER, P_TEMP_MEMORY)
            | (CLUSTER_RELIABILITY, R_REMAP_PENDING)
            | (CLUSTER_RELIABILITY, R_REMAP_FAILED)
    )
}

fn sample_to_u64(v: &SampleValue) -> Option<u64> {
    match *v {
        SampleValue::U32(x) => Some(x as u64),
        SampleValue::U64(x) => Some(x),
        SampleValue::I64(x) => u64::try_from(x).ok(),
        SampleValue::F64(x) if x >= 0.0 && x.is_finite() => Some(x as u64),
        SampleValue::F64(_) => None,
    }
}
