//! `llm.gpu.*`: NVIDIA GPUs through NVML (read-only; the agent never changes GPU state).
//!
//! Sampled on the GPU source's own thread (`crates/agent/src/sources/gpu/`), by default every second. Every
//! metric exists whether or not NVML or a GPU is present; without them they have no values and
//! `llm.agent.source.last_error` (instance "gpu") says why.

use super::{Indom, LogGroup, Metric, Section, Semantics, Semantics::*, Type, Type::*};
use pcp::Units;

pub const CLUSTER_IDENTITY: u32 = 10;
pub const CLUSTER_MEMORY: u32 = 11;
pub const CLUSTER_POWER: u32 = 12;
pub const CLUSTER_THROTTLE: u32 = 13;
pub const CLUSTER_PCIE: u32 = 14;
pub const CLUSTER_NVLINK: u32 = 15;
pub const CLUSTER_RELIABILITY: u32 = 16;
pub const CLUSTER_PROCESS: u32 = 17;
pub const CLUSTER_PROFILE: u32 = 18;

pub static GPUS: Indom = Indom {
    serial: 10,
    name: "gpus",
    oneline: "NVIDIA GPUs and MIG instances, by NVML index",
    help: "One instance per GPU NVML reports, named gpuN after its NVML index (instance id N), \
with the instance labels uuid, pci_bus_id, model, driver_version and index. A GPU in MIG mode \
also has one instance per MIG device, named gpuN/migM (instance id 1000*(N+1)+M), labelled \
with parent (the parent's instance name), uuid and model; most per-GPU values are reported on \
the parent only (NVML answers them for full GPUs), MIG instances have identity and framebuffer \
values. A GPU that falls off the bus (NVML_ERROR_GPU_IS_LOST) leaves the domain.",
};

pub static PROCESSES: Indom = Indom {
    serial: 11,
    name: "gpu_processes",
    oneline: "processes using an NVIDIA GPU (process x GPU)",
    help: "One instance per process and GPU it uses, named gpuN/pidP, instance id P*64+N, from \
nvmlDeviceGetComputeRunningProcesses_v3 and nvmlDeviceGetGraphicsRunningProcesses_v3. \
Instances disappear when the process stops using the GPU or exits. Labels: pid, gpu, command \
(from /proc/P/comm when readable) and, under MIG, gpu_instance (NVML's GPU instance id).",
};

pub static NVLINKS: Indom = Indom {
    serial: 12,
    name: "gpu_nvlinks",
    oneline: "NVLink links of NVIDIA GPUs",
    help: "One instance per NVLink link NVML reports for a GPU, named gpuN/linkL, instance id \
N*64+L. Links are discovered when NVML is initialised: a link exists when \
nvmlDeviceGetNvLinkState answers for it. GPUs without NVLink contribute no instances.",
};

pub static SECTION: Section = Section {
    metrics: METRICS,
    indoms: &[&GPUS, &PROCESSES, &NVLINKS],
    groups: &[LogGroup {
        file: "gpu",
        ident: "llm NVIDIA GPU metrics from NVML (utilisation, memory, power, clocks, errors)",
        probe: "llm.gpu.count",
        probe_kind: "> 0",
        interval: "1 second",
        metrics: &["llm.gpu"],
    }],
};

/// Milli-units: PCP has no dimension for power or energy, so energy (mJ) and power (mW) are
/// declared as "count x 10^-3" with the joule (energy) or watt (power) as the count. `pmrep -q
/// count` rescales them, and the rate of the energy counter, to watts.
pub const MILLI: Units = Units::new(0, 0, 1, 0, 0, -3);

// Identity (cluster 10).
pub const I_COUNT: u32 = 0;
pub const I_DRIVER_VERSION: u32 = 1;
pub const I_NVML_VERSION: u32 = 2;
pub const I_CUDA_DRIVER_VERSION: u32 = 3;
pub const I_NAME: u32 = 4;
pub const I_UUID: u32 = 5;
pub const I_BUS_ID: u32 = 6;
pub const I_SERIAL: u32 = 7;
pub const I_VBIOS: u32 = 8;
pub const I_INDEX: u32 = 9;
pub const I_MIG_MODE: u32 = 10;
pub const I_PSTATE: u32 = 11;
// Utilisation and memory (cluster 11).
pub const M_UTIL_GPU: u32 = 0;
pub const M_UTIL_MEMORY: u32 = 1;
pub const M_UTIL_ENCODER: u32 = 2;
pub const M_UTIL_DECODER: u32 = 3;
pub const M_FB_TOTAL: u32 = 4;
pub const M_FB_USED: u32 = 5;
pub const M_FB_FREE: u32 = 6;
pub const M_FB_RESERVED: u32 = 7;
pub const M_BAR1_TOTAL: u32 = 8;
pub const M_BAR1_USED: u32 = 9;
// Clocks, power, temperature (cluster 12).
pub const P_CLOCK_SM: u32 = 0;
pub const P_CLOCK_MEM: u32 = 1;
pub const P_CLOCK_GRAPHICS: u32 = 2;
pub const P_CLOCK_SM_MAX: u32 = 3;
pub const P_CLOCK_MEM_MAX: u32 = 4;
pub const P_CLOCK_GRAPHICS_MAX: u32 = 5;
pub const P_POWER: u32 = 6;
pub const P_POWER_LIMIT: u32 = 7;
pub const P_ENERGY: u32 = 8;
pub const P_TEMP_GPU: u32 = 9;
pub const P_TEMP_MEMORY: u32 = 10;
pub const P_FAN: u32 = 11;
// Throttling (cluster 13).
pub const T_REASONS: u32 = 0;
/// Per-reason 0/1 metrics: (item, NVML clock event reason bit).
pub const T_REASON_BITS: &[(u32, u64)] = &[
    (1, 0x1),
    (2, 0x2),
    (3, 0x4),
    (4, 0x8),
    (5, 0x10),
    (6, 0x20),
    (7, 0x40),
    (8, 0x80),
    (9, 0x100),
];
/// Violation counters: (item, NVML perf policy).
pub const T_VIOLATIONS: &[(u32, u32)] = &[(20, 0), (21, 1), (22, 2), (23, 3), (24, 4), (25, 5)];
// PCIe (cluster 14).
pub const X_TX_THROUGHPUT: u32 = 0;
pub const X_RX_THROUGHPUT: u32 = 1;
pub const X_TX_BYTES: u32 = 2;
pub const X_RX_BYTES: u32 = 3;
pub const X_REPLAY: u32 = 4;
pub const X_LINK_GEN: u32 = 5;
pub const X_LINK_GEN_MAX: u32 = 6;
pub const X_LINK_WIDTH: u32 = 7;
pub const X_LINK_WIDTH_MAX: u32 = 8;
// NVLink (cluster 15).
pub const N_TX_KIB: u32 = 0;
pub const N_RX_KIB: u32 = 1;
pub const N_LINKS_ACTIVE: u32 = 2;
pub const N_LINK_ACTIVE: u32 = 3;
/// Per-link error counters: (item, nvmlNvLinkErrorCounter_t).
pub const N_LINK_ERRORS: &[(u32, u32)] = &[(4, 0), (5, 1), (6, 2), (7, 3)];
pub const N_LINK_TX_KIB: u32 = 8;
pub const N_LINK_RX_KIB: u32 = 9;
// Reliability (cluster 16).
pub const R_ECC_CORR_VOL: u32 = 0;
pub const R_ECC_CORR_AGG: u32 = 1;
pub const R_ECC_UNCORR_VOL: u32 = 2;
pub const R_ECC_UNCORR_AGG: u32 = 3;
pub const R_REMAP_CORR: u32 = 4;
pub const R_REMAP_UNCORR: u32 = 5;
pub const R_REMAP_PENDING: u32 = 6;
pub const R_REMAP_FAILED: u32 = 7;
pub const R_XID_COUNT: u32 = 8;
pub const R_XID_LAST: u32 = 9;
// Processes (cluster 17).
pub const PR_MEMORY: u32 = 0;
pub const PR_PID: u32 = 1;
pub const PR_GPU: u32 = 2;
pub const PR_TYPE: u32 = 3;
// GPU performance monitoring (cluster 18): (item, NVML GPM metric id). The wrapper's enum is
// mapped in the source.
pub const GPM_SM_ACTIVE: u32 = 0;
pub const GPM_SM_OCCUPANCY: u32 = 1;
pub const GPM_GRAPHICS_ACTIVE: u32 = 2;
pub const GPM_TENSOR_ACTIVE: u32 = 3;
pub const GPM_DRAM_ACTIVE: u32 = 4;
pub const GPM_FP64_ACTIVE: u32 = 5;
pub const GPM_FP32_ACTIVE: u32 = 6;
pub const GPM_FP16_ACTIVE: u32 = 7;
pub const GPM_INTEGER_ACTIVE: u32 = 8;
pub const GPM_PCIE_TX: u32 = 9;
pub const GPM_PCIE_RX: u32 = 10;

#[allow(clippy::too_many_arguments)]
const fn m(
    name: &'static str,
    cluster: u32,
    item: u32,
    ty: Type,
    sem: Semantics,
    units: Units,
    indom: Option<&'static Indom>,
    oneline: &'static str,
    help: &'static str,
) -> Metric {
    Metric {
        name,
        cluster,
        item,
        ty,
        sem,
        units,
        indom,
        oneline,
        help,
    }
}

const G: Option<&'static Indom> = Some(&GPUS);
const L: Option<&'static Indom> = Some(&NVLINKS);
const P: Option<&'static Indom> = Some(&PROCESSES);
const NONE: Units = Units::NONE;
const MBYTES_PER_SEC: Units = Units::new(1, -1, 0, pcp::SPACE_MBYTE, pcp::TIME_SEC, 0);

const METRICS: &[Metric] = &[
    // ---- identity
    m(
        "llm.gpu.count",
        CLUSTER_IDENTITY,
        I_COUNT,
        U32,
        Instant,
        Units::COUNT,
        None,
        "number of GPUs NVML reports",
        "Number of GPUs, from nvmlDeviceGetCount_v2. Has no value when NVML cannot be \
initialised (no library, no driver): see llm.agent.source.last_error for the gpu source.",
    ),
    m(
        "llm.gpu.driver_version",
        CLUSTER_IDENTITY,
        I_DRIVER_VERSION,
        String,
        Discrete,
        NONE,
        None,
        "NVIDIA driver version",
        "Version of the NVIDIA kernel driver, from nvmlSystemGetDriverVersion.",
    ),
    m(
        "llm.gpu.nvml_version",
        CLUSTER_IDENTITY,
        I_NVML_VERSION,
        String,
        Discrete,
        NONE,
        None,
        "NVML library version",
        "Version of the NVML library in use, from nvmlSystemGetNVMLVersion.",
    ),
    m(
        "llm.gpu.cuda_driver_version",
        CLUSTER_IDENTITY,
        I_CUDA_DRIVER_VERSION,
        String,
        Discrete,
        NONE,
        None,
        "CUDA version supported by the driver (major.minor)",
        "The CUDA driver API version the installed driver supports, as major.minor, from \
nvmlSystemGetCudaDriverVersion_v2 (which returns 1000*major + 10*minor).",
    ),
    m(
        "llm.gpu.name",
        CLUSTER_IDENTITY,
        I_NAME,
        String,
        Discrete,
        NONE,
        G,
        "product name of the GPU",
        "Product name, e.g. \"NVIDIA H100 80GB HBM3\", from nvmlDeviceGetName (also answered for \
MIG instances). Also the instance label model.",
    ),
    m(
        "llm.gpu.uuid",
        CLUSTER_IDENTITY,
        I_UUID,
        String,
        Discrete,
        NONE,
        G,
        "globally unique identifier of the GPU or MIG instance",
        "UUID of the GPU (GPU-...) or MIG device (MIG-...), from nvmlDeviceGetUUID. Also the \
instance label uuid.",
    ),
    m(
        "llm.gpu.pci_bus_id",
        CLUSTER_IDENTITY,
        I_BUS_ID,
        String,
        Discrete,
        NONE,
        G,
        "PCI bus id of the GPU (domain:bus:device.function)",
        "PCI bus id, e.g. 00000000:17:00.0, from nvmlDeviceGetPciInfo_v3 (busId). Also the \
instance label pci_bus_id.",
    ),
    m(
        "llm.gpu.serial",
        CLUSTER_IDENTITY,
        I_SERIAL,
        String,
        Discrete,
        NONE,
        G,
        "board serial number",
        "Serial number printed on the board, from nvmlDeviceGetSerial. No value on boards \
without an infoROM serial (NVML_ERROR_NOT_SUPPORTED).",
    ),
    m(
        "llm.gpu.vbios_version",
        CLUSTER_IDENTITY,
        I_VBIOS,
        String,
        Discrete,
        NONE,
        G,
        "VBIOS version of the GPU",
        "Version of the GPU's video BIOS, from nvmlDeviceGetVbiosVersion.",
    ),
    m(
        "llm.gpu.index",
        CLUSTER_IDENTITY,
        I_INDEX,
        U32,
        Discrete,
        NONE,
        G,
        "NVML index of the GPU",
        "The GPU's NVML index, from nvmlDeviceGetIndex; it is also the instance id and the \
number in the instance name gpuN. Note that NVML enumerates in PCI bus order, which can \
differ from CUDA_VISIBLE_DEVICES order.",
    ),
    m(
        "llm.gpu.mig_mode",
        CLUSTER_IDENTITY,
        I_MIG_MODE,
        U32,
        Discrete,
        NONE,
        G,
        "1 if MIG mode is enabled on the GPU, else 0",
        "Current Multi-Instance GPU mode, from nvmlDeviceGetMigMode (current mode, not the \
pending one). No value on GPUs without MIG support.",
    ),
    m(
        "llm.gpu.pstate",
        CLUSTER_IDENTITY,
        I_PSTATE,
        U32,
        Instant,
        NONE,
        G,
        "current performance state (0 = P0, fastest, to 15)",
        "Current performance state, from nvmlDeviceGetPerformanceState: 0 for P0 (maximum \
performance) to 15 (minimum); 32 means unknown.",
    ),
    // ---- utilisation and memory
    m(
        "llm.gpu.util.gpu",
        CLUSTER_MEMORY,
        M_UTIL_GPU,
        U32,
        Instant,
        NONE,
        G,
        "percent of time a kernel was executing on the GPU",
        "Percent of the past sample period (1/6 s to 1 s, set by the driver) during which one or \
more kernels was executing on the GPU, from nvmlDeviceGetUtilizationRates (gpu). It is not \
SM occupancy: one small kernel keeps it at 100.",
    ),
    m(
        "llm.gpu.util.memory",
        CLUSTER_MEMORY,
        M_UTIL_MEMORY,
        U32,
        Instant,
        NONE,
        G,
        "percent of time device memory was being read or written",
        "Percent of the past sample period during which device memory was being read or \
written (memory controller activity), from nvmlDeviceGetUtilizationRates (memory).",
    ),
    m(
        "llm.gpu.util.encoder",
        CLUSTER_MEMORY,
        M_UTIL_ENCODER,
        U32,
        Instant,
        NONE,
        G,
        "video encoder utilisation, percent",
        "Utilisation of the video encoder in percent, from nvmlDeviceGetEncoderUtilization.",
    ),
    m(
        "llm.gpu.util.decoder",
        CLUSTER_MEMORY,
        M_UTIL_DECODER,
        U32,
        Instant,
        NONE,
        G,
        "video decoder utilisation, percent",
        "Utilisation of the video decoder in percent, from nvmlDeviceGetDecoderUtilization.",
    ),
    m(
        "llm.gpu.fb.total",
        CLUSTER_MEMORY,
        M_FB_TOTAL,
        U64,
        Discrete,
        Units::BYTES,
        G,
        "total framebuffer (device) memory",
        "Total installed device memory in bytes, from nvmlDeviceGetMemoryInfo_v2 (total). For a \
MIG instance, the memory of that instance.",
    ),
    m(
        "llm.gpu.fb.used",
        CLUSTER_MEMORY,
        M_FB_USED,
        U64,
        Instant,
        Units::BYTES,
        G,
        "device memory allocated by processes and the driver",
        "Allocated device memory in bytes, from nvmlDeviceGetMemoryInfo_v2 (used). The v2 query \
counts memory reserved by the driver and firmware separately (llm.gpu.fb.reserved), so used \
+ free + reserved = total.",
    ),
    m(
        "llm.gpu.fb.free",
        CLUSTER_MEMORY,
        M_FB_FREE,
        U64,
        Instant,
        Units::BYTES,
        G,
        "unallocated device memory",
        "Unallocated device memory in bytes, from nvmlDeviceGetMemoryInfo_v2 (free).",
    ),
    m(
        "llm.gpu.fb.reserved",
        CLUSTER_MEMORY,
        M_FB_RESERVED,
        U64,
        Instant,
        Units::BYTES,
        G,
        "device memory reserved by the driver and firmware",
        "Device memory reserved for system use (driver, firmware), in bytes, from \
nvmlDeviceGetMemoryInfo_v2 (reserved).",
    ),
    m(
        "llm.gpu.bar1.total",
        CLUSTER_MEMORY,
        M_BAR1_TOTAL,
        U64,
        Discrete,
        Units::BYTES,
        G,
        "total BAR1 memory",
        "Size of the BAR1 aperture (device memory the CPU and peers can map), in bytes, from \
nvmlDeviceGetBAR1MemoryInfo (bar1Total).",
    ),
    m(
        "llm.gpu.bar1.used",
        CLUSTER_MEMORY,
        M_BAR1_USED,
        U64,
        Instant,
        Units::BYTES,
        G,
        "BAR1 memory in use",
        "BAR1 memory in use, in bytes, from nvmlDeviceGetBAR1MemoryInfo (bar1Used).",
    ),
    // ---- clocks, power, temperature
    m(
        "llm.gpu.clock.sm",
        CLUSTER_POWER,
        P_CLOCK_SM,
        U32,
        Instant,
        NONE,
        G,
        "current SM clock, MHz",
        "Current streaming multiprocessor clock in MHz, from nvmlDeviceGetClockInfo \
(NVML_CLOCK_SM).",
    ),
    m(
        "llm.gpu.clock.mem",
        CLUSTER_POWER,
        P_CLOCK_MEM,
        U32,
        Instant,
        NONE,
        G,
        "current memory clock, MHz",
        "Current memory clock in MHz, from nvmlDeviceGetClockInfo (NVML_CLOCK_MEM).",
    ),
    m(
        "llm.gpu.clock.graphics",
        CLUSTER_POWER,
        P_CLOCK_GRAPHICS,
        U32,
        Instant,
        NONE,
        G,
        "current graphics clock, MHz",
        "Current graphics clock in MHz, from nvmlDeviceGetClockInfo (NVML_CLOCK_GRAPHICS).",
    ),
    m(
        "llm.gpu.clock.sm_max",
        CLUSTER_POWER,
        P_CLOCK_SM_MAX,
        U32,
        Discrete,
        NONE,
        G,
        "maximum SM clock, MHz",
        "Maximum streaming multiprocessor clock in MHz, from nvmlDeviceGetMaxClockInfo \
(NVML_CLOCK_SM).",
    ),
    m(
        "llm.gpu.clock.mem_max",
        CLUSTER_POWER,
        P_CLOCK_MEM_MAX,
        U32,
        Discrete,
        NONE,
        G,
        "maximum memory clock, MHz",
        "Maximum memory clock in MHz, from nvmlDeviceGetMaxClockInfo (NVML_CLOCK_MEM).",
    ),
    m(
        "llm.gpu.clock.graphics_max",
        CLUSTER_POWER,
        P_CLOCK_GRAPHICS_MAX,
        U32,
        Discrete,
        NONE,
        G,
        "maximum graphics clock, MHz",
        "Maximum graphics clock in MHz, from nvmlDeviceGetMaxClockInfo (NVML_CLOCK_GRAPHICS).",
    ),
    m(
        "llm.gpu.power.usage",
        CLUSTER_POWER,
        P_POWER,
        U32,
        Instant,
        MILLI,
        G,
        "power draw in milliwatts",
        "Power drawn by the board in milliwatts, from nvmlDeviceGetPowerUsage (averaged by the \
driver over about a second on recent GPUs). PCP has no power dimension: the units are \
\"count x 10^-3\" with the watt as the count, so `pmrep -q count llm.gpu.power.usage` shows \
watts.",
    ),
    m(
        "llm.gpu.power.limit",
        CLUSTER_POWER,
        P_POWER_LIMIT,
        U32,
        Discrete,
        MILLI,
        G,
        "enforced power limit in milliwatts",
        "The power limit the driver enforces, in milliwatts, from \
nvmlDeviceGetEnforcedPowerLimit. Units as for llm.gpu.power.usage.",
    ),
    m(
        "llm.gpu.energy",
        CLUSTER_POWER,
        P_ENERGY,
        U64,
        Counter,
        MILLI,
        G,
        "energy consumed since the driver was loaded, millijoules (a counter)",
        "Total energy consumed by the GPU in millijoules since the driver was last loaded, \
from nvmlDeviceGetTotalEnergyConsumption (Volta and newer). It is a COUNTER: its rate is the \
average power over the interval, unlike llm.gpu.power.usage which is a momentary reading. \
PCP has no energy dimension, so the units are \"count x 10^-3\" with the joule as the count: \
the rate is in 10^-3 count/s, i.e. milliwatts, and `pmrep -q count llm.gpu.energy` (or \
pmval -r off and pmrep's default rate conversion with -q count) shows watts.",
    ),
    m(
        "llm.gpu.temperature.gpu",
        CLUSTER_POWER,
        P_TEMP_GPU,
        U32,
        Instant,
        NONE,
        G,
        "GPU die temperature, degrees Celsius",
        "Temperature of the GPU die in degrees Celsius, from nvmlDeviceGetTemperature \
(NVML_TEMPERATURE_GPU).",
    ),
    m(
        "llm.gpu.temperature.memory",
        CLUSTER_POWER,
        P_TEMP_MEMORY,
        U32,
        Instant,
        NONE,
        G,
        "memory (HBM) temperature, degrees Celsius",
        "Temperature of the device memory in degrees Celsius, from nvmlDeviceGetFieldValues \
(NVML_FI_DEV_MEMORY_TEMP); HBM GPUs only.",
    ),
    m(
        "llm.gpu.fan",
        CLUSTER_POWER,
        P_FAN,
        U32,
        Instant,
        NONE,
        G,
        "intended fan speed of fan 0, percent",
        "Intended speed of the GPU's first fan as a percentage of its maximum, from \
nvmlDeviceGetFanSpeed_v2 (fan 0). No value on passively cooled boards (most data-centre GPUs).",
    ),
    // ---- throttling
    m(
        "llm.gpu.throttle.reasons",
        CLUSTER_THROTTLE,
        T_REASONS,
        U64,
        Instant,
        NONE,
        G,
        "bitmask of current clock event (throttle) reasons",
        "The reasons clocks are currently held below their maximum, as NVML's bitmask, from \
nvmlDeviceGetCurrentClocksThrottleReasons (nvmlDeviceGetCurrentClocksEventReasons): \
0x1 GPU idle, 0x2 applications clocks setting, 0x4 SW power cap, 0x8 HW slowdown, 0x10 sync \
boost, 0x20 SW thermal slowdown, 0x40 HW thermal slowdown, 0x80 HW power brake, 0x100 display \
clock setting. Each bit is also a 0/1 metric under llm.gpu.throttle.",
    ),
    m(
        "llm.gpu.throttle.gpu_idle",
        CLUSTER_THROTTLE,
        1,
        U32,
        Instant,
        NONE,
        G,
        "1 if clocks are low because the GPU is idle",
        "Bit 0x1 (nvmlClocksThrottleReasonGpuIdle) of nvmlDeviceGetCurrentClocksThrottleReasons.",
    ),
    m(
        "llm.gpu.throttle.applications_clocks",
        CLUSTER_THROTTLE,
        2,
        U32,
        Instant,
        NONE,
        G,
        "1 if clocks are limited by the applications clocks setting",
        "Bit 0x2 (nvmlClocksThrottleReasonApplicationsClocksSetting) of \
nvmlDeviceGetCurrentClocksThrottleReasons.",
    ),
    m(
        "llm.gpu.throttle.sw_power_cap",
        CLUSTER_THROTTLE,
        3,
        U32,
        Instant,
        NONE,
        G,
        "1 if clocks are limited by the software power cap",
        "Bit 0x4 (nvmlClocksThrottleReasonSwPowerCap) of \
nvmlDeviceGetCurrentClocksThrottleReasons: the power draw reached the power limit.",
    ),
    m(
        "llm.gpu.throttle.hw_slowdown",
        CLUSTER_THROTTLE,
        4,
        U32,
        Instant,
        NONE,
        G,
        "1 if hardware slowdown is active",
        "Bit 0x8 (nvmlClocksThrottleReasonHwSlowdown) of \
nvmlDeviceGetCurrentClocksThrottleReasons: clocks cut by a factor of two or more (thermal, \
power brake or power supply).",
    ),
    m(
        "llm.gpu.throttle.sync_boost",
        CLUSTER_THROTTLE,
        5,
        U32,
        Instant,
        NONE,
        G,
        "1 if clocks are limited by sync boost",
        "Bit 0x10 (nvmlClocksThrottleReasonSyncBoost) of \
nvmlDeviceGetCurrentClocksThrottleReasons.",
    ),
    m(
        "llm.gpu.throttle.sw_thermal",
        CLUSTER_THROTTLE,
        6,
        U32,
        Instant,
        NONE,
        G,
        "1 if clocks are limited by software thermal slowdown",
        "Bit 0x20 (nvmlClocksThrottleReasonSwThermalSlowdown) of \
nvmlDeviceGetCurrentClocksThrottleReasons.",
    ),
    m(
        "llm.gpu.throttle.hw_thermal",
        CLUSTER_THROTTLE,
        7,
        U32,
        Instant,
        NONE,
        G,
        "1 if hardware thermal slowdown is active",
        "Bit 0x40 (nvmlClocksThrottleReasonHwThermalSlowdown) of \
nvmlDeviceGetCurrentClocksThrottleReasons.",
    ),
    m(
        "llm.gpu.throttle.hw_power_brake",
        CLUSTER_THROTTLE,
        8,
        U32,
        Instant,
        NONE,
        G,
        "1 if the hardware power brake is active",
        "Bit 0x80 (nvmlClocksThrottleReasonHwPowerBrakeSlowdown) of \
nvmlDeviceGetCurrentClocksThrottleReasons.",
    ),
    m(
        "llm.gpu.throttle.display_clocks",
        CLUSTER_THROTTLE,
        9,
        U32,
        Instant,
        NONE,
        G,
        "1 if clocks are limited by the display clock setting",
        "Bit 0x100 (nvmlClocksThrottleReasonDisplayClockSetting) of \
nvmlDeviceGetCurrentClocksThrottleReasons.",
    ),
    m(
        "llm.gpu.violation.power",
        CLUSTER_THROTTLE,
        20,
        U64,
        Counter,
        Units::NSEC,
        G,
        "time clocks were held down by the power limit",
        "Cumulative time the GPU was held below its clocks by the power policy, in nanoseconds, \
from nvmlDeviceGetViolationStatus (NVML_PERF_POLICY_POWER). Its rate is the fraction of \
time throttled.",
    ),
    m(
        "llm.gpu.violation.thermal",
        CLUSTER_THROTTLE,
        21,
        U64,
        Counter,
        Units::NSEC,
        G,
        "time clocks were held down by thermal limits",
        "Cumulative thermal violation time in nanoseconds, from nvmlDeviceGetViolationStatus \
(NVML_PERF_POLICY_THERMAL).",
    ),
    m(
        "llm.gpu.violation.sync_boost",
        CLUSTER_THROTTLE,
        22,
        U64,
        Counter,
        Units::NSEC,
        G,
        "time clocks were held down by sync boost",
        "Cumulative sync boost violation time in nanoseconds, from nvmlDeviceGetViolationStatus \
(NVML_PERF_POLICY_SYNC_BOOST).",
    ),
    m(
        "llm.gpu.violation.board_limit",
        CLUSTER_THROTTLE,
        23,
        U64,
        Counter,
        Units::NSEC,
        G,
        "time clocks were held down by the board limit",
        "Cumulative board limit violation time in nanoseconds, from \
nvmlDeviceGetViolationStatus (NVML_PERF_POLICY_BOARD_LIMIT).",
    ),
    m(
        "llm.gpu.violation.low_utilization",
        CLUSTER_THROTTLE,
        24,
        U64,
        Counter,
        Units::NSEC,
        G,
        "time clocks were held down for low utilisation",
        "Cumulative low utilisation violation time in nanoseconds, from \
nvmlDeviceGetViolationStatus (NVML_PERF_POLICY_LOW_UTILIZATION).",
    ),
    m(
        "llm.gpu.violation.reliability",
        CLUSTER_THROTTLE,
        25,
        U64,
        Counter,
        Units::NSEC,
        G,
        "time clocks were held down by board reliability limits",
        "Cumulative reliability violation time in nanoseconds, from \
nvmlDeviceGetViolationStatus (NVML_PERF_POLICY_RELIABILITY).",
    ),
    // ---- PCIe
    m(
        "llm.gpu.pcie.tx_throughput",
        CLUSTER_PCIE,
        X_TX_THROUGHPUT,
        U32,
        Instant,
        Units::KBYTES_PER_SEC,
        G,
        "PCIe transmit throughput over NVML's 20 ms window",
        "PCIe bytes transmitted by the GPU, in KB/s, measured by NVML over a 20 ms window, from \
nvmlDeviceGetPcieThroughput (NVML_PCIE_UTIL_TX_BYTES). The call blocks about 20 ms per GPU and \
direction, so one thread of the GPU source measures all GPUs in the background, and each GPU \
sample reports what it measured since the sample before (no value while a measurement is still \
under way, or the call hangs). A sample of 20 ms in each interval: prefer llm.gpu.pcie.tx_bytes \
where it has values.",
    ),
    m(
        "llm.gpu.pcie.rx_throughput",
        CLUSTER_PCIE,
        X_RX_THROUGHPUT,
        U32,
        Instant,
        Units::KBYTES_PER_SEC,
        G,
        "PCIe receive throughput over NVML's 20 ms window",
        "PCIe bytes received by the GPU, in KB/s, over a 20 ms window, from \
nvmlDeviceGetPcieThroughput (NVML_PCIE_UTIL_RX_BYTES), measured in the background as \
llm.gpu.pcie.tx_throughput is.",
    ),
    m(
        "llm.gpu.pcie.tx_bytes",
        CLUSTER_PCIE,
        X_TX_BYTES,
        U64,
        Counter,
        Units::BYTES,
        G,
        "PCIe bytes transmitted (counter)",
        "Bytes transmitted over PCIe by the GPU, from nvmlDeviceGetFieldValues \
(NVML_FI_DEV_PCIE_COUNT_TX_BYTES). A counter: rate-convert it for throughput over the whole \
interval. No value where the driver does not provide the field.",
    ),
    m(
        "llm.gpu.pcie.rx_bytes",
        CLUSTER_PCIE,
        X_RX_BYTES,
        U64,
        Counter,
        Units::BYTES,
        G,
        "PCIe bytes received (counter)",
        "Bytes received over PCIe by the GPU, from nvmlDeviceGetFieldValues \
(NVML_FI_DEV_PCIE_COUNT_RX_BYTES).",
    ),
    m(
        "llm.gpu.pcie.replay",
        CLUSTER_PCIE,
        X_REPLAY,
        U32,
        Counter,
        Units::COUNT,
        G,
        "PCIe replays (retransmissions)",
        "Number of PCIe replays (link-level retransmissions after errors), from \
nvmlDeviceGetPcieReplayCounter. A rising rate points at a marginal link or riser.",
    ),
    m(
        "llm.gpu.pcie.link_gen",
        CLUSTER_PCIE,
        X_LINK_GEN,
        U32,
        Instant,
        NONE,
        G,
        "current PCIe link generation",
        "Current PCIe link generation, from nvmlDeviceGetCurrPcieLinkGeneration (idle GPUs \
may train down to a lower generation).",
    ),
    m(
        "llm.gpu.pcie.link_gen_max",
        CLUSTER_PCIE,
        X_LINK_GEN_MAX,
        U32,
        Discrete,
        NONE,
        G,
        "maximum PCIe link generation",
        "Maximum PCIe link generation of the GPU and system, from \
nvmlDeviceGetMaxPcieLinkGeneration.",
    ),
    m(
        "llm.gpu.pcie.link_width",
        CLUSTER_PCIE,
        X_LINK_WIDTH,
        U32,
        Instant,
        NONE,
        G,
        "current PCIe link width (lanes)",
        "Current PCIe link width in lanes, from nvmlDeviceGetCurrPcieLinkWidth.",
    ),
    m(
        "llm.gpu.pcie.link_width_max",
        CLUSTER_PCIE,
        X_LINK_WIDTH_MAX,
        U32,
        Discrete,
        NONE,
        G,
        "maximum PCIe link width (lanes)",
        "Maximum PCIe link width in lanes, from nvmlDeviceGetMaxPcieLinkWidth.",
    ),
    // ---- NVLink
    m(
        "llm.gpu.nvlink.tx",
        CLUSTER_NVLINK,
        N_TX_KIB,
        U64,
        Counter,
        Units::KBYTES,
        G,
        "NVLink data transmitted, all links (counter)",
        "NVLink data transmitted by the GPU over all links, in KiB, from \
nvmlDeviceGetFieldValues (NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX) with scopeId 0, as \
nvml-wrapper 0.13 sends it. NVML documents scopeId as the link for NVLink fields, so scope 0 \
is also link 0 (llm.gpu.nvlink.link.tx of gpuN/link0 is read the same way); common practice \
reads scope 0 as the GPU's total, which was not verified on hardware here. Per-link values: \
llm.gpu.nvlink.link.tx. No value on GPUs without NVLink.",
    ),
    m(
        "llm.gpu.nvlink.rx",
        CLUSTER_NVLINK,
        N_RX_KIB,
        U64,
        Counter,
        Units::KBYTES,
        G,
        "NVLink data received, all links (counter)",
        "NVLink data received by the GPU over all links, in KiB, from nvmlDeviceGetFieldValues \
(NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX) with scopeId 0; see llm.gpu.nvlink.tx. Per-link \
values: llm.gpu.nvlink.link.rx.",
    ),
    m(
        "llm.gpu.nvlink.links_active",
        CLUSTER_NVLINK,
        N_LINKS_ACTIVE,
        U32,
        Instant,
        Units::COUNT,
        G,
        "number of active NVLink links",
        "Number of the GPU's NVLink links that nvmlDeviceGetNvLinkState reports active; no value \
on GPUs without NVLink.",
    ),
    m(
        "llm.gpu.nvlink.link.active",
        CLUSTER_NVLINK,
        N_LINK_ACTIVE,
        U32,
        Instant,
        NONE,
        L,
        "1 if the NVLink link is active",
        "State of the link, from nvmlDeviceGetNvLinkState: 1 active, 0 inactive.",
    ),
    m(
        "llm.gpu.nvlink.link.replay_errors",
        CLUSTER_NVLINK,
        4,
        U64,
        Counter,
        Units::COUNT,
        L,
        "NVLink data link replay errors",
        "Data link transmit replay errors of the link, from nvmlDeviceGetNvLinkErrorCounter \
(NVML_NVLINK_ERROR_DL_REPLAY).",
    ),
    m(
        "llm.gpu.nvlink.link.recovery_errors",
        CLUSTER_NVLINK,
        5,
        U64,
        Counter,
        Units::COUNT,
        L,
        "NVLink data link recovery errors",
        "Data link transmit recovery errors of the link, from nvmlDeviceGetNvLinkErrorCounter \
(NVML_NVLINK_ERROR_DL_RECOVERY).",
    ),
    m(
        "llm.gpu.nvlink.link.crc_flit_errors",
        CLUSTER_NVLINK,
        6,
        U64,
        Counter,
        Units::COUNT,
        L,
        "NVLink flow control digit CRC errors",
        "Data link receive flow control digit CRC errors of the link, from \
nvmlDeviceGetNvLinkErrorCounter (NVML_NVLINK_ERROR_DL_CRC_FLIT).",
    ),
    m(
        "llm.gpu.nvlink.link.crc_data_errors",
        CLUSTER_NVLINK,
        7,
        U64,
        Counter,
        Units::COUNT,
        L,
        "NVLink data CRC errors",
        "Data link receive data CRC errors of the link, from nvmlDeviceGetNvLinkErrorCounter \
(NVML_NVLINK_ERROR_DL_CRC_DATA).",
    ),
    m(
        "llm.gpu.nvlink.link.tx",
        CLUSTER_NVLINK,
        N_LINK_TX_KIB,
        U64,
        Counter,
        Units::KBYTES,
        L,
        "NVLink data transmitted over the link (counter)",
        "NVLink data transmitted over the link, in KiB, from nvmlDeviceGetFieldValues \
(NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX) with scopeId = the link index. No value for a link \
whose field NVML does not support. For link 0 this is the same reading as llm.gpu.nvlink.tx \
(scopeId 0).",
    ),
    m(
        "llm.gpu.nvlink.link.rx",
        CLUSTER_NVLINK,
        N_LINK_RX_KIB,
        U64,
        Counter,
        Units::KBYTES,
        L,
        "NVLink data received over the link (counter)",
        "NVLink data received over the link, in KiB, from nvmlDeviceGetFieldValues \
(NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX) with scopeId = the link index; see \
llm.gpu.nvlink.link.tx.",
    ),
    // ---- reliability
    m(
        "llm.gpu.ecc.corrected_volatile",
        CLUSTER_RELIABILITY,
        R_ECC_CORR_VOL,
        U64,
        Counter,
        Units::COUNT,
        G,
        "corrected ECC errors since the driver was loaded",
        "Single-bit (corrected) ECC errors since the last driver load, from \
nvmlDeviceGetTotalEccErrors (NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC). No value \
when ECC is disabled or unsupported.",
    ),
    m(
        "llm.gpu.ecc.corrected_aggregate",
        CLUSTER_RELIABILITY,
        R_ECC_CORR_AGG,
        U64,
        Counter,
        Units::COUNT,
        G,
        "corrected ECC errors over the GPU's lifetime",
        "Corrected ECC errors over the lifetime of the GPU (persisted in the infoROM), from \
nvmlDeviceGetTotalEccErrors (NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_AGGREGATE_ECC).",
    ),
    m(
        "llm.gpu.ecc.uncorrected_volatile",
        CLUSTER_RELIABILITY,
        R_ECC_UNCORR_VOL,
        U64,
        Counter,
        Units::COUNT,
        G,
        "uncorrected ECC errors since the driver was loaded",
        "Double-bit (uncorrected) ECC errors since the last driver load, from \
nvmlDeviceGetTotalEccErrors (NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC). Any \
increase means a job's data may be corrupt.",
    ),
    m(
        "llm.gpu.ecc.uncorrected_aggregate",
        CLUSTER_RELIABILITY,
        R_ECC_UNCORR_AGG,
        U64,
        Counter,
        Units::COUNT,
        G,
        "uncorrected ECC errors over the GPU's lifetime",
        "Uncorrected ECC errors over the lifetime of the GPU, from nvmlDeviceGetTotalEccErrors \
(NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_AGGREGATE_ECC).",
    ),
    m(
        "llm.gpu.remapped_rows.correctable",
        CLUSTER_RELIABILITY,
        R_REMAP_CORR,
        U64,
        Counter,
        Units::COUNT,
        G,
        "rows remapped after correctable errors",
        "Memory rows remapped because of correctable errors, from nvmlDeviceGetFieldValues \
(NVML_FI_DEV_REMAPPED_COR; the value nvmlDeviceGetRemappedRows reports). Ampere and newer.",
    ),
    m(
        "llm.gpu.remapped_rows.uncorrectable",
        CLUSTER_RELIABILITY,
        R_REMAP_UNCORR,
        U64,
        Counter,
        Units::COUNT,
        G,
        "rows remapped after uncorrectable errors",
        "Memory rows remapped because of uncorrectable errors, from nvmlDeviceGetFieldValues \
(NVML_FI_DEV_REMAPPED_UNC).",
    ),
    m(
        "llm.gpu.remapped_rows.pending",
        CLUSTER_RELIABILITY,
        R_REMAP_PENDING,
        U32,
        Instant,
        NONE,
        G,
        "1 if a row remapping is pending (GPU reset needed)",
        "1 when a row remapping is pending and takes effect at the next GPU reset, from \
nvmlDeviceGetFieldValues (NVML_FI_DEV_REMAPPED_PENDING).",
    ),
    m(
        "llm.gpu.remapped_rows.failed",
        CLUSTER_RELIABILITY,
        R_REMAP_FAILED,
        U32,
        Instant,
        NONE,
        G,
        "1 if a row remapping has failed (GPU needs service)",
        "1 when a row remapping failed (no spare rows left), from nvmlDeviceGetFieldValues \
(NVML_FI_DEV_REMAPPED_FAILURE).",
    ),
    m(
        "llm.gpu.xid.count",
        CLUSTER_RELIABILITY,
        R_XID_COUNT,
        U64,
        Counter,
        Units::COUNT,
        G,
        "XID (critical error) events seen since the agent started",
        "Number of critical XID error events the agent received for the GPU since it started \
(or since NVML was initialised), from an NVML event set (nvmlEventSetCreate, \
nvmlDeviceRegisterEvents with nvmlEventTypeXidCriticalError, nvmlEventSetWait_v2 polled \
without waiting at each sample). No value when the GPU does not support the event.",
    ),
    m(
        "llm.gpu.xid.last",
        CLUSTER_RELIABILITY,
        R_XID_LAST,
        U64,
        Discrete,
        NONE,
        G,
        "number of the most recent XID error (0 if none)",
        "The XID number (e.g. 79 = GPU fell off the bus, 48 = double-bit ECC error) of the most \
recent critical XID event received for the GPU (eventData of nvmlEventSetWait_v2), 0 if none \
since the agent started.",
    ),
    // ---- processes
    m(
        "llm.gpu.process.memory",
        CLUSTER_PROCESS,
        PR_MEMORY,
        U64,
        Instant,
        Units::BYTES,
        P,
        "GPU memory used by the process on this GPU",
        "Device memory used by the process on the GPU, in bytes, from \
nvmlDeviceGetComputeRunningProcesses_v3 / nvmlDeviceGetGraphicsRunningProcesses_v3 \
(usedGpuMemory). No value when NVML cannot tell (NVML_VALUE_NOT_AVAILABLE, e.g. in some \
containers or under MIG without privileges).",
    ),
    m(
        "llm.gpu.process.pid",
        CLUSTER_PROCESS,
        PR_PID,
        U32,
        Discrete,
        NONE,
        P,
        "process id",
        "Process id of the process (pid of nvmlProcessInfo_t from \
nvmlDeviceGetComputeRunningProcesses_v3 / nvmlDeviceGetGraphicsRunningProcesses_v3), in the \
host's pid namespace as the driver sees it.",
    ),
    m(
        "llm.gpu.process.gpu",
        CLUSTER_PROCESS,
        PR_GPU,
        U32,
        Discrete,
        NONE,
        P,
        "NVML index of the GPU the process uses",
        "NVML index of the GPU the process was listed on (the N of instance gpuN of llm.gpu.*; \
the device nvmlDeviceGetComputeRunningProcesses_v3 was asked).",
    ),
    m(
        "llm.gpu.process.type",
        CLUSTER_PROCESS,
        PR_TYPE,
        String,
        Discrete,
        NONE,
        P,
        "compute, graphics or compute+graphics",
        "Whether the process has a compute context (nvmlDeviceGetComputeRunningProcesses_v3), \
a graphics context (nvmlDeviceGetGraphicsRunningProcesses_v3) or both on the GPU.",
    ),
    // ---- GPU performance monitoring (Hopper and newer)
    m(
        "llm.gpu.prof.sm_active",
        CLUSTER_PROFILE,
        GPM_SM_ACTIVE,
        Double,
        Instant,
        NONE,
        G,
        "percent of time SMs had at least one warp assigned",
        "Percent of time each streaming multiprocessor had at least one warp assigned, averaged \
over all SMs and over the last sampling interval, from NVML GPU performance monitoring \
(nvmlGpmSampleGet at each sample, nvmlGpmMetricsGet over the last two: \
NVML_GPM_METRIC_SM_UTIL; dcgm-exporter's DCGM_FI_PROF_SM_ACTIVE, as a percentage). Hopper and \
newer (nvmlGpmQueryDeviceSupport); no value on older GPUs and at the first sample.",
    ),
    m(
        "llm.gpu.prof.sm_occupancy",
        CLUSTER_PROFILE,
        GPM_SM_OCCUPANCY,
        Double,
        Instant,
        NONE,
        G,
        "percent of the maximum resident warps that were resident",
        "Resident warps as a percentage of the theoretical maximum, averaged over all SMs and the \
last sampling interval, from nvmlGpmMetricsGet (NVML_GPM_METRIC_SM_OCCUPANCY; \
DCGM_FI_PROF_SM_OCCUPANCY). Hopper and newer.",
    ),
    m(
        "llm.gpu.prof.graphics_active",
        CLUSTER_PROFILE,
        GPM_GRAPHICS_ACTIVE,
        Double,
        Instant,
        NONE,
        G,
        "percent of time the graphics/compute engine was active",
        "Percent of time any warp was active on an SM, averaged over all SMs and the last sampling \
interval, from nvmlGpmMetricsGet (NVML_GPM_METRIC_GRAPHICS_UTIL; dcgm-exporter's \
DCGM_FI_PROF_GR_ENGINE_ACTIVE). Hopper and newer.",
    ),
    m(
        "llm.gpu.prof.tensor_active",
        CLUSTER_PROFILE,
        GPM_TENSOR_ACTIVE,
        Double,
        Instant,
        NONE,
        G,
        "percent of time a tensor pipe was active",
        "Percent of time any tensor core pipe was active, averaged over all SMs and the last \
sampling interval, from nvmlGpmMetricsGet (NVML_GPM_METRIC_ANY_TENSOR_UTIL; \
DCGM_FI_PROF_PIPE_TENSOR_ACTIVE). The best single indicator of how busy an LLM keeps the GPU. \
Hopper and newer.",
    ),
    m(
        "llm.gpu.prof.dram_active",
        CLUSTER_PROFILE,
        GPM_DRAM_ACTIVE,
        Double,
        Instant,
        NONE,
        G,
        "device memory bandwidth used, percent of peak",
        "Device memory bandwidth in use as a percentage of the peak, over the last sampling \
interval, from nvmlGpmMetricsGet (NVML_GPM_METRIC_DRAM_BW_UTIL; DCGM_FI_PROF_DRAM_ACTIVE). \
LLM decoding is usually bound by it. Hopper and newer.",
    ),
    m(
        "llm.gpu.prof.fp64_active",
        CLUSTER_PROFILE,
        GPM_FP64_ACTIVE,
        Double,
        Instant,
        NONE,
        G,
        "percent of time the FP64 pipe was active",
        "From nvmlGpmMetricsGet (NVML_GPM_METRIC_FP64_UTIL; DCGM_FI_PROF_PIPE_FP64_ACTIVE), over \
the last sampling interval. Hopper and newer.",
    ),
    m(
        "llm.gpu.prof.fp32_active",
        CLUSTER_PROFILE,
        GPM_FP32_ACTIVE,
        Double,
        Instant,
        NONE,
        G,
        "percent of time the FP32 pipe was active",
        "From nvmlGpmMetricsGet (NVML_GPM_METRIC_FP32_UTIL; DCGM_FI_PROF_PIPE_FP32_ACTIVE), over \
the last sampling interval. Hopper and newer.",
    ),
    m(
        "llm.gpu.prof.fp16_active",
        CLUSTER_PROFILE,
        GPM_FP16_ACTIVE,
        Double,
        Instant,
        NONE,
        G,
        "percent of time the FP16 pipe was active",
        "From nvmlGpmMetricsGet (NVML_GPM_METRIC_FP16_UTIL; DCGM_FI_PROF_PIPE_FP16_ACTIVE), over \
the last sampling interval. Hopper and newer.",
    ),
    m(
        "llm.gpu.prof.integer_active",
        CLUSTER_PROFILE,
        GPM_INTEGER_ACTIVE,
        Double,
        Instant,
        NONE,
        G,
        "percent of time the integer pipe was active",
        "From nvmlGpmMetricsGet (NVML_GPM_METRIC_INTEGER_UTIL), over the last sampling interval. \
Hopper and newer.",
    ),
    m(
        "llm.gpu.prof.pcie_tx",
        CLUSTER_PROFILE,
        GPM_PCIE_TX,
        Double,
        Instant,
        MBYTES_PER_SEC,
        G,
        "PCIe transmit rate over the last sampling interval",
        "PCIe traffic from the GPU in MiB/s averaged over the whole last sampling interval, from \
nvmlGpmMetricsGet (NVML_GPM_METRIC_PCIE_TX_PER_SEC; DCGM_FI_PROF_PCIE_TX_BYTES as a rate). \
Unlike llm.gpu.pcie.tx_throughput it covers the whole interval, not 20 ms. Hopper and newer.",
    ),
    m(
        "llm.gpu.prof.pcie_rx",
        CLUSTER_PROFILE,
        GPM_PCIE_RX,
        Double,
        Instant,
        MBYTES_PER_SEC,
        G,
        "PCIe receive rate over the last sampling interval",
        "PCIe traffic to the GPU in MiB/s averaged over the last sampling interval, from \
nvmlGpmMetricsGet (NVML_GPM_METRIC_PCIE_RX_PER_SEC; DCGM_FI_PROF_PCIE_RX_BYTES as a rate). \
Hopper and newer.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_help_text_names_its_nvml_source_and_items_are_in_our_clusters() {
        for m in METRICS {
            assert!(m.name.starts_with("llm.gpu."), "{}", m.name);
            assert!((10..=19).contains(&m.cluster), "{}: cluster", m.name);
            assert!(
                m.help.contains("nvml") || m.help.contains("NVML_"),
                "{}: help does not say which NVML call it comes from",
                m.name
            );
            if m.sem == Counter {
                assert!(m.ty == U64 || m.ty == U32, "{}: counter type", m.name);
            }
        }
        for i in SECTION.indoms {
            assert!((10..=19).contains(&i.serial), "{}: indom serial", i.name);
        }
    }
}
