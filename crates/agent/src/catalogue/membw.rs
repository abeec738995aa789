//! `llm.membw.*` and `llm.pcie.host.*`: CPU memory bandwidth per socket and host PCIe bandwidth
//! per root bus, from the processor's own uncore counters (perf), and resctrl's memory
//! bandwidth monitoring. Sampled by the membw source (`crates/agent/src/sources/membw/`), every second by
//! default. Clusters 60..=69, indom serials 60..=69. See docs/membw.md.

use super::{Indom, LogGroup, Metric, Section, Semantics::*, Type::*};
use pcp::Units;

pub const CLUSTER_MEMORY: u32 = 60;
pub const CLUSTER_PCIE: u32 = 61;
pub const CLUSTER_RESCTRL: u32 = 62;

pub const M_READ: u32 = 0;
pub const M_WRITE: u32 = 1;
pub const M_METHOD: u32 = 2;
pub const M_REASON: u32 = 3;
pub const M_COUNTERS: u32 = 4;
pub const M_TOTAL: u32 = 5;
pub const P_IN: u32 = 0;
pub const P_OUT: u32 = 1;
pub const R_TOTAL: u32 = 0;
pub const R_LOCAL: u32 = 1;
pub const R_REASON: u32 = 2;

pub static SOCKETS: Indom = Indom {
    serial: 60,
    name: "membw_sockets",
    oneline: "CPU sockets (physical packages)",
    help: "One instance per CPU socket, named socketN after its physical_package_id (instance \
id N), from /sys/devices/system/cpu/cpu*/topology; label socket.",
};
pub static PCIE_PORTS: Indom = Indom {
    serial: 61,
    name: "pcie_root_buses",
    oneline: "host PCIe root buses (Intel IIO stacks, NVIDIA Grace PCIe PMUs)",
    help: "One instance per PCIe root complex with bandwidth counters: an Intel IIO stack, \
named after its root bus (SEGMENT:BUS, e.g. 0000:17) from /sys/devices/uncore_iio_N/dieX, or \
socketN/nvidia_pcie_pmu_N on NVIDIA Grace. Labels: socket, pmu, root_bus and, when NVIDIA \
GPUs sit behind that root bus, gpu (the llm.gpu instance name, gpuN), gpu_index, \
gpu_pci_bus_id and gpu_uuid (from the NVIDIA driver's /proc/driver/nvidia/gpus), so host-side \
traffic can be put next to the GPU's own llm.gpu.pcie.* values.",
};
pub static L3_DOMAINS: Indom = Indom {
    serial: 62,
    name: "resctrl_l3",
    oneline: "resctrl L3 monitoring domains",
    help: "One instance per directory of /sys/fs/resctrl/mon_data: mon_L3_XX (an L3 cache: a \
socket on Intel, a CCX on AMD; instance id XX) and, with Sub-NUMA Clustering, mon_sub_L3_YY \
(instance id 1000+YY).",
};

pub static SECTION: Section = Section {
    metrics: METRICS,
    indoms: &[&SOCKETS, &PCIE_PORTS, &L3_DOMAINS],
    groups: &[LogGroup {
        file: "membw",
        ident: "llm CPU memory bandwidth per socket and host PCIe bandwidth (perf uncore, resctrl)",
        probe: "llm.membw.counters",
        probe_kind: "> 0",
        interval: "1 second",
        metrics: &["llm.membw", "llm.pcie.host"],
    }],
};

const S: &Indom = &SOCKETS;
const P: &Indom = &PCIE_PORTS;
const L: &Indom = &L3_DOMAINS;

const METRICS: &[Metric] = &[
    indexed_metric!(
        "llm.membw.read",
        CLUSTER_MEMORY,
        M_READ,
        U64,
        Counter,
        Units::BYTES,
        S,
        "bytes read from DRAM by the socket's memory controllers",
        "Bytes the socket's memory controllers read from DRAM, counted by the processor's \
uncore PMU: Intel CAS read commands x 64 bytes (uncore_imc cas_count_read, the sum of both \
schedulers on Granite Rapids, or the free-running read counter), AMD UMC CAS read commands x \
64 bytes, AMD Zen 4 data-fabric read beats x 64 bytes, NVIDIA Grace SCF cmem_rd_data x 32 bytes. It \
counts all DRAM traffic of the socket: cores, prefetchers and device DMA alike. A counter: \
pmrep shows bytes per second. Counts from the agent's start; no value where \
llm.membw.reason says why."
    ),
    indexed_metric!(
        "llm.membw.write",
        CLUSTER_MEMORY,
        M_WRITE,
        U64,
        Counter,
        Units::BYTES,
        S,
        "bytes written to DRAM by the socket's memory controllers",
        "Bytes the socket's memory controllers wrote to DRAM: Intel CAS write commands x 64 \
bytes, AMD UMC CAS write commands x 64 bytes, AMD Zen 4 data-fabric write beats x 64 bytes, \
NVIDIA Grace SCF cmem_wr_total_bytes. No value on AMD Zen 2/3, whose data-fabric counters do \
not tell reads from writes (see llm.membw.total). A counter: pmrep shows bytes per second."
    ),
    indexed_metric!(
        "llm.membw.total",
        CLUSTER_MEMORY,
        M_TOTAL,
        U64,
        Counter,
        Units::BYTES,
        S,
        "bytes read from and written to DRAM by the socket's memory controllers",
        "DRAM traffic of the socket in both directions: llm.membw.read plus llm.membw.write \
where the processor counts them apart, or, on AMD Zen 2/3, the data fabric's DRAM channel \
requests with data x 64 bytes (channels 0-7), or, on Arm CMN meshes, the home nodes' \
memory-controller requests (hnf_mc_reqs) x 64 bytes: counters that count reads and writes \
together. The one \
memory-bandwidth metric every supported processor has: compare hosts with it. A counter: \
pmrep shows bytes per second."
    ),
    indexed_metric!(
        "llm.membw.method",
        CLUSTER_MEMORY,
        M_METHOD,
        String,
        Discrete,
        Units::NONE,
        S,
        "PMU and events used for the socket's memory bandwidth",
        "Which PMU and events count llm.membw.read and write for the socket, e.g. \
\"uncore_imc cas_count_read/write\", \"amd_umc umc_cas_cmd (built-in table)\"; \"none\" when \
no counter is available (see llm.membw.reason)."
    ),
    indexed_metric!(
        "llm.membw.reason",
        CLUSTER_MEMORY,
        M_REASON,
        String,
        Discrete,
        Units::NONE,
        S,
        "why the socket has no memory bandwidth values",
        "A plain sentence saying why llm.membw.read and write have no value for the socket: \
no memory-controller PMU (most VMs), or opening the counters was denied (\"perf_event_paranoid \
is 2; give pmdallm CAP_PERFMON or set it to 0\"). No value when the counters work."
    ),
    indexed_metric!(
        "llm.membw.counters",
        CLUSTER_MEMORY,
        M_COUNTERS,
        U32,
        Instant,
        Units::COUNT,
        S,
        "number of open memory bandwidth counters of the socket",
        "How many perf counters the agent holds open for the socket's memory bandwidth (one per \
memory controller and direction, two per controller and direction on Granite Rapids)."
    ),
    indexed_metric!(
        "llm.pcie.host.in",
        CLUSTER_PCIE,
        P_IN,
        U64,
        Counter,
        Units::BYTES,
        P,
        "bytes PCIe devices sent into the host through the root bus",
        "Bytes written by devices behind the root bus into the host (device to host, e.g. a GPU \
copying KV-cache blocks out to CPU memory): Intel IIO free-running bw_in_port0..7 x 4 bytes, \
summed over the stack's ports; NVIDIA Grace PCIe PMU wr_bytes_loc + wr_bytes_rem over all root \
ports. A counter: pmrep shows bytes per second."
    ),
    indexed_metric!(
        "llm.pcie.host.out",
        CLUSTER_PCIE,
        P_OUT,
        U64,
        Counter,
        Units::BYTES,
        P,
        "bytes the host sent to PCIe devices through the root bus",
        "Bytes sent from the host to devices behind the root bus (host to device, e.g. a GPU \
reading offloaded KV-cache blocks back): Intel IIO free-running bw_out_port0..7 x 4 bytes \
(where the processor has them, Sapphire Rapids and later); NVIDIA Grace PCIe PMU rd_bytes_loc \
+ rd_bytes_rem. A counter: pmrep shows bytes per second."
    ),
    indexed_metric!(
        "llm.membw.resctrl.total",
        CLUSTER_RESCTRL,
        R_TOTAL,
        U64,
        Counter,
        Units::BYTES,
        L,
        "resctrl MBM total bytes of the root monitoring group",
        "mbm_total_bytes of the resctrl root group for the L3 domain: bytes of L3-miss traffic \
(reads and write-backs) of the tasks in the root group, local and remote memory, per \
/sys/fs/resctrl/mon_data/mon_L3_XX. Core traffic only, no device DMA; not the memory \
controller's total. No value while the kernel reports Unassigned."
    ),
    indexed_metric!(
        "llm.membw.resctrl.local",
        CLUSTER_RESCTRL,
        R_LOCAL,
        U64,
        Counter,
        Units::BYTES,
        L,
        "resctrl MBM local-memory bytes of the root monitoring group",
        "mbm_local_bytes of the resctrl root group for the L3 domain: the part of \
llm.membw.resctrl.total that went to the domain's local memory. No value while the kernel \
reports Unassigned."
    ),
    Metric {
        name: "llm.membw.resctrl.reason",
        cluster: CLUSTER_RESCTRL,
        item: R_REASON,
        ty: String,
        sem: Discrete,
        units: Units::NONE,
        indom: None,
        oneline: "why resctrl memory bandwidth monitoring has no values",
        help: "Why llm.membw.resctrl.* have no values: resctrl not mounted, no mbm_* files, \
or the files unreadable. No value when resctrl works.",
    },
];
