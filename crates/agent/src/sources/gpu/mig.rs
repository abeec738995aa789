//! MIG devices of a GPU in MIG mode: instances of `gpus` (`gpu<index>/mig<n>`), with
//! `llm.gpu.name`, `uuid` (cluster 10) and `fb.*` (cluster 11) each.

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_IDENTITY, CLUSTER_MEMORY, I_NAME, I_UUID, M_FB_FREE, M_FB_RESERVED, M_FB_TOTAL,
    M_FB_USED,
};
use crate::sources::{Instance, Value};
use nvml_wrapper::Device;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::structs::device::MigMode;

/// Instance id of MIG device `mig` of GPU `gpu`.
pub fn mig_instance_id(gpu: u32, mig: u32) -> u32 {
    1000 * (gpu + 1) + mig
}

/// `mode` is the GPU's MIG mode as `identity.rs` read it.
pub(super) fn refresh_mig(g: &mut Gpu, mode: Option<MigMode>) -> Result<(), Lost> {
    if mode.is_none_or(|m| m.current != 1) {
        return Ok(());
    }
    let max = g
        .check("nvmlDeviceGetMaxMigDeviceCount", g.dev.mig_device_count())?
        .unwrap_or(0);
    for m in 0..max {
        let mdev = match g.dev.mig_device_by_index(m) {
            Ok(d) => d,
            Err(NvmlError::GpuLost) => return Err(Lost),
            Err(_) => continue, // NOT_FOUND: no MIG device in this slot
        };
        refresh_mig_device(g, m, &mdev)?;
    }
    Ok(())
}

/// MIG device `m` of the GPU: its instance and values.
fn refresh_mig_device(g: &mut Gpu, m: u32, mdev: &Device) -> Result<(), Lost> {
    let id = mig_instance_id(g.index, m);
    let uuid = g.check("nvmlDeviceGetUUID (MIG)", mdev.uuid())?;
    let name = g.check("nvmlDeviceGetName (MIG)", mdev.name())?;
    let mut labels = vec![("parent".to_string(), g.name.clone())];
    if let Some(u) = uuid {
        labels.push(("uuid".into(), u.clone()));
        g.put_at(CLUSTER_IDENTITY, I_UUID, id, Value::Str(u));
    }
    if let Some(n) = name {
        labels.push(("model".into(), n.clone()));
        g.put_at(CLUSTER_IDENTITY, I_NAME, id, Value::Str(n));
    }
    g.out.gpus.push(Instance {
        id,
        name: format!("{}/mig{m}", g.name),
        labels,
    });
    if let Some(mi) = g.check("nvmlDeviceGetMemoryInfo_v2 (MIG)", mdev.memory_info())? {
        let c = CLUSTER_MEMORY;
        g.put_at(c, M_FB_TOTAL, id, Value::U64(mi.total));
        g.put_at(c, M_FB_USED, id, Value::U64(mi.used));
        g.put_at(c, M_FB_FREE, id, Value::U64(mi.free));
        g.put_at(c, M_FB_RESERVED, id, Value::U64(mi.reserved));
    }
    Ok(())
}
