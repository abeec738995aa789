//! Cluster 14, PCIe: `llm.gpu.pcie.tx_throughput`, `rx_throughput` (measured for all GPUs at
//! once before the GPUs are sampled, see [`pcie_throughputs`]), `replay`, `link_gen*`,
//! `link_width*`. (`pcie.tx_bytes` and `rx_bytes` are field values: `fields.rs`.)

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_PCIE, X_LINK_GEN, X_LINK_GEN_MAX, X_LINK_WIDTH, X_LINK_WIDTH_MAX, X_REPLAY,
    X_RX_THROUGHPUT, X_TX_THROUGHPUT,
};
use crate::sources::Value;
use nvml_wrapper::enum_wrappers::device::PcieUtilCounter;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::{Device, Nvml};

/// PCIe TX and RX throughput of one GPU, as NVML answered.
pub(super) type PcieThroughput = [Result<u32, NvmlError>; 2];

/// `pcie` is the GPU's entry of [`pcie_throughputs`].
pub(super) fn refresh_pcie(g: &mut Gpu, pcie: Option<PcieThroughput>) -> Result<(), Lost> {
    let c = CLUSTER_PCIE;
    for (item, r) in [X_TX_THROUGHPUT, X_RX_THROUGHPUT]
        .into_iter()
        .zip(pcie.into_iter().flatten())
    {
        if let Some(v) = g.check("nvmlDeviceGetPcieThroughput", r)? {
            g.put(c, item, Value::U32(v));
        }
    }
    if let Some(v) = g.check(
        "nvmlDeviceGetPcieReplayCounter",
        g.dev.pcie_replay_counter(),
    )? {
        g.put(c, X_REPLAY, Value::U32(v));
    }
    type PcieCall = fn(&Device<'static>) -> Result<u32, NvmlError>;
    let link: [(u32, &'static str, PcieCall); 4] = [
        (X_LINK_GEN, "nvmlDeviceGetCurrPcieLinkGeneration", |d| {
            d.current_pcie_link_gen()
        }),
        (X_LINK_GEN_MAX, "nvmlDeviceGetMaxPcieLinkGeneration", |d| {
            d.max_pcie_link_gen()
        }),
        (X_LINK_WIDTH, "nvmlDeviceGetCurrPcieLinkWidth", |d| {
            d.current_pcie_link_width()
        }),
        (X_LINK_WIDTH_MAX, "nvmlDeviceGetMaxPcieLinkWidth", |d| {
            d.max_pcie_link_width()
        }),
    ];
    for (item, call, f) in link {
        if let Some(v) = g.check(call, f(g.dev))? {
            g.put(c, item, Value::U32(v));
        }
    }
    Ok(())
}

fn pcie_throughput_of(nvml: &Nvml, index: u32) -> Option<PcieThroughput> {
    let dev = nvml.device_by_index(index).ok()?;
    Some([
        dev.pcie_throughput(PcieUtilCounter::Send),
        dev.pcie_throughput(PcieUtilCounter::Receive),
    ])
}

/// `nvmlDeviceGetPcieThroughput` measures over 20 ms and blocks for it, per direction: with
/// several GPUs, ask them all at once (one short-lived thread each, on the GPU source's side
/// only) so a sample of 8 GPUs waits ~40 ms rather than ~320 ms. `None` for a GPU whose handle
/// cannot be had (its own sample reports why).
pub(super) fn pcie_throughputs(nvml: &'static Nvml, count: u32) -> Vec<Option<PcieThroughput>> {
    if count <= 1 {
        return (0..count).map(|i| pcie_throughput_of(nvml, i)).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .map(|i| {
                std::thread::Builder::new()
                    .name("gpu-pcie".into())
                    .spawn_scoped(s, move || pcie_throughput_of(nvml, i))
            })
            .collect();
        handles
            .into_iter()
            .enumerate()
            .map(|(i, h)| match h {
                Ok(h) => h.join().ok().flatten(),
                // No thread to be had: ask on this one.
                Err(_) => pcie_throughput_of(nvml, i as u32),
            })
            .collect()
    })
}
