//! Cluster 17, processes: the processes NVML lists on a GPU (compute and graphics lists merged
//! by pid) as instances of `gpu_processes`, with `llm.gpu.process.*` each.

use super::{Gpu, Lost};
use crate::catalogue::gpu::{CLUSTER_PROCESS, PR_GPU, PR_MEMORY, PR_PID, PR_TYPE};
use crate::sources::{Instance, Value};
use nvml_wrapper::enums::device::UsedGpuMemory;
use std::collections::BTreeMap;

/// Instance id of process `pid` on GPU `gpu`.
pub fn process_instance_id(pid: u32, gpu: u32) -> u32 {
    (pid.wrapping_mul(64) + (gpu & 63)) & 0x7fff_ffff
}

/// A process on the GPU, from one or both of NVML's lists.
#[derive(Default)]
struct Proc {
    mem: Option<u64>,
    compute: bool,
    graphics: bool,
    gpu_instance: Option<u32>,
}

pub(super) fn refresh_processes(g: &mut Gpu) -> Result<(), Lost> {
    for (pid, p) in running(g)? {
        put_process(g, pid, p);
    }
    Ok(())
}

/// The processes of both lists, by pid.
fn running(g: &mut Gpu) -> Result<BTreeMap<u32, Proc>, Lost> {
    let compute = g.check(
        "nvmlDeviceGetComputeRunningProcesses_v3",
        g.dev.running_compute_processes(),
    )?;
    let graphics = g.check(
        "nvmlDeviceGetGraphicsRunningProcesses_v3",
        g.dev.running_graphics_processes(),
    )?;
    let mut by_pid: BTreeMap<u32, Proc> = BTreeMap::new();
    for (graphics, list) in [(false, compute), (true, graphics)] {
        for p in list.unwrap_or_default() {
            let e = by_pid.entry(p.pid).or_default();
            if let UsedGpuMemory::Used(m) = p.used_gpu_memory {
                // Both lists give the process's total: keep one, not the sum.
                e.mem = Some(e.mem.unwrap_or(0).max(m));
            }
            if graphics {
                e.graphics = true;
            } else {
                e.compute = true;
            }
            e.gpu_instance = e.gpu_instance.or(p.gpu_instance_id);
        }
    }
    Ok(by_pid)
}

/// The process's instance, labelled with its pid, GPU, GPU instance and command, and values.
fn put_process(g: &mut Gpu, pid: u32, p: Proc) {
    let id = process_instance_id(pid, g.index);
    let mut labels = vec![
        ("pid".to_string(), pid.to_string()),
        ("gpu".to_string(), g.name.clone()),
    ];
    if let Some(gi) = p.gpu_instance {
        // Under MIG: the GPU instance (not the MIG device index) the process runs in.
        labels.push(("gpu_instance".to_string(), gi.to_string()));
    }
    if let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        labels.push(("command".to_string(), comm.trim().to_string()));
    }
    g.out.procs.push(Instance {
        id,
        name: format!("{}/pid{pid}", g.name),
        labels,
    });
    let c = CLUSTER_PROCESS;
    if let Some(m) = p.mem {
        g.put_at(c, PR_MEMORY, id, Value::U64(m));
    }
    g.put_at(c, PR_PID, id, Value::U32(pid));
    g.put_at(c, PR_GPU, id, Value::U32(g.index));
    let kind = match (p.compute, p.graphics) {
        (true, true) => "compute+graphics",
        (false, true) => "graphics",
        _ => "compute",
    };
    g.put_at(c, PR_TYPE, id, Value::Str(kind.into()));
}
