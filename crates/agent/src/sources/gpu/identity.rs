//! Cluster 10, identity: `llm.gpu.count` and the versions (singular), then per GPU its name,
//! UUID, PCI bus id, serial, VBIOS, index, MIG mode and P-state, and its instance in `gpus`
//! with the labels tools group by. (MIG devices' names and UUIDs: `mig.rs`.)

use super::{Gpu, Lost, State};
use crate::catalogue::gpu::{
    CLUSTER_IDENTITY, I_BUS_ID, I_COUNT, I_CUDA_DRIVER_VERSION, I_DRIVER_VERSION, I_INDEX,
    I_MIG_MODE, I_NAME, I_NVML_VERSION, I_PSTATE, I_SERIAL, I_UUID, I_VBIOS,
};
use crate::sources::{Instance, MetricId, Snapshot, Value};
use nvml_wrapper::structs::device::MigMode;

/// What identifies a GPU, read at its first sample (it does not change while the driver is
/// loaded; it is read again after the GPU was lost).
#[derive(Clone)]
pub(super) struct Ident {
    name: Option<String>,
    uuid: Option<String>,
    bus_id: Option<String>,
    serial: Option<String>,
    vbios: Option<String>,
}

/// `llm.gpu.count`, `driver_version`, `nvml_version`, `cuda_driver_version`: of the whole
/// system, singular.
pub(super) fn put_system(snap: &mut Snapshot, st: &State, count: u32) {
    snap.put_singular(MetricId::new(CLUSTER_IDENTITY, I_COUNT), Value::U32(count));
    for (item, v) in [
        (I_DRIVER_VERSION, &st.driver_version),
        (I_NVML_VERSION, &st.nvml_version),
        (I_CUDA_DRIVER_VERSION, &st.cuda_version),
    ] {
        if let Some(v) = v {
            snap.put_singular(MetricId::new(CLUSTER_IDENTITY, item), Value::Str(v.clone()));
        }
    }
}

/// `llm.gpu.name`, `uuid`, `pci_bus_id`, `serial`, `vbios_version`, `index`, `mig_mode`,
/// `pstate`, and the GPU's instance. Returns the MIG mode, for `mig.rs`.
pub(super) fn refresh_identity(g: &mut Gpu) -> Result<Option<MigMode>, Lost> {
    let ident = match g.st.ident.get(&g.index) {
        Some(i) => i.clone(),
        None => {
            let i = read_ident(g)?;
            g.st.ident.insert(g.index, i.clone());
            i
        }
    };
    let instance = gpu_instance(g, &ident);
    g.out.gpus.push(instance);
    let c = CLUSTER_IDENTITY;
    for (item, v) in [
        (I_NAME, ident.name),
        (I_UUID, ident.uuid),
        (I_BUS_ID, ident.bus_id),
        (I_SERIAL, ident.serial),
        (I_VBIOS, ident.vbios),
    ] {
        if let Some(v) = v {
            g.put(c, item, Value::Str(v));
        }
    }
    g.put(c, I_INDEX, Value::U32(g.index));
    let mig = g.check("nvmlDeviceGetMigMode", g.dev.mig_mode())?;
    if let Some(m) = &mig {
        g.put(c, I_MIG_MODE, Value::U32(m.current));
    }
    if let Some(ps) = g.check("nvmlDeviceGetPerformanceState", g.dev.performance_state())? {
        g.put(c, I_PSTATE, Value::U32(ps.as_c()));
    }
    Ok(mig)
}

fn read_ident(g: &mut Gpu) -> Result<Ident, Lost> {
    Ok(Ident {
        name: g.check("nvmlDeviceGetName", g.dev.name())?,
        uuid: g.check("nvmlDeviceGetUUID", g.dev.uuid())?,
        bus_id: g.check(
            "nvmlDeviceGetPciInfo_v3",
            g.dev.pci_info().map(|p| p.bus_id),
        )?,
        serial: g.check("nvmlDeviceGetSerial", g.dev.serial())?,
        vbios: g.check("nvmlDeviceGetVbiosVersion", g.dev.vbios_version())?,
    })
}

/// The GPU's instance in `gpus`: `gpu<index>`, labelled with what tools group GPUs by.
fn gpu_instance(g: &Gpu, ident: &Ident) -> Instance {
    let mut labels = vec![("index".to_string(), g.index.to_string())];
    for (k, v) in [
        ("uuid", &ident.uuid),
        ("pci_bus_id", &ident.bus_id),
        ("model", &ident.name),
        ("driver_version", &g.st.driver_version),
    ] {
        if let Some(v) = v {
            labels.push((k.to_string(), v.clone()));
        }
    }
    Instance {
        id: g.index,
        name: g.name.clone(),
        labels,
    }
}
