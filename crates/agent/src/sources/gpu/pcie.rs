//! Cluster 14, PCIe: `llm.gpu.pcie.tx_throughput`, `rx_throughput` (measured for all GPUs at
//! once before the GPUs are sampled, see [`PcieWorkers`]), `replay`, `link_gen*`,
//! `link_width*`. (`pcie.tx_bytes` and `rx_bytes` are field values: `fields.rs`.)

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_PCIE, X_LINK_GEN, X_LINK_GEN_MAX, X_LINK_WIDTH, X_LINK_WIDTH_MAX, X_REPLAY,
    X_RX_THROUGHPUT, X_TX_THROUGHPUT,
};
use crate::sources::Value;
use crossbeam_channel::{Receiver, Sender};
use nvml_wrapper::enum_wrappers::device::PcieUtilCounter;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::{Device, Nvml};
use std::time::{Duration, Instant};

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

/// How long a sample waits for the PCIe throughput of all GPUs (NVML measures ~20 ms per
/// direction); a GPU that has not answered by then has no throughput in this sample.
const PCIE_WAIT: Duration = Duration::from_secs(1);

/// `nvmlDeviceGetPcieThroughput` measures over 20 ms and blocks for it, per direction: with
/// several GPUs, ask them all at once so a sample of 8 GPUs waits ~40 ms rather than ~320 ms.
/// One long-lived thread per GPU asks (a thread started per GPU per sample cost more CPU than
/// the rest of the GPU sample); they end when the NVML state that owns them is dropped.
pub(super) struct PcieWorkers {
    nvml: &'static Nvml,
    /// Requests (round, GPU index) to worker `i`, one at a time: a worker still busy (a hung
    /// NVML call) is skipped rather than queued behind.
    workers: Vec<Sender<(u64, u32)>>,
    answers_tx: Sender<(u64, u32, Option<PcieThroughput>)>,
    answers: Receiver<(u64, u32, Option<PcieThroughput>)>,
    round: u64,
}

impl PcieWorkers {
    pub(super) fn new(nvml: &'static Nvml) -> PcieWorkers {
        let (answers_tx, answers) = crossbeam_channel::unbounded();
        PcieWorkers {
            nvml,
            workers: Vec::new(),
            answers_tx,
            answers,
            round: 0,
        }
    }

    /// The PCIe throughput of GPUs `0..count`; `None` for a GPU whose handle cannot be had
    /// (its own sample reports why) or that did not answer within [`PCIE_WAIT`].
    pub(super) fn measure(&mut self, count: u32) -> Vec<Option<PcieThroughput>> {
        if count <= 1 {
            return (0..count)
                .map(|i| pcie_throughput_of(self.nvml, i))
                .collect();
        }
        self.round += 1;
        let round = self.round;
        let mut out: Vec<Option<PcieThroughput>> = (0..count).map(|_| None).collect();
        let mut waiting = 0;
        for i in 0..count {
            match self.worker(i as usize) {
                Some(w) if w.try_send((round, i)).is_ok() => waiting += 1,
                Some(_) => {} // still busy with an earlier round: no value this time
                None => out[i as usize] = pcie_throughput_of(self.nvml, i), // no thread to be had
            }
        }
        let deadline = Instant::now() + PCIE_WAIT;
        while waiting > 0 {
            match self.answers.recv_deadline(deadline) {
                Ok((r, i, answer)) if r == round => {
                    out[i as usize] = answer;
                    waiting -= 1;
                }
                Ok(_) => {} // a late answer to an earlier round
                Err(_) => break,
            }
        }
        out
    }

    /// Worker `i`, started on first use.
    fn worker(&mut self, i: usize) -> Option<&Sender<(u64, u32)>> {
        while self.workers.len() <= i {
            let (tx, rx) = crossbeam_channel::bounded::<(u64, u32)>(1);
            let nvml = self.nvml;
            let answers = self.answers_tx.clone();
            std::thread::Builder::new()
                .name("gpu-pcie".into())
                .spawn(move || {
                    for (round, index) in rx {
                        let answer = pcie_throughput_of(nvml, index);
                        if answers.send((round, index, answer)).is_err() {
                            return;
                        }
                    }
                })
                .ok()?;
            self.workers.push(tx);
        }
        self.workers.get(i)
    }
}
