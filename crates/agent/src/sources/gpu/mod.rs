//! The GPU source: NVIDIA GPUs through NVML (`nvml-wrapper`), sampled on its own thread.
//!
//! Read-only by design: the source only calls NVML queries (`nvmlDeviceGet*`,
//! `nvmlSystemGet*`) and the XID event set, never a setter (no accounting or persistence mode,
//! no clocks), so it runs unprivileged wherever NVML allows queries.
//!
//! Faults:
//! - no library / no driver: `sample()` fails with a one-line reason (reported through
//!   `llm.agent.source.*`); the scheduler retries with back-off ([`BACKOFF`]);
//! - a call a GPU does not support: that metric has no value for that GPU, logged once;
//! - a GPU that falls off the bus (`GPU_IS_LOST`): its instances and values are withdrawn for
//!   that sample, the other GPUs go on.
//!
//! # Where each metric is filled in
//!
//! As PCP's `linux` PMDA has one refresh function per cluster, each cluster of
//! `catalogue/gpu.rs` has one function here. `sample_gpu` (this file) calls them once per GPU
//! per sample, in the order of the table, each with the GPU's context `Gpu` (its handle, the
//! source's state, where its values go); a GPU lost half-way is dropped as a whole.
//!
//! | `llm.gpu.` metrics                                             | cluster | file: function                    |
//! |----------------------------------------------------------------|---------|-----------------------------------|
//! | `count`, `driver_version`, `nvml_version`, `cuda_driver_version` | 10    | `identity.rs`: `put_system`       |
//! | `name`, `uuid`, `pci_bus_id`, `serial`, `vbios_version`, `index`, `mig_mode`, `pstate`; the `gpus` instances and labels | 10 | `identity.rs`: `refresh_identity` |
//! | `util.*`, `fb.*`, `bar1.*`                                     | 11      | `memory.rs`: `refresh_memory`     |
//! | `clock.*`, `power.*`, `energy`, `temperature.gpu`, `fan`       | 12      | `power.rs`: `refresh_power`       |
//! | `throttle.*`, `violation.*`                                    | 13      | `throttle.rs`: `refresh_throttle` |
//! | `pcie.tx_throughput`, `pcie.rx_throughput`, `pcie.replay`, `pcie.link_*` | 14 | `pcie.rs`: `refresh_pcie` (throughput is measured in the background by `PcieWorker`) |
//! | `temperature.memory`, `pcie.tx_bytes`, `pcie.rx_bytes`, `nvlink.tx`, `nvlink.rx`, `remapped_rows.*` | 12, 14, 15, 16 | `fields.rs`: `refresh_fields` (one `nvmlDeviceGetFieldValues` call for all) |
//! | `nvlink.links_active`, `nvlink.link.*`; the `gpu_nvlinks` instances | 15 | `nvlink.rs`: `refresh_nvlink` |
//! | `ecc.*`, `xid.*`                                               | 16      | `reliability.rs`: `refresh_reliability` (XID events are read by `State::drain_events`, this file) |
//! | `process.*`; the `gpu_processes` instances                     | 17      | `process.rs`: `refresh_processes` |
//! | `prof.*`                                                       | 18      | `profile.rs`: `refresh_profile`   |
//! | `name`, `uuid`, `fb.*` of MIG devices; their `gpus` instances  | 10, 11  | `mig.rs`: `refresh_mig`           |
//!
//! This file keeps what is not a cluster: NVML initialisation, the XID event set, the loop
//! over GPUs with lost-GPU handling, and `check`, which turns an NVML answer into a value, "no
//! value" (logged once per GPU and call) or `Lost`.

mod fields;
mod identity;
mod memory;
mod mig;
mod nvlink;
mod pcie;
mod power;
mod process;
mod profile;
mod reliability;
mod throttle;

pub use mig::mig_instance_id;
pub use nvlink::link_instance_id;
pub use process::process_instance_id;

use crate::catalogue::gpu::{GPUS, NVLINKS, PROCESSES};
use crate::sources::scheduler::Scheduled;
use crate::sources::{IndomInstances, Instance, MetricId, Snapshot, Source, SourceError, Value};
use nvml_wrapper::enums::event::XidError;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::gpm::GpmSample;
use nvml_wrapper::{Device, EventSet, Nvml, bitmasks::event::EventTypes};
use pcp::pmda::log;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

/// Largest retry back-off, in sampling intervals, while NVML cannot be initialised.
pub const BACKOFF: u32 = 30;
/// Instance name of the source in `llm.agent.source.*`.
pub const NAME: &str = "gpu";
/// The library nvml-wrapper loads when none is configured.
pub const DEFAULT_LIBRARY: &str = "libnvidia-ml.so.1";
/// How many times NVML may be initialised (again after it stops answering) in one process.
const MAX_INITS: u32 = 20;

/// The GPU source.
pub struct GpuSource {
    interval: Duration,
    library: Option<PathBuf>,
    state: Option<State>,
    /// (GPU index, NVML call) pairs already logged, so an unsupported call is logged once.
    warned: HashSet<(u32, &'static str)>,
    /// GPUs currently reported lost, to log loss and return once each.
    lost: HashSet<u32>,
    /// Successful NVML initialisations so far (each leaks one small `Nvml`, so they are capped).
    inits: u32,
    /// The failure that made NVML be initialised again, for the message once the cap is hit.
    last_failure: String,
}

/// What is known once NVML is initialised.
struct State {
    /// Leaked on purpose: the event set, GPM samples and device handles borrow it for the life
    /// of the agent. It is created once per successful initialisation: normally once per
    /// process, again after NVML stops answering as a whole (a driver reload), at most
    /// [`MAX_INITS`] times (a few KB each).
    nvml: &'static Nvml,
    driver_version: Option<String>,
    nvml_version: Option<String>,
    cuda_version: Option<String>,
    /// XID event set, when at least one GPU supports critical XID events.
    events: Option<EventSet<'static>>,
    /// GPUs registered in `events`, with their XID count and last XID.
    xid: BTreeMap<u32, (u64, u64)>,
    /// Per GPU index: identity read once (it never changes while the driver is loaded).
    ident: HashMap<u32, identity::Ident>,
    /// Per GPU index: NVLink links found at the first sample of that GPU.
    links: HashMap<u32, Vec<u32>>,
    /// Per GPU index: whether it supports GPU performance monitoring (asked once).
    gpm_supported: HashMap<u32, bool>,
    /// Per GPU index: the GPM sample of the previous sampling round.
    gpm_prev: HashMap<u32, GpmSample<'static>>,
    /// The thread that measures the PCIe throughput of all GPUs in the background.
    pcie: pcie::PcieWorker,
}

/// A GPU returned `NVML_ERROR_GPU_IS_LOST`.
struct Lost;

/// What one GPU contributes to a snapshot, merged into it only if the GPU did not get lost.
#[derive(Default)]
struct GpuValues {
    values: Vec<(MetricId, u32, Value)>,
    /// Its instances in `gpus`: the GPU and its MIG devices.
    gpus: Vec<Instance>,
    /// Its instances in `gpu_processes`.
    procs: Vec<Instance>,
    /// Its instances in `gpu_nvlinks`.
    links: Vec<Instance>,
}

/// One GPU in one sample: the context every cluster function takes.
struct Gpu<'a> {
    /// NVML's index of the GPU, also its instance id in `gpus`.
    index: u32,
    /// Its instance name in `gpus`, `gpu<index>`.
    name: String,
    dev: &'a Device<'static>,
    /// What the source knows across samples: NVML, per-GPU caches, XID counts.
    st: &'a mut State,
    /// The source's record of calls already logged (see [`check`]).
    warned: &'a mut HashSet<(u32, &'static str)>,
    out: GpuValues,
}

impl Gpu<'_> {
    /// [`check`] for this GPU.
    fn check<T>(&mut self, call: &'static str, r: Result<T, NvmlError>) -> Result<Option<T>, Lost> {
        check(self.warned, self.index, call, r)
    }

    /// A value of the GPU's own instance.
    fn put(&mut self, cluster: u32, item: u32, v: Value) {
        self.put_at(cluster, item, self.index, v);
    }

    /// A value of another instance of this GPU (a link, a process, a MIG device).
    fn put_at(&mut self, cluster: u32, item: u32, inst: u32, v: Value) {
        self.out
            .values
            .push((MetricId::new(cluster, item), inst, v));
    }
}

/// Logs the first failure of `call` on GPU `gpu` (per GPU and call), and returns the value,
/// `Ok(None)` for a value NVML cannot give, or `Err(Lost)` when the GPU is gone.
fn check<T>(
    warned: &mut HashSet<(u32, &'static str)>,
    gpu: u32,
    call: &'static str,
    r: Result<T, NvmlError>,
) -> Result<Option<T>, Lost> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(NvmlError::GpuLost) => Err(Lost),
        Err(e) => {
            if warned.insert((gpu, call)) {
                let why = match e {
                    NvmlError::NotSupported => "not supported on this GPU".to_string(),
                    NvmlError::FailedToLoadSymbol(_) => {
                        "not provided by this NVML library".to_string()
                    }
                    other => other.to_string(),
                };
                log(
                    "Info",
                    &format!("gpu{gpu}: {call}: {why}; its metric has no value for gpu{gpu}"),
                );
            }
            Ok(None)
        }
    }
}

/// Explains an NVML initialisation failure in one line.
fn init_error(library: &str, e: &NvmlError) -> SourceError {
    let why = match e {
        NvmlError::LibloadingError(le) => format!(
            "library {library} not found or not loadable ({le}); is the NVIDIA driver installed?"
        ),
        NvmlError::FailedToLoadSymbol(s) => {
            format!("library {library} lacks nvmlInit_v2 ({s}); is it NVML?")
        }
        NvmlError::DriverNotLoaded => {
            format!("nvmlInit_v2 failed: the NVIDIA driver is not loaded (library {library})")
        }
        NvmlError::NoPermission => {
            format!("nvmlInit_v2 failed: no permission to talk to the driver (library {library})")
        }
        other => format!("nvmlInit_v2 failed: {other} (library {library})"),
    };
    SourceError(format!("NVML: {why}"))
}

impl GpuSource {
    pub fn new(interval: Duration, library: Option<PathBuf>) -> Self {
        GpuSource {
            interval,
            library,
            state: None,
            warned: HashSet::new(),
            lost: HashSet::new(),
            inits: 0,
            last_failure: String::new(),
        }
    }

    /// The source with its retry policy, as the agent registers it.
    pub fn scheduled(interval: Duration, library: Option<PathBuf>) -> Scheduled {
        Scheduled::with_backoff(Box::new(GpuSource::new(interval, library)), BACKOFF)
    }

    fn library_name(&self) -> String {
        self.library
            .as_ref()
            .map_or_else(|| DEFAULT_LIBRARY.to_string(), |p| p.display().to_string())
    }

    fn init(&self) -> Result<State, SourceError> {
        let mut builder = Nvml::builder();
        if let Some(lib) = &self.library {
            builder.lib_path(lib.as_os_str());
        }
        let nvml = builder
            .init()
            .map_err(|e| init_error(&self.library_name(), &e))?;
        let nvml: &'static Nvml = Box::leak(Box::new(nvml));
        let cuda_version = nvml.sys_cuda_driver_version().ok().map(|v| {
            format!(
                "{}.{}",
                nvml_wrapper::cuda_driver_version_major(v),
                nvml_wrapper::cuda_driver_version_minor(v)
            )
        });
        let mut state = State {
            nvml,
            driver_version: nvml.sys_driver_version().ok(),
            nvml_version: nvml.sys_nvml_version().ok(),
            cuda_version,
            events: None,
            xid: BTreeMap::new(),
            ident: HashMap::new(),
            links: HashMap::new(),
            gpm_supported: HashMap::new(),
            gpm_prev: HashMap::new(),
            pcie: pcie::PcieWorker::new(nvml),
        };
        state.register_xid_events();
        log(
            "Info",
            &format!(
                "gpu: NVML initialised from {} (driver {})",
                self.library_name(),
                state.driver_version.as_deref().unwrap_or("unknown")
            ),
        );
        Ok(state)
    }
}

impl State {
    fn register_xid_events(&mut self) {
        let Ok(n) = self.nvml.device_count() else {
            return;
        };
        let mut set = None;
        for i in 0..n {
            let Ok(dev) = self.nvml.device_by_index(i) else {
                continue;
            };
            let supported = dev
                .supported_event_types()
                .is_ok_and(|t| t.contains(EventTypes::CRITICAL_XID_ERROR));
            if !supported {
                continue;
            }
            let s = match set.take() {
                Some(s) => s,
                None => match self.nvml.create_event_set() {
                    Ok(s) => s,
                    Err(_) => return,
                },
            };
            // On failure nvml-wrapper frees the set, losing earlier registrations: start over
            // with the GPUs registered so far.
            match dev.register_events(EventTypes::CRITICAL_XID_ERROR, s) {
                Ok(s) => {
                    set = Some(s);
                    self.xid.insert(i, (0, 0));
                }
                Err(_) => {
                    self.xid.clear();
                    set = None;
                }
            }
        }
        self.events = set;
    }

    /// Reads every pending XID event without waiting (their counts are reported by
    /// `reliability.rs`).
    fn drain_events(&mut self) {
        let Some(set) = &self.events else { return };
        // Bounded, in case an event storm keeps the set non-empty.
        for _ in 0..1000 {
            let Ok(ev) = set.wait(0) else { break };
            let Ok(index) = ev.device.index() else {
                continue;
            };
            if let (Some(entry), Some(xid)) = (self.xid.get_mut(&index), ev.event_data) {
                entry.0 += 1;
                entry.1 = match xid {
                    XidError::Value(v) => v,
                    XidError::Unknown => 999,
                };
            }
        }
    }
}

impl Source for GpuSource {
    fn name(&self) -> &str {
        NAME
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn sample(&mut self) -> Result<Snapshot, SourceError> {
        let mut st = match self.state.take() {
            Some(st) => st,
            None if self.inits >= MAX_INITS => {
                return Err(SourceError(format!(
                    "NVML: {}; initialised {MAX_INITS} times already: restart the agent",
                    self.last_failure
                )));
            }
            None => {
                let st = self.init()?;
                self.inits += 1;
                st
            }
        };
        match self.sample_with(&mut st) {
            Ok(snap) => {
                self.state = Some(st);
                Ok(snap)
            }
            Err(e) => {
                // NVML as a whole stopped answering (driver unloaded or reloaded): initialise
                // it again at the next attempt. The old handle stays leaked (see State::nvml).
                self.last_failure = e.0.trim_start_matches("NVML: ").to_string();
                Err(e)
            }
        }
    }
}

impl GpuSource {
    /// One sample of every GPU; each GPU that is lost is left out (and logged once).
    fn sample_with(&mut self, st: &mut State) -> Result<Snapshot, SourceError> {
        let count = st
            .nvml
            .device_count()
            .map_err(|e| SourceError(format!("NVML: nvmlDeviceGetCount_v2 failed: {e}")))?;
        st.drain_events();
        let mut snap = Snapshot::default();
        identity::put_system(&mut snap, st, count);
        let mut all = GpuValues::default();
        let mut pcie = st.pcie.take(count).into_iter();
        for index in 0..count {
            let pcie = pcie.next().flatten();
            match self.sample_gpu(st, index, pcie) {
                Ok(gpu) => {
                    if self.lost.remove(&index) {
                        log("Info", &format!("gpu{index}: answering again"));
                    }
                    all.values.extend(gpu.values);
                    all.gpus.extend(gpu.gpus);
                    all.procs.extend(gpu.procs);
                    all.links.extend(gpu.links);
                }
                Err(Lost) => {
                    if self.lost.insert(index) {
                        log(
                            "Warning",
                            &format!(
                                "gpu{index}: GPU is lost (NVML_ERROR_GPU_IS_LOST); its instance \
                                 is withdrawn until it answers again"
                            ),
                        );
                    }
                    st.ident.remove(&index);
                    st.gpm_prev.remove(&index);
                }
            }
        }
        snap.values.extend(all.values);
        for (indom, instances) in [
            (&GPUS, all.gpus),
            (&PROCESSES, all.procs),
            (&NVLINKS, all.links),
        ] {
            snap.indoms.push(IndomInstances {
                indom_serial: indom.serial,
                instances,
            });
        }
        Ok(snap)
    }

    /// Every cluster of GPU `index`, in the order of the module's table. `pcie` is its PCIe
    /// throughput, measured beforehand for all GPUs at once.
    fn sample_gpu(
        &mut self,
        st: &mut State,
        index: u32,
        pcie: Option<pcie::PcieThroughput>,
    ) -> Result<GpuValues, Lost> {
        let handle = st.nvml.device_by_index(index);
        let Some(dev) = check(
            &mut self.warned,
            index,
            "nvmlDeviceGetHandleByIndex_v2",
            handle,
        )?
        else {
            return Ok(GpuValues::default());
        };
        let g = &mut Gpu {
            index,
            name: format!("gpu{index}"),
            dev: &dev,
            st,
            warned: &mut self.warned,
            out: GpuValues::default(),
        };
        let mig_mode = identity::refresh_identity(g)?;
        memory::refresh_memory(g)?;
        power::refresh_power(g)?;
        throttle::refresh_throttle(g)?;
        pcie::refresh_pcie(g, pcie)?;
        fields::refresh_fields(g)?;
        nvlink::refresh_nvlink(g)?;
        reliability::refresh_reliability(g)?;
        process::refresh_processes(g)?;
        profile::refresh_profile(g)?;
        mig::refresh_mig(g, mig_mode)?;
        Ok(std::mem::take(&mut g.out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_is_a_one_line_error_naming_the_library() {
        let mut s = GpuSource::new(
            Duration::from_secs(1),
            Some(PathBuf::from("/nonexistent/libnvidia-ml.so.1")),
        );
        let e = s.sample().unwrap_err();
        assert!(
            e.0.starts_with(
                "NVML: library /nonexistent/libnvidia-ml.so.1 not found or not loadable"
            ),
            "{e}"
        );
        assert!(!e.0.contains('\n'));
    }

    #[test]
    fn instance_ids_do_not_collide() {
        assert_ne!(mig_instance_id(0, 0), 0);
        assert_ne!(mig_instance_id(0, 7), mig_instance_id(1, 0));
        assert_eq!(process_instance_id(1234, 3), 1234 * 64 + 3);
        assert_ne!(process_instance_id(5, 0), process_instance_id(5, 1));
        assert_eq!(link_instance_id(1, 2), 66);
    }
}
