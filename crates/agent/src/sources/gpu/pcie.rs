//! Cluster 14, PCIe: `llm.gpu.pcie.tx_throughput`, `rx_throughput` (measured for all GPUs in
//! the background, see [`PcieWorker`]), `replay`, `link_gen*`,
//! `link_width*`. (`pcie.tx_bytes` and `rx_bytes` are field values: `fields.rs`.)

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_PCIE, X_LINK_GEN, X_LINK_GEN_MAX, X_LINK_WIDTH, X_LINK_WIDTH_MAX, X_REPLAY,
    X_RX_THROUGHPUT, X_TX_THROUGHPUT,
};
use crate::sources::Value;
use crossbeam_channel::Sender;
use nvml_wrapper::enum_wrappers::device::PcieUtilCounter;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::{Device, Nvml};
use std::sync::{Arc, Mutex};

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

/// `nvmlDeviceGetPcieThroughput` measures over 20 ms and blocks for it, per direction and
/// GPU (320 ms for 8 GPUs). One long-lived thread measures all GPUs in the background: each
/// sample takes what the thread measured since the sample before and asks it to measure
/// again. A sample therefore never waits for it (nor for a hung call), and reports each
/// measurement one interval after it was made. (Per-GPU threads started every sample cost
/// more CPU than the rest of the GPU sample; long-lived ones woke eight threads a second.)
pub(super) struct PcieWorker {
    /// Requests to measure (round, GPU count). A rendezvous channel: a request is taken only
    /// by an idle thread, so a busy (or hung) one is never queued behind.
    requests: Option<Sender<(u64, u32)>>,
    /// The latest measurement: its round, and the throughput by GPU index.
    measured: Arc<Mutex<(u64, Vec<Option<PcieThroughput>>)>>,
    /// The round the last request asked for.
    round: u64,
}

impl PcieWorker {
    pub(super) fn new(nvml: &'static Nvml) -> PcieWorker {
        let (tx, rx) = crossbeam_channel::bounded::<(u64, u32)>(0);
        let measured = Arc::new(Mutex::new((0, Vec::new())));
        let out = measured.clone();
        let spawned = std::thread::Builder::new()
            .name("gpu-pcie".into())
            .spawn(move || {
                for (round, count) in rx {
                    let all = (0..count).map(|i| pcie_throughput_of(nvml, i)).collect();
                    *out.lock().unwrap_or_else(|e| e.into_inner()) = (round, all);
                }
            });
        PcieWorker {
            requests: spawned.ok().map(|_| tx),
            measured,
            round: 0,
        }
    }

    /// The throughput by GPU index measured since the last call (empty if the thread has not
    /// finished), after asking for the next measurement of GPUs `0..count`.
    pub(super) fn take(&mut self, count: u32) -> Vec<Option<PcieThroughput>> {
        let fresh = {
            let mut m = self.measured.lock().unwrap_or_else(|e| e.into_inner());
            if m.0 == self.round && self.round != 0 {
                std::mem::take(&mut m.1)
            } else {
                Vec::new()
            }
        };
        if let Some(tx) = &self.requests
            && tx.try_send((self.round + 1, count)).is_ok()
        {
            self.round += 1;
        }
        fresh
    }
}
