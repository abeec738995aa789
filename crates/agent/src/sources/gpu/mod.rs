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

use crate::catalogue::gpu::*;
use crate::sources::scheduler::Scheduled;
use crate::sources::{IndomInstances, Instance, MetricId, Snapshot, Source, SourceError, Value};
use nvml_fields::scoped_field_values;
use nvml_wrapper::enum_wrappers::device::{
    Clock, EccCounter, MemoryError, PcieUtilCounter, PerformancePolicy, TemperatureSensor,
};
use nvml_wrapper::enum_wrappers::nv_link::ErrorCounter;
use nvml_wrapper::enums::device::{SampleValue, UsedGpuMemory};
use nvml_wrapper::enums::event::XidError;
use nvml_wrapper::enums::gpm::GpmMetricId;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::gpm::{GpmSample, gpm_metrics_get};
use nvml_wrapper::structs::device::FieldId;
use nvml_wrapper::sys_exports::field_id::*;
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
/// Highest NVLink link number probed (NVML_NVLINK_MAX_LINKS is 18).
const MAX_LINKS: u32 = 18;

/// The field values read in one `nvmlDeviceGetFieldValues` call per GPU, with the metric each
/// feeds.
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

/// GPU performance monitoring metrics: (item in CLUSTER_PROFILE, GPM metric, NVML name).
const GPM_METRICS: &[(u32, GpmMetricId, &str)] = &[
    (
        GPM_SM_ACTIVE,
        GpmMetricId::SmUtil,
        "NVML_GPM_METRIC_SM_UTIL",
    ),
    (
        GPM_SM_OCCUPANCY,
        GpmMetricId::SmOccupancy,
        "NVML_GPM_METRIC_SM_OCCUPANCY",
    ),
    (
        GPM_GRAPHICS_ACTIVE,
        GpmMetricId::GraphicsUtil,
        "NVML_GPM_METRIC_GRAPHICS_UTIL",
    ),
    (
        GPM_TENSOR_ACTIVE,
        GpmMetricId::AnyTensorUtil,
        "NVML_GPM_METRIC_ANY_TENSOR_UTIL",
    ),
    (
        GPM_DRAM_ACTIVE,
        GpmMetricId::DramBwUtil,
        "NVML_GPM_METRIC_DRAM_BW_UTIL",
    ),
    (
        GPM_FP64_ACTIVE,
        GpmMetricId::Fp64Util,
        "NVML_GPM_METRIC_FP64_UTIL",
    ),
    (
        GPM_FP32_ACTIVE,
        GpmMetricId::Fp32Util,
        "NVML_GPM_METRIC_FP32_UTIL",
    ),
    (
        GPM_FP16_ACTIVE,
        GpmMetricId::Fp16Util,
        "NVML_GPM_METRIC_FP16_UTIL",
    ),
    (
        GPM_INTEGER_ACTIVE,
        GpmMetricId::IntegerUtil,
        "NVML_GPM_METRIC_INTEGER_UTIL",
    ),
    (
        GPM_PCIE_TX,
        GpmMetricId::PcieTxPerSec,
        "NVML_GPM_METRIC_PCIE_TX_PER_SEC",
    ),
    (
        GPM_PCIE_RX,
        GpmMetricId::PcieRxPerSec,
        "NVML_GPM_METRIC_PCIE_RX_PER_SEC",
    ),
];

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
    ident: HashMap<u32, Ident>,
    /// Per GPU index: NVLink links found at the first sample of that GPU.
    links: HashMap<u32, Vec<u32>>,
    /// Per GPU index: whether it supports GPU performance monitoring (asked once).
    gpm_supported: HashMap<u32, bool>,
    /// Per GPU index: the GPM sample of the previous sampling round.
    gpm_prev: HashMap<u32, GpmSample<'static>>,
}

#[derive(Clone)]
struct Ident {
    name: Option<String>,
    uuid: Option<String>,
    bus_id: Option<String>,
    serial: Option<String>,
    vbios: Option<String>,
}

/// A GPU returned `NVML_ERROR_GPU_IS_LOST`.
struct Lost;

/// Values for one GPU, merged into the snapshot only if the GPU did not get lost.
struct GpuValues {
    inst: u32,
    values: Vec<(MetricId, u32, Value)>,
}

impl GpuValues {
    fn put(&mut self, cluster: u32, item: u32, v: Value) {
        self.values
            .push((MetricId::new(cluster, item), self.inst, v));
    }
    fn put_at(&mut self, cluster: u32, item: u32, inst: u32, v: Value) {
        self.values.push((MetricId::new(cluster, item), inst, v));
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

fn sample_to_u64(v: &SampleValue) -> Option<u64> {
    match *v {
        SampleValue::U32(x) => Some(x as u64),
        SampleValue::U64(x) => Some(x),
        SampleValue::I64(x) => u64::try_from(x).ok(),
        SampleValue::F64(x) if x >= 0.0 && x.is_finite() => Some(x as u64),
        SampleValue::F64(_) => None,
    }
}

fn policy(p: u32) -> PerformancePolicy {
    match p {
        0 => PerformancePolicy::Power,
        1 => PerformancePolicy::Thermal,
        2 => PerformancePolicy::SyncBoost,
        3 => PerformancePolicy::BoardLimit,
        4 => PerformancePolicy::LowUtilization,
        _ => PerformancePolicy::Reliability,
    }
}

fn error_counter(c: u32) -> ErrorCounter {
    match c {
        0 => ErrorCounter::DlReplay,
        1 => ErrorCounter::DlRecovery,
        2 => ErrorCounter::DlCrcFlit,
        _ => ErrorCounter::DlCrcData,
    }
}

/// PCIe TX and RX throughput of one GPU, as NVML answered.
type PcieThroughput = [Result<u32, NvmlError>; 2];

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
fn pcie_throughputs(nvml: &'static Nvml, count: u32) -> Vec<Option<PcieThroughput>> {
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

/// Instance id of MIG device `mig` of GPU `gpu`.
pub fn mig_instance_id(gpu: u32, mig: u32) -> u32 {
    1000 * (gpu + 1) + mig
}

/// Instance id of process `pid` on GPU `gpu`.
pub fn process_instance_id(pid: u32, gpu: u32) -> u32 {
    (pid.wrapping_mul(64) + (gpu & 63)) & 0x7fff_ffff
}

/// Instance id of NVLink `link` of GPU `gpu`.
pub fn link_instance_id(gpu: u32, link: u32) -> u32 {
    gpu * 64 + link
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

    /// Reads every pending XID event without waiting.
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
    fn sample_with(&mut self, st: &mut State) -> Result<Snapshot, SourceError> {
        let count = st
            .nvml
            .device_count()
            .map_err(|e| SourceError(format!("NVML: nvmlDeviceGetCount_v2 failed: {e}")))?;
        st.drain_events();
        let mut snap = Snapshot::default();
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
        let mut gpus = Vec::new();
        let mut procs = Vec::new();
        let mut links = Vec::new();
        let mut pcie = pcie_throughputs(st.nvml, count).into_iter();
        for index in 0..count {
            let pcie = pcie.next().flatten();
            let mut out = GpuValues {
                inst: index,
                values: Vec::new(),
            };
            let mut insts = Vec::new();
            let mut p = Vec::new();
            let mut l = Vec::new();
            match self.sample_gpu(st, index, pcie, &mut out, &mut insts, &mut p, &mut l) {
                Ok(()) => {
                    if self.lost.remove(&index) {
                        log("Info", &format!("gpu{index}: answering again"));
                    }
                    snap.values.extend(out.values);
                    gpus.extend(insts);
                    procs.extend(p);
                    links.extend(l);
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
        snap.indoms.push(IndomInstances {
            indom_serial: GPUS.serial,
            instances: gpus,
        });
        snap.indoms.push(IndomInstances {
            indom_serial: PROCESSES.serial,
            instances: procs,
        });
        snap.indoms.push(IndomInstances {
            indom_serial: NVLINKS.serial,
            instances: links,
        });
        Ok(snap)
    }

    fn identity(
        warned: &mut HashSet<(u32, &'static str)>,
        index: u32,
        dev: &Device,
    ) -> Result<Ident, Lost> {
        Ok(Ident {
            name: Self::check(warned, index, "nvmlDeviceGetName", dev.name())?,
            uuid: Self::check(warned, index, "nvmlDeviceGetUUID", dev.uuid())?,
            bus_id: Self::check(
                warned,
                index,
                "nvmlDeviceGetPciInfo_v3",
                dev.pci_info().map(|p| p.bus_id),
            )?,
            serial: Self::check(warned, index, "nvmlDeviceGetSerial", dev.serial())?,
            vbios: Self::check(
                warned,
                index,
                "nvmlDeviceGetVbiosVersion",
                dev.vbios_version(),
            )?,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn sample_gpu(
        &mut self,
        st: &mut State,
        index: u32,
        pcie: Option<PcieThroughput>,
        out: &mut GpuValues,
        insts: &mut Vec<Instance>,
        procs: &mut Vec<Instance>,
        links: &mut Vec<Instance>,
    ) -> Result<(), Lost> {
        let w = &mut self.warned;
        let Some(dev) = Self::check(
            w,
            index,
            "nvmlDeviceGetHandleByIndex_v2",
            st.nvml.device_by_index(index),
        )?
        else {
            return Ok(());
        };
        let ident = match st.ident.get(&index) {
            Some(i) => i.clone(),
            None => {
                let i = Self::identity(w, index, &dev)?;
                st.ident.insert(index, i.clone());
                i
            }
        };
        let gname = format!("gpu{index}");
        let mut labels = vec![("index".to_string(), index.to_string())];
        for (k, v) in [
            ("uuid", &ident.uuid),
            ("pci_bus_id", &ident.bus_id),
            ("model", &ident.name),
            ("driver_version", &st.driver_version),
        ] {
            if let Some(v) = v {
                labels.push((k.to_string(), v.clone()));
            }
        }
        insts.push(Instance {
            id: index,
            name: gname.clone(),
            labels,
        });
        let c = CLUSTER_IDENTITY;
        for (item, v) in [
            (I_NAME, &ident.name),
            (I_UUID, &ident.uuid),
            (I_BUS_ID, &ident.bus_id),
            (I_SERIAL, &ident.serial),
            (I_VBIOS, &ident.vbios),
        ] {
            if let Some(v) = v {
                out.put(c, item, Value::Str(v.clone()));
            }
        }
        out.put(c, I_INDEX, Value::U32(index));
        let mig = Self::check(w, index, "nvmlDeviceGetMigMode", dev.mig_mode())?;
        if let Some(m) = &mig {
            out.put(c, I_MIG_MODE, Value::U32(m.current));
        }
        if let Some(ps) = Self::check(
            w,
            index,
            "nvmlDeviceGetPerformanceState",
            dev.performance_state(),
        )? {
            out.put(c, I_PSTATE, Value::U32(ps.as_c()));
        }

        // Utilisation and memory.
        let c = CLUSTER_MEMORY;
        if let Some(u) = Self::check(
            w,
            index,
            "nvmlDeviceGetUtilizationRates",
            dev.utilization_rates(),
        )? {
            out.put(c, M_UTIL_GPU, Value::U32(u.gpu));
            out.put(c, M_UTIL_MEMORY, Value::U32(u.memory));
        }
        if let Some(u) = Self::check(
            w,
            index,
            "nvmlDeviceGetEncoderUtilization",
            dev.encoder_utilization(),
        )? {
            out.put(c, M_UTIL_ENCODER, Value::U32(u.utilization));
        }
        if let Some(u) = Self::check(
            w,
            index,
            "nvmlDeviceGetDecoderUtilization",
            dev.decoder_utilization(),
        )? {
            out.put(c, M_UTIL_DECODER, Value::U32(u.utilization));
        }
        if let Some(m) = Self::check(w, index, "nvmlDeviceGetMemoryInfo_v2", dev.memory_info())? {
            out.put(c, M_FB_TOTAL, Value::U64(m.total));
            out.put(c, M_FB_USED, Value::U64(m.used));
            out.put(c, M_FB_FREE, Value::U64(m.free));
            out.put(c, M_FB_RESERVED, Value::U64(m.reserved));
        }
        if let Some(b) = Self::check(
            w,
            index,
            "nvmlDeviceGetBAR1MemoryInfo",
            dev.bar1_memory_info(),
        )? {
            out.put(c, M_BAR1_TOTAL, Value::U64(b.total));
            out.put(c, M_BAR1_USED, Value::U64(b.used));
        }

        // Clocks, power, temperature.
        let c = CLUSTER_POWER;
        for (item, clock) in [
            (P_CLOCK_SM, Clock::SM),
            (P_CLOCK_MEM, Clock::Memory),
            (P_CLOCK_GRAPHICS, Clock::Graphics),
        ] {
            if let Some(v) = Self::check(w, index, "nvmlDeviceGetClockInfo", dev.clock_info(clock))?
            {
                out.put(c, item, Value::U32(v));
            }
        }
        for (item, clock) in [
            (P_CLOCK_SM_MAX, Clock::SM),
            (P_CLOCK_MEM_MAX, Clock::Memory),
            (P_CLOCK_GRAPHICS_MAX, Clock::Graphics),
        ] {
            if let Some(v) = Self::check(
                w,
                index,
                "nvmlDeviceGetMaxClockInfo",
                dev.max_clock_info(clock),
            )? {
                out.put(c, item, Value::U32(v));
            }
        }
        if let Some(v) = Self::check(w, index, "nvmlDeviceGetPowerUsage", dev.power_usage())? {
            out.put(c, P_POWER, Value::U32(v));
        }
        if let Some(v) = Self::check(
            w,
            index,
            "nvmlDeviceGetEnforcedPowerLimit",
            dev.enforced_power_limit(),
        )? {
            out.put(c, P_POWER_LIMIT, Value::U32(v));
        }
        if let Some(v) = Self::check(
            w,
            index,
            "nvmlDeviceGetTotalEnergyConsumption",
            dev.total_energy_consumption(),
        )? {
            out.put(c, P_ENERGY, Value::U64(v));
        }
        if let Some(v) = Self::check(
            w,
            index,
            "nvmlDeviceGetTemperature",
            dev.temperature(TemperatureSensor::Gpu),
        )? {
            out.put(c, P_TEMP_GPU, Value::U32(v));
        }
        if let Some(v) = Self::check(w, index, "nvmlDeviceGetFanSpeed_v2", dev.fan_speed(0))? {
            out.put(c, P_FAN, Value::U32(v));
        }

        // Throttling.
        let c = CLUSTER_THROTTLE;
        if let Some(r) = Self::check(
            w,
            index,
            "nvmlDeviceGetCurrentClocksThrottleReasons",
            dev.current_throttle_reasons(),
        )? {
            let bits = r.bits();
            out.put(c, T_REASONS, Value::U64(bits));
            for &(item, bit) in T_REASON_BITS {
                out.put(c, item, Value::U32((bits & bit != 0) as u32));
            }
        }
        for &(item, p) in T_VIOLATIONS {
            if let Some(v) = Self::check(
                w,
                index,
                "nvmlDeviceGetViolationStatus",
                dev.violation_status(policy(p)),
            )? {
                out.put(c, item, Value::U64(v.violation_time));
            }
        }

        // PCIe. Throughput was read for all GPUs at once (see pcie_throughputs).
        let c = CLUSTER_PCIE;
        for (item, r) in [X_TX_THROUGHPUT, X_RX_THROUGHPUT]
            .into_iter()
            .zip(pcie.into_iter().flatten())
        {
            if let Some(v) = Self::check(w, index, "nvmlDeviceGetPcieThroughput", r)? {
                out.put(c, item, Value::U32(v));
            }
        }
        if let Some(v) = Self::check(
            w,
            index,
            "nvmlDeviceGetPcieReplayCounter",
            dev.pcie_replay_counter(),
        )? {
            out.put(c, X_REPLAY, Value::U32(v));
        }
        type PcieCall = fn(&Device<'static>) -> Result<u32, NvmlError>;
        let pcie: [(u32, &'static str, PcieCall); 4] = [
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
        for (item, call, f) in pcie {
            if let Some(v) = Self::check(w, index, call, f(&dev))? {
                out.put(c, item, Value::U32(v));
            }
        }

        // Field values: memory temperature, PCIe byte counters, NVLink totals, remapped rows.
        let ids: Vec<FieldId> = FIELDS.iter().map(|f| FieldId(f.0)).collect();
        if let Some(samples) = Self::check(
            w,
            index,
            "nvmlDeviceGetFieldValues",
            dev.field_values_for(&ids),
        )? {
            for (s, &(_, cl, item, fname)) in samples.into_iter().zip(FIELDS) {
                let v = s.and_then(|s| s.value);
                if let Some(v) = Self::check(w, index, fname, v)? {
                    match (cl, sample_to_u64(&v)) {
                        (_, None) => {}
                        (CLUSTER_POWER, Some(x)) | (CLUSTER_RELIABILITY, Some(x))
                            if item == P_TEMP_MEMORY
                                || item == R_REMAP_PENDING
                                || item == R_REMAP_FAILED =>
                        {
                            out.put(cl, item, Value::U32(x as u32))
                        }
                        (_, Some(x)) => out.put(cl, item, Value::U64(x)),
                    }
                }
            }
        }

        // NVLink links, found once per GPU.
        let found = match st.links.get(&index) {
            Some(l) => l.clone(),
            None => {
                let mut found = Vec::new();
                for link in 0..MAX_LINKS {
                    match dev.link_wrapper_for(link).is_active() {
                        Ok(_) => found.push(link),
                        Err(NvmlError::GpuLost) => return Err(Lost),
                        Err(_) => {}
                    }
                }
                st.links.insert(index, found.clone());
                found
            }
        };
        if !found.is_empty() {
            // Per-link throughput: one nvmlDeviceGetFieldValues call with scopeId = link.
            let requests: Vec<(u32, u32)> = found
                .iter()
                .flat_map(|&l| {
                    [
                        (NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, l),
                        (NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX, l),
                    ]
                })
                .collect();
            let mut throughput: Vec<Option<Result<u64, NvmlError>>> = Self::check(
                w,
                index,
                "nvmlDeviceGetFieldValues (scoped)",
                scoped_field_values(&dev, &requests),
            )?
            .map(|v| v.into_iter().map(Some).collect())
            .unwrap_or_default();
            let mut active = 0;
            for (n, link) in found.into_iter().enumerate() {
                let lw = dev.link_wrapper_for(link);
                let id = link_instance_id(index, link);
                let Some(a) = Self::check(w, index, "nvmlDeviceGetNvLinkState", lw.is_active())?
                else {
                    continue;
                };
                active += a as u32;
                links.push(Instance {
                    id,
                    name: format!("{gname}/link{link}"),
                    labels: vec![
                        ("gpu".into(), gname.clone()),
                        ("link".into(), link.to_string()),
                    ],
                });
                out.put_at(CLUSTER_NVLINK, N_LINK_ACTIVE, id, Value::U32(a as u32));
                for (k, (item, fname)) in [
                    (
                        N_LINK_TX_KIB,
                        "NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX (per link)",
                    ),
                    (
                        N_LINK_RX_KIB,
                        "NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX (per link)",
                    ),
                ]
                .into_iter()
                .enumerate()
                {
                    let Some(r) = throughput.get_mut(2 * n + k).and_then(Option::take) else {
                        continue;
                    };
                    if let Some(v) = Self::check(w, index, fname, r)? {
                        out.put_at(CLUSTER_NVLINK, item, id, Value::U64(v));
                    }
                }
                for &(item, counter) in N_LINK_ERRORS {
                    if let Some(v) = Self::check(
                        w,
                        index,
                        "nvmlDeviceGetNvLinkErrorCounter",
                        lw.error_counter(error_counter(counter)),
                    )? {
                        out.put_at(CLUSTER_NVLINK, item, id, Value::U64(v));
                    }
                }
            }
            out.put(CLUSTER_NVLINK, N_LINKS_ACTIVE, Value::U32(active));
        }

        // Reliability.
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
            if let Some(v) = Self::check(
                w,
                index,
                "nvmlDeviceGetTotalEccErrors",
                dev.total_ecc_errors(err, counter),
            )? {
                out.put(c, item, Value::U64(v));
            }
        }
        if let Some(&(count, last)) = st.xid.get(&index) {
            out.put(c, R_XID_COUNT, Value::U64(count));
            out.put(c, R_XID_LAST, Value::U64(last));
        }

        // Processes.
        #[derive(Default)]
        struct Proc {
            mem: Option<u64>,
            compute: bool,
            graphics: bool,
            gpu_instance: Option<u32>,
        }
        let mut by_pid: BTreeMap<u32, Proc> = BTreeMap::new();
        for (graphics, list) in [
            (
                false,
                Self::check(
                    w,
                    index,
                    "nvmlDeviceGetComputeRunningProcesses_v3",
                    dev.running_compute_processes(),
                )?,
            ),
            (
                true,
                Self::check(
                    w,
                    index,
                    "nvmlDeviceGetGraphicsRunningProcesses_v3",
                    dev.running_graphics_processes(),
                )?,
            ),
        ] {
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
        for (pid, proc_) in by_pid {
            let Proc {
                mem,
                compute,
                graphics,
                gpu_instance,
            } = proc_;
            let id = process_instance_id(pid, index);
            let mut labels = vec![
                ("pid".to_string(), pid.to_string()),
                ("gpu".to_string(), gname.clone()),
            ];
            if let Some(gi) = gpu_instance {
                // Under MIG: the GPU instance (not the MIG device index) the process runs in.
                labels.push(("gpu_instance".to_string(), gi.to_string()));
            }
            if let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) {
                labels.push(("command".to_string(), comm.trim().to_string()));
            }
            procs.push(Instance {
                id,
                name: format!("{gname}/pid{pid}"),
                labels,
            });
            let c = CLUSTER_PROCESS;
            if let Some(m) = mem {
                out.put_at(c, PR_MEMORY, id, Value::U64(m));
            }
            out.put_at(c, PR_PID, id, Value::U32(pid));
            out.put_at(c, PR_GPU, id, Value::U32(index));
            let kind = match (compute, graphics) {
                (true, true) => "compute+graphics",
                (false, true) => "graphics",
                _ => "compute",
            };
            out.put_at(c, PR_TYPE, id, Value::Str(kind.into()));
        }

        // GPU performance monitoring: metrics over the interval between this sample and the
        // previous one (none at the first).
        let gpm = match st.gpm_supported.get(&index) {
            Some(&b) => b,
            None => {
                let b = Self::check(w, index, "nvmlGpmQueryDeviceSupport", dev.gpm_support())?
                    .unwrap_or(false);
                st.gpm_supported.insert(index, b);
                b
            }
        };
        if gpm {
            let prev = st.gpm_prev.remove(&index);
            if let Some(cur) = Self::check(w, index, "nvmlGpmSampleGet", dev.gpm_sample())? {
                if let Some(prev) = prev {
                    let ids: Vec<GpmMetricId> = GPM_METRICS.iter().map(|m| m.1).collect();
                    let results = Self::check(
                        w,
                        index,
                        "nvmlGpmMetricsGet",
                        gpm_metrics_get(st.nvml, &prev, &cur, &ids),
                    )?;
                    for (r, &(item, _, name)) in
                        results.unwrap_or_default().into_iter().zip(GPM_METRICS)
                    {
                        if let Some(v) = Self::check(w, index, name, r)?
                            && v.value.is_finite()
                        {
                            out.put(CLUSTER_PROFILE, item, Value::F64(v.value));
                        }
                    }
                }
                st.gpm_prev.insert(index, cur);
            }
        }

        // MIG devices: identity and framebuffer.
        if mig.is_some_and(|m| m.current == 1) {
            let max = Self::check(
                w,
                index,
                "nvmlDeviceGetMaxMigDeviceCount",
                dev.mig_device_count(),
            )?
            .unwrap_or(0);
            for m in 0..max {
                let mdev = match dev.mig_device_by_index(m) {
                    Ok(d) => d,
                    Err(NvmlError::GpuLost) => return Err(Lost),
                    Err(_) => continue, // NOT_FOUND: no MIG device in this slot
                };
                let id = mig_instance_id(index, m);
                let uuid = Self::check(w, index, "nvmlDeviceGetUUID (MIG)", mdev.uuid())?;
                let name = Self::check(w, index, "nvmlDeviceGetName (MIG)", mdev.name())?;
                let mut labels = vec![("parent".to_string(), gname.clone())];
                if let Some(u) = &uuid {
                    labels.push(("uuid".into(), u.clone()));
                    out.put_at(CLUSTER_IDENTITY, I_UUID, id, Value::Str(u.clone()));
                }
                if let Some(n) = &name {
                    labels.push(("model".into(), n.clone()));
                    out.put_at(CLUSTER_IDENTITY, I_NAME, id, Value::Str(n.clone()));
                }
                insts.push(Instance {
                    id,
                    name: format!("{gname}/mig{m}"),
                    labels,
                });
                if let Some(mi) = Self::check(
                    w,
                    index,
                    "nvmlDeviceGetMemoryInfo_v2 (MIG)",
                    mdev.memory_info(),
                )? {
                    let c = CLUSTER_MEMORY;
                    out.put_at(c, M_FB_TOTAL, id, Value::U64(mi.total));
                    out.put_at(c, M_FB_USED, id, Value::U64(mi.used));
                    out.put_at(c, M_FB_FREE, id, Value::U64(mi.free));
                    out.put_at(c, M_FB_RESERVED, id, Value::U64(mi.reserved));
                }
            }
        }
        Ok(())
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

    /// The source never changes GPU state: no nvml-wrapper setter is called (they are the
    /// `set_*`, `clear_*`, `reset_*` methods and `Nvml::discover_gpus`; `Device::remove` is not called either).
    #[test]
    fn the_source_is_read_only() {
        let code = include_str!("mod.rs");
        let code = &code[..code.find("#[cfg(test)]").unwrap()];
        for forbidden in [".set_", ".clear_", ".reset_", ".discover_gpus"] {
            assert!(
                !code.contains(forbidden),
                "the GPU source calls {forbidden}"
            );
        }
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
