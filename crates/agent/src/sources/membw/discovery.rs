//! Finding the memory and PCIe bandwidth counters a machine has, from sysfs alone.
//!
//! Every perf PMU the kernel knows is a directory `<sysfs>/bus/event_source/devices/<pmu>/` with
//! `type` (for `perf_event_attr.type`), `cpumask` (the CPUs to open its counters on, one per
//! socket or die), `format/<field>` (which bits of `config`, `config1`, `config2` a field such as
//! `event` or `umask` occupies) and `events/<name>` (`event=0x04,umask=0x03`, with optional
//! `<name>.scale` and `<name>.unit`). This module reads those files and turns them into a
//! [`Plan`]: the counters to open, what each measures, for which socket or PCIe root bus, and how
//! many bytes one count is. Where the kernel names the events, no model-specific code is
//! involved; where it does not (AMD's memory controller and data fabric PMUs), a small table
//! keyed by PMU and format, each entry citing its source, supplies the encoding.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which `perf_event_attr` field a format entry writes into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    Config,
    Config1,
    Config2,
}

/// One `format/<field>` file: a register and the bit ranges (low, high) the field's value is
/// spread over, least significant part first (`config:8-15,24-27`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pub reg: Reg,
    pub ranges: Vec<(u32, u32)>,
}

/// `config`, `config1` and `config2` of one event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Encoding {
    pub config: u64,
    pub config1: u64,
    pub config2: u64,
}

/// One PMU directory, as read.
#[derive(Clone, Debug)]
pub struct Pmu {
    pub name: String,
    pub dir: PathBuf,
    pub ty: u32,
    pub cpus: Vec<u32>,
    pub formats: BTreeMap<String, Format>,
}

/// What a counter measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Bytes read from DRAM (per socket).
    MemRead,
    /// Bytes written to DRAM (per socket).
    MemWrite,
    /// Bytes read or written, from counters that do not tell the two apart (AMD Zen 2/3 data
    /// fabric), per socket.
    MemTotal,
    /// Bytes a PCIe device wrote into the host (device to host), per root bus / IIO stack.
    PcieIn,
    /// Bytes sent from the host to a PCIe device (host to device), per root bus / IIO stack.
    PcieOut,
}

/// One counter to open: `perf_event_open(attr{type, config...}, pid = -1, cpu)`.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterSpec {
    pub kind: Kind,
    /// Socket (memory) or PCIe instance name (PCIe) the counts belong to.
    pub socket: u32,
    pub port: Option<String>,
    pub pmu: String,
    pub event: String,
    pub ty: u32,
    pub encoding: Encoding,
    pub cpu: u32,
    /// Bytes one count stands for (`.scale` x `.unit`, or the built-in table's width).
    pub bytes_per_count: f64,
}

/// A PCIe root bus (Intel IIO stack, Grace PCIe PMU) with its labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Port {
    pub name: String,
    pub socket: u32,
    pub labels: Vec<(String, String)>,
}

/// What discovery found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Sockets (physical package ids) with the method used for memory bandwidth, or None.
    pub sockets: BTreeMap<u32, Option<String>>,
    pub counters: Vec<CounterSpec>,
    pub ports: Vec<Port>,
    /// Why memory bandwidth has no counters (the same for every socket), when it has none.
    pub reason: Option<String>,
    /// Problems with individual files (bad format, event that does not encode): file and why.
    pub warnings: Vec<String>,
}

fn read_trim(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses a number as sysfs writes it: `0x1f`, `31`.
pub fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parses a cpulist (`0,56`, `0-3,8`); an empty file is an empty list.
pub fn parse_cpulist(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if b < a || b - a > 65536 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

/// Parses one format file's contents: `config:0-7`, `config1:0-3`, `config:21`,
/// `config:8-15,24-27`.
pub fn parse_format(s: &str) -> Option<Format> {
    let (reg, bits) = s.trim().split_once(':')?;
    let reg = match reg {
        "config" => Reg::Config,
        "config1" => Reg::Config1,
        "config2" => Reg::Config2,
        _ => return None,
    };
    let mut ranges = Vec::new();
    for r in bits.split(',') {
        let (lo, hi) = match r.split_once('-') {
            Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
            None => {
                let b: u32 = r.trim().parse().ok()?;
                (b, b)
            }
        };
        if lo > hi || hi > 63 {
            return None;
        }
        ranges.push((lo, hi));
    }
    (!ranges.is_empty()).then_some(Format { reg, ranges })
}

impl Format {
    /// Total width in bits.
    pub fn width(&self) -> u32 {
        self.ranges.iter().map(|(l, h)| h - l + 1).sum()
    }
    /// Places `value` into `enc`: its low bits into the first range, the next into the second.
    pub fn apply(&self, value: u64, enc: &mut Encoding) -> Result<(), String> {
        let width = self.width();
        if width < 64 && value >> width != 0 {
            return Err(format!("value {value:#x} does not fit in {width} bits"));
        }
        let reg = match self.reg {
            Reg::Config => &mut enc.config,
            Reg::Config1 => &mut enc.config1,
            Reg::Config2 => &mut enc.config2,
        };
        let mut v = value;
        for (lo, hi) in &self.ranges {
            let w = hi - lo + 1;
            let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
            *reg |= (v & mask) << lo;
            v = if w == 64 { 0 } else { v >> w };
        }
        Ok(())
    }
}

impl Pmu {
    /// Reads `<dir>`: `type`, `cpumask` (absent = every CPU the caller passes) and `format/*`.
    pub fn read(dir: &Path, all_cpus: &[u32]) -> Result<Pmu, String> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let type_path = dir.join("type");
        let ty_text = read_trim(&type_path)?;
        let ty = ty_text.parse::<u32>().map_err(|_| {
            format!(
                "{}: \"{ty_text}\" is not a PMU type number",
                type_path.display()
            )
        })?;
        let mask_path = dir.join("cpumask");
        let cpus = match std::fs::read_to_string(&mask_path) {
            Ok(t) => parse_cpulist(&t).ok_or_else(|| {
                format!("{}: \"{}\" is not a cpulist", mask_path.display(), t.trim())
            })?,
            Err(_) => all_cpus.to_vec(),
        };
        let mut formats = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(dir.join("format")) {
            for e in rd.flatten() {
                let field = e.file_name().to_string_lossy().into_owned();
                let path = e.path();
                let text = read_trim(&path)?;
                let f = parse_format(&text).ok_or_else(|| {
                    format!(
                        "{}: \"{text}\" is not a format (e.g. config:0-7)",
                        path.display()
                    )
                })?;
                formats.insert(field, f);
            }
        }
        Ok(Pmu {
            name,
            dir: dir.to_path_buf(),
            ty,
            cpus,
            formats,
        })
    }

    /// Encodes an event string (`event=0x04,umask=0x03`; a bare term means 1) with this PMU's
    /// format files.
    pub fn encode(&self, event: &str) -> Result<Encoding, String> {
        let mut enc = Encoding::default();
        for term in event
            .trim()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let (field, value) = match term.split_once('=') {
                Some((f, v)) => (
                    f.trim(),
                    parse_num(v).ok_or_else(|| format!("{term}: \"{v}\" is not a number"))?,
                ),
                None => (term, 1),
            };
            let fmt = match self.formats.get(field) {
                Some(f) => f.clone(),
                None => match field {
                    "config" => Format {
                        reg: Reg::Config,
                        ranges: vec![(0, 63)],
                    },
                    "config1" => Format {
                        reg: Reg::Config1,
                        ranges: vec![(0, 63)],
                    },
                    "config2" => Format {
                        reg: Reg::Config2,
                        ranges: vec![(0, 63)],
                    },
                    _ => {
                        return Err(format!(
                            "field \"{field}\" has no file in {}/format",
                            self.dir.display()
                        ));
                    }
                },
            };
            fmt.apply(value, &mut enc)
                .map_err(|e| format!("{term}: {e} ({}/format/{field})", self.dir.display()))?;
        }
        Ok(enc)
    }

    /// The named event: its encoding text and bytes per count, when `events/<name>` exists.
    /// Bytes per count is `.scale` x `.unit` when both are given, else None (the caller knows
    /// the width).
    pub fn named_event(&self, name: &str) -> Option<(String, Option<f64>)> {
        let ev = self.dir.join("events").join(name);
        let text = std::fs::read_to_string(&ev).ok()?.trim().to_string();
        let scale = std::fs::read_to_string(self.dir.join("events").join(format!("{name}.scale")))
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok());
        let unit = std::fs::read_to_string(self.dir.join("events").join(format!("{name}.unit")))
            .ok()
            .map(|s| s.trim().to_string());
        let bytes = match (scale, unit.as_deref()) {
            (Some(s), Some(u)) => unit_bytes(u).map(|b| round_near_integer(s * b)),
            (Some(s), None) => Some(s),
            _ => None,
        };
        Some((text, bytes))
    }
}

/// Bytes in one `.unit` (`MiB`, `KiB`, `GiB`, `MB`, `B`, `bytes`).
pub fn unit_bytes(unit: &str) -> Option<f64> {
    Some(match unit {
        "B" | "Bytes" | "bytes" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1_048_576.0,
        "GiB" => 1_073_741_824.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => return None,
    })
}

/// sysfs scales are printed with ~10 significant digits (3.814697266e-6 MiB = 4.0000000006 B):
/// a product within 1e-6 of an integer is that integer.
fn round_near_integer(x: f64) -> f64 {
    let r = x.round();
    if r > 0.0 && ((x - r) / r).abs() < 1e-6 {
        r
    } else {
        x
    }
}

/// Socket (physical package id) of each CPU, from `<sysfs>/devices/system/cpu/cpuN/topology/`.
pub fn cpu_sockets(sysfs: &Path) -> BTreeMap<u32, u32> {
    let mut out = BTreeMap::new();
    let Ok(rd) = std::fs::read_dir(sysfs.join("devices/system/cpu")) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(n) = name.strip_prefix("cpu").and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let pkg = std::fs::read_to_string(e.path().join("topology/physical_package_id"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(0);
        out.insert(n, pkg);
    }
    out
}

/// A built-in event, for PMUs whose events the kernel does not name in sysfs.
pub struct Builtin {
    pub kind: Kind,
    /// The event's name where perf or the kernel names it (what `llm.membw.method` reports).
    pub name: &'static str,
    pub event: &'static str,
    pub bytes_per_count: f64,
}

/// Intel Sapphire Rapids (family 6, model 0x8f) and Emerald Rapids (model 0xcf) on kernels
/// from before the 2023 patch that named their CAS events in sysfs: `UNC_M_CAS_COUNT.RD`
/// (`event=0x05,umask=0xcf`) and `.WR` (`event=0x05,umask=0xf0`), 64 bytes per count. Source:
/// perf's `tools/perf/pmu-events/arch/x86/sapphirerapids/uncore-memory.json`; the kernel's
/// later `cas_count_read`/`cas_count_write` events in `uncore_snbep.c` use the same codes.
pub const INTEL_SPR_IMC: &[Builtin] = &[
    Builtin {
        kind: Kind::MemRead,
        name: "cas_count_read",
        event: "event=0x05,umask=0xcf",
        bytes_per_count: 64.0,
    },
    Builtin {
        kind: Kind::MemWrite,
        name: "cas_count_write",
        event: "event=0x05,umask=0xf0",
        bytes_per_count: 64.0,
    },
];
/// CPU models [`INTEL_SPR_IMC`] applies to.
pub const SPR_MODELS: &[u32] = &[0x8f, 0xcf];

/// Vendor, family and model of the first CPU in `<procfs>/cpuinfo` (x86 only).
pub fn cpu_model(procfs: &Path) -> Option<(String, u32, u32)> {
    let text = std::fs::read_to_string(procfs.join("cpuinfo")).ok()?;
    let field = |key: &str| {
        text.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    Some((
        field("vendor_id")?,
        field("cpu family")?.parse().ok()?,
        field("model")?.parse().ok()?,
    ))
}

/// AMD Zen 4 and later, `amd_umc_N` (one PMU per memory controller, format `event:0-7`,
/// `rdwrmask:8-9`, no `events/` directory). Source: perf's own event table for the UMC,
/// `tools/perf/pmu-events/arch/x86/amdzen4/memory-controller.json` (`umc_cas_cmd.rd`,
/// `umc_cas_cmd.wr`), and AMD's PPR for family 19h: one CAS command moves 64 bytes.
pub const AMD_UMC: &[Builtin] = &[
    Builtin {
        kind: Kind::MemRead,
        name: "umc_cas_cmd.rd",
        event: "event=0x0a,rdwrmask=0x1",
        bytes_per_count: 64.0,
    },
    Builtin {
        kind: Kind::MemWrite,
        name: "umc_cas_cmd.wr",
        event: "event=0x0a,rdwrmask=0x2",
        bytes_per_count: 64.0,
    },
];

/// AMD Zen 4 data fabric (`amd_df` with PerfMonV2's split format, `event` spanning
/// `config:0-7,32-37`), used only where no `amd_umc_N` exists: read and write data beats per
/// coherent station cs0..cs11, event 0x1f + 0x40 x N, umask 0x7fe (read) and 0x7ff (write), 64
/// bytes per beat. Source: perf's `tools/perf/pmu-events/arch/x86/amdzen4/data-fabric.json`
/// (`local_processor_read_data_beats_cs0` ... `cs11`, `local_processor_write_data_beats_cs0`
/// ... `cs11`). Returns (kind, event name, encoding, bytes per count).
pub fn amd_df_zen4() -> Vec<(Kind, String, String, f64)> {
    let mut out = Vec::new();
    for (kind, verb, umask) in [
        (Kind::MemRead, "read", 0x7fe),
        (Kind::MemWrite, "write", 0x7ff),
    ] {
        for k in 0..12u64 {
            out.push((
                kind,
                format!("local_processor_{verb}_data_beats_cs{k}"),
                format!("event={:#x},umask={umask:#x}", 0x1f + 0x40 * k),
                64.0,
            ));
        }
    }
    out
}

/// AMD Zen 2 and Zen 3 data fabric (`amd_df` without PerfMonV2: `event` at `config:0-7,32-35`,
/// `umask` at `config:8-15`): DRAM requests with data per channel 0..7, event 0x07 + 0x40 x N,
/// umask 0x38, 64 bytes each, reads and writes together. Source: perf's
/// `tools/perf/pmu-events/arch/x86/amdzen2/data-fabric.json` and `amdzen3/data-fabric.json`
/// (`dram_channel_data_controller_0` ... `7`). Returns (event name, encoding, bytes per count).
pub fn amd_df_zen2() -> Vec<(String, String, f64)> {
    (0..8u64)
        .map(|k| {
            (
                format!("dram_channel_data_controller_{k}"),
                format!("event={:#x},umask=0x38", 0x07 + 0x40 * k),
                64.0,
            )
        })
        .collect()
}

/// Arm CMN meshes (`arm_cmn_N`: Neoverse servers such as AWS Graviton and Ampere): the
/// kernel names `hnf_mc_reqs`, requests the home nodes send to the memory controllers, one
/// 64-byte cache line each, reads and writes together (kernel
/// Documentation/admin-guide/perf/arm-cmn.rst; Arm CMN-600/700 TRM, HN-F PMU event 0x0d). The
/// count is of requests: the bytes are requests x 64, which the method string says.
fn arm_cmn<F>(
    pmus: &[Pmu],
    plan: &mut Plan,
    mem: &mut Vec<CounterSpec>,
    method: &mut BTreeMap<u32, Vec<String>>,
    add: &F,
    socket_of: &dyn Fn(u32) -> u32,
) where
    F: Fn(&mut Plan, &Pmu, Kind, &str, &str, f64, Option<(&str, u32)>, &mut Vec<CounterSpec>),
{
    for pmu in pmus
        .iter()
        .filter(|p| numbered(&p.name, "arm_cmn_").is_some())
    {
        let Some((text, _)) = pmu.named_event("hnf_mc_reqs") else {
            plan.warnings.push(format!(
                "{}: no hnf_mc_reqs event (a CMN model the kernel does not name it for)",
                pmu.name
            ));
            continue;
        };
        add(
            plan,
            pmu,
            Kind::MemTotal,
            "hnf_mc_reqs",
            &text,
            64.0,
            None,
            mem,
        );
        for &c in &pmu.cpus {
            method.entry(socket_of(c)).or_default().push(
                "arm_cmn hnf_mc_reqs x 64 B (memory-controller requests, read and write together)"
                    .into(),
            );
        }
    }
}

/// A PMU name `<prefix><N>`: N.
fn numbered(name: &str, prefix: &str) -> Option<u32> {
    name.strip_prefix(prefix)?.parse().ok()
}

/// Where the PCIe root bus of IIO stack `n` on `socket` is: `<sysfs>/devices/uncore_iio_N/dieX`
/// holds `segment:bus`.
fn iio_root_bus(sysfs: &Path, n: u32, socket: u32) -> Option<String> {
    let t =
        std::fs::read_to_string(sysfs.join(format!("devices/uncore_iio_{n}/die{socket}"))).ok()?;
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// NVIDIA GPUs on the PCI bus, in PCI address order (NVML's index order), with the root bus
/// they sit under: (index, pci address, root bus "SSSS:BB").
pub fn nvidia_gpus(sysfs: &Path) -> Vec<(u32, String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let Ok(rd) = std::fs::read_dir(sysfs.join("bus/pci/devices")) else {
        return vec![];
    };
    for e in rd.flatten() {
        let addr = e.file_name().to_string_lossy().into_owned();
        let p = e.path();
        let vendor = read_trim(&p.join("vendor")).unwrap_or_default();
        let class = read_trim(&p.join("class")).unwrap_or_default();
        // 0x0300xx VGA, 0x0302xx 3D controller.
        if vendor != "0x10de" || !(class.starts_with("0x0300") || class.starts_with("0x0302")) {
            continue;
        }
        let Ok(real) = std::fs::canonicalize(&p) else {
            continue;
        };
        let root = real
            .components()
            .filter_map(|c| c.as_os_str().to_str())
            .find_map(|c| c.strip_prefix("pci").filter(|r| r.contains(':')))
            .map(str::to_string);
        if let Some(root) = root {
            found.push((addr, root));
        }
    }
    found.sort();
    found
        .into_iter()
        .enumerate()
        .map(|(i, (a, r))| (i as u32, a, r))
        .collect()
}

/// The GPU uuid the NVIDIA driver shows in `<procfs>/driver/nvidia/gpus/<addr>/information`.
fn gpu_uuid(procfs: &Path, addr: &str) -> Option<String> {
    let t = std::fs::read_to_string(
        procfs
            .join("driver/nvidia/gpus")
            .join(addr)
            .join("information"),
    )
    .ok()?;
    t.lines()
        .find_map(|l| l.strip_prefix("GPU UUID:"))
        .map(|u| u.trim().to_string())
}

/// Reads the tree under `sysfs` (normally `/sys`) and plans the counters.
pub fn discover(sysfs: &Path, procfs: &Path) -> Plan {
    let mut plan = Plan::default();
    let sockets_of = cpu_sockets(sysfs);
    let all_cpus: Vec<u32> = sockets_of.keys().copied().collect();
    for s in sockets_of.values() {
        plan.sockets.insert(*s, None);
    }
    if plan.sockets.is_empty() {
        plan.sockets.insert(0, None);
    }
    let socket_of = |cpu: u32| sockets_of.get(&cpu).copied().unwrap_or(0);
    let devdir = sysfs.join("bus/event_source/devices");
    let mut pmus: Vec<Pmu> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&devdir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            names.push(name.clone());
            let interesting = [
                "uncore_imc_",
                "uncore_iio_free_running_",
                "amd_umc_",
                "nvidia_scf_pmu_",
                "nvidia_pcie_pmu_",
                "arm_cmn_",
            ]
            .iter()
            .any(|p| name.starts_with(p))
                || name == "amd_df";
            if !interesting {
                continue;
            }
            match Pmu::read(&e.path(), &all_cpus) {
                Ok(p) => pmus.push(p),
                Err(w) => plan.warnings.push(w),
            }
        }
    }
    names.sort();
    pmus.sort_by_key(|a| natural_key(&a.name));

    let intel_spr = cpu_model(procfs)
        .is_some_and(|(v, f, m)| v == "GenuineIntel" && f == 6 && SPR_MODELS.contains(&m));
    let mut mem: Vec<CounterSpec> = Vec::new();
    let mut method: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let add = |plan: &mut Plan,
               pmu: &Pmu,
               kind: Kind,
               event_name: &str,
               event: &str,
               bytes: f64,
               port: Option<(&str, u32)>,
               out: &mut Vec<CounterSpec>| {
        let encoding = match pmu.encode(event) {
            Ok(e) => e,
            Err(e) => {
                plan.warnings
                    .push(format!("{} event {event_name} ({event}): {e}", pmu.name));
                return;
            }
        };
        for &cpu in &pmu.cpus {
            let socket = socket_of(cpu);
            if let Some((_, s)) = port
                && s != socket
            {
                continue;
            }
            out.push(CounterSpec {
                kind,
                socket,
                port: port.map(|(p, _)| p.to_string()),
                pmu: pmu.name.clone(),
                event: event_name.to_string(),
                ty: pmu.ty,
                encoding,
                cpu,
                bytes_per_count: bytes,
            });
        }
    };

    // A built-in table's entry (where the kernel names no event).
    let add_builtin = |plan: &mut Plan, pmu: &Pmu, b: &Builtin, out: &mut Vec<CounterSpec>| {
        add(
            plan,
            pmu,
            b.kind,
            b.name,
            b.event,
            b.bytes_per_count,
            None,
            out,
        )
    };

    // Memory: named CAS events (Haswell-EP ... Granite Rapids), else free-running IMC, else
    // AMD UMC, AMD DF, NVIDIA Grace SCF.
    let named: &[(&str, Kind)] = &[
        ("cas_count_read", Kind::MemRead),
        ("cas_count_write", Kind::MemWrite),
    ];
    let sched: &[(&str, Kind)] = &[
        ("cas_count_read_sch0", Kind::MemRead),
        ("cas_count_read_sch1", Kind::MemRead),
        ("cas_count_write_sch0", Kind::MemWrite),
        ("cas_count_write_sch1", Kind::MemWrite),
    ];
    for pmu in pmus
        .iter()
        .filter(|p| numbered(&p.name, "uncore_imc_").is_some())
    {
        let has_named = pmu.named_event("cas_count_read").is_some();
        let list = if has_named { named } else { sched };
        let m = if has_named {
            "uncore_imc cas_count_read/write"
        } else if pmu.named_event("cas_count_read_sch1").is_some() {
            "uncore_imc cas_count_*_sch0+sch1"
        } else {
            "uncore_imc cas_count_*_sch0 only (this kernel has no _sch1 events: about half the traffic)"
        };
        let mut any = false;
        for (ev, kind) in list {
            if let Some((text, bytes)) = pmu.named_event(ev) {
                let bytes = bytes.unwrap_or(64.0);
                add(&mut plan, pmu, *kind, ev, &text, bytes, None, &mut mem);
                any = true;
            }
        }
        let mut m = m.to_string();
        if !any && intel_spr {
            for b in INTEL_SPR_IMC {
                add_builtin(&mut plan, pmu, b, &mut mem);
            }
            any = true;
            m = "uncore_imc CAS read/write (built-in table: Sapphire/Emerald Rapids)".into();
        }
        if any {
            for &c in &pmu.cpus {
                method.entry(socket_of(c)).or_default().push(m.clone());
            }
        }
    }
    if mem.is_empty() {
        for pmu in pmus
            .iter()
            .filter(|p| numbered(&p.name, "uncore_imc_free_running_").is_some())
        {
            for (r, w) in [("read", "write"), ("data_read", "data_write")] {
                let (Some((rt, rb)), Some((wt, wb))) = (pmu.named_event(r), pmu.named_event(w))
                else {
                    continue;
                };
                add(
                    &mut plan,
                    pmu,
                    Kind::MemRead,
                    r,
                    &rt,
                    rb.unwrap_or(64.0),
                    None,
                    &mut mem,
                );
                add(
                    &mut plan,
                    pmu,
                    Kind::MemWrite,
                    w,
                    &wt,
                    wb.unwrap_or(64.0),
                    None,
                    &mut mem,
                );
                for &c in &pmu.cpus {
                    method
                        .entry(socket_of(c))
                        .or_default()
                        .push(format!("uncore_imc_free_running {r}/{w}"));
                }
                break;
            }
        }
    }
    if mem.is_empty() {
        for pmu in pmus
            .iter()
            .filter(|p| numbered(&p.name, "amd_umc_").is_some())
        {
            for b in AMD_UMC {
                add_builtin(&mut plan, pmu, b, &mut mem);
            }
            for &c in &pmu.cpus {
                method
                    .entry(socket_of(c))
                    .or_default()
                    .push("amd_umc umc_cas_cmd (built-in table)".into());
            }
        }
    }
    if mem.is_empty()
        && let Some(df) = pmus.iter().find(|p| p.name == "amd_df")
    {
        let zen4 = df.formats.get("umask").is_some_and(|f| f.ranges.len() > 1);
        let (events, what) = if zen4 {
            (
                amd_df_zen4(),
                "amd_df read and write data beats cs0-11 (built-in table)",
            )
        } else {
            let events = amd_df_zen2()
                .into_iter()
                .map(|(name, ev, bytes)| (Kind::MemTotal, name, ev, bytes))
                .collect();
            (
                events,
                "amd_df DRAM channel requests 0-7, read and write together (built-in table)",
            )
        };
        for (kind, name, ev, bytes) in events {
            add(&mut plan, df, kind, &name, &ev, bytes, None, &mut mem);
        }
        for &c in &df.cpus {
            method.entry(socket_of(c)).or_default().push(what.into());
        }
    }
    if mem.is_empty() {
        for pmu in pmus
            .iter()
            .filter(|p| numbered(&p.name, "nvidia_scf_pmu_").is_some())
        {
            // cmem_rd_data counts 32-byte units; cmem_wr_total_bytes counts bytes (kernel
            // Documentation/admin-guide/perf/nvidia-pmu.rst).
            for (ev, kind, width) in [
                ("cmem_rd_data", Kind::MemRead, 32.0),
                ("cmem_wr_total_bytes", Kind::MemWrite, 1.0),
            ] {
                let text = pmu.named_event(ev).map(|(t, _)| t);
                let text = text.unwrap_or_else(|| {
                    if kind == Kind::MemRead {
                        "event=0x1a5".into()
                    } else {
                        "event=0x1db".into()
                    }
                });
                add(&mut plan, pmu, kind, ev, &text, width, None, &mut mem);
            }
            for &c in &pmu.cpus {
                method
                    .entry(socket_of(c))
                    .or_default()
                    .push("nvidia_scf cmem_rd_data/cmem_wr_total_bytes".into());
            }
        }
    }
    if mem.is_empty() {
        arm_cmn(&pmus, &mut plan, &mut mem, &mut method, &add, &socket_of);
    }
    for (s, m) in method {
        let mut m = m;
        m.dedup();
        plan.sockets.insert(s, Some(m.join(", ")));
    }
    if mem.is_empty() {
        plan.reason = Some(format!(
            "no memory-controller PMU in {} (as in most VMs); it has: {}",
            devdir.display(),
            if names.is_empty() {
                "nothing".to_string()
            } else {
                names.join(", ")
            }
        ));
    }
    plan.counters = mem;

    // PCIe: Intel IIO free-running bw_in/bw_out per stack, NVIDIA Grace PCIe PMU per socket.
    let gpus = nvidia_gpus(sysfs);
    let mut pcie = Vec::new();
    for pmu in &pmus {
        if let Some(n) = numbered(&pmu.name, "uncore_iio_free_running_") {
            for &cpu in &pmu.cpus {
                let socket = socket_of(cpu);
                let bus = iio_root_bus(sysfs, n, socket);
                let name = bus
                    .clone()
                    .unwrap_or_else(|| format!("socket{socket}/iio{n}"));
                let mut any = false;
                for k in 0..16 {
                    for (prefix, kind) in
                        [("bw_in_port", Kind::PcieIn), ("bw_out_port", Kind::PcieOut)]
                    {
                        let ev = format!("{prefix}{k}");
                        if let Some((text, bytes)) = pmu.named_event(&ev) {
                            let one = Pmu {
                                cpus: vec![cpu],
                                ..pmu.clone()
                            };
                            add(
                                &mut plan,
                                &one,
                                kind,
                                &ev,
                                &text,
                                bytes.unwrap_or(4.0),
                                Some((&name, socket)),
                                &mut pcie,
                            );
                            any = true;
                        }
                    }
                }
                if any {
                    let mut labels = vec![
                        ("socket".into(), socket.to_string()),
                        ("pmu".into(), pmu.name.clone()),
                    ];
                    if let Some(b) = &bus {
                        labels.push(("root_bus".into(), b.clone()));
                    }
                    add_gpu_labels(&mut labels, bus.as_deref(), &gpus, procfs);
                    plan.ports.push(Port {
                        name,
                        socket,
                        labels,
                    });
                }
            }
        }
        if numbered(&pmu.name, "nvidia_pcie_pmu_").is_some() {
            let all_ports = pmu.formats.get("root_port").map(|f| {
                if f.width() >= 64 {
                    u64::MAX
                } else {
                    (1u64 << f.width()) - 1
                }
            });
            for &cpu in &pmu.cpus {
                let socket = socket_of(cpu);
                let name = format!("socket{socket}/{}", pmu.name);
                for (ev, kind, dflt) in [
                    ("rd_bytes_loc", Kind::PcieOut, "event=0x0"),
                    ("rd_bytes_rem", Kind::PcieOut, "event=0x1"),
                    ("wr_bytes_loc", Kind::PcieIn, "event=0x2"),
                    ("wr_bytes_rem", Kind::PcieIn, "event=0x3"),
                ] {
                    let mut text = pmu.named_event(ev).map_or(dflt.to_string(), |(t, _)| t);
                    if let Some(mask) = all_ports {
                        text.push_str(&format!(",root_port={mask:#x}"));
                    }
                    let one = Pmu {
                        cpus: vec![cpu],
                        ..pmu.clone()
                    };
                    add(
                        &mut plan,
                        &one,
                        kind,
                        ev,
                        &text,
                        1.0,
                        Some((&name, socket)),
                        &mut pcie,
                    );
                }
                let labels = vec![
                    ("socket".into(), socket.to_string()),
                    ("pmu".into(), pmu.name.clone()),
                ];
                plan.ports.push(Port {
                    name,
                    socket,
                    labels,
                });
            }
        }
    }
    plan.counters.extend(pcie);
    plan
}

fn add_gpu_labels(
    labels: &mut Vec<(String, String)>,
    bus: Option<&str>,
    gpus: &[(u32, String, String)],
    procfs: &Path,
) {
    let Some(bus) = bus else { return };
    let behind: Vec<&(u32, String, String)> = gpus.iter().filter(|g| g.2 == bus).collect();
    if behind.is_empty() {
        return;
    }
    let join = |f: &dyn Fn(&(u32, String, String)) -> String| {
        behind.iter().map(|g| f(g)).collect::<Vec<_>>().join(",")
    };
    labels.push(("gpu".into(), join(&|g| format!("gpu{}", g.0))));
    labels.push(("gpu_index".into(), join(&|g| g.0.to_string())));
    labels.push(("gpu_pci_bus_id".into(), join(&|g| g.1.clone())));
    let uuids: Vec<String> = behind
        .iter()
        .filter_map(|g| gpu_uuid(procfs, &g.1))
        .collect();
    if !uuids.is_empty() {
        labels.push(("gpu_uuid".into(), uuids.join(",")));
    }
}

/// Sort key so that `uncore_imc_10` comes after `uncore_imc_9`.
fn natural_key(name: &str) -> (String, u64) {
    let digits = name.len() - name.bytes().rev().take_while(u8::is_ascii_digit).count();
    (
        name[..digits].to_string(),
        name[digits..].parse().unwrap_or(0),
    )
}
