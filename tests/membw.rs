//! The membw source (issue 12): discovery and event encoding from fake sysfs trees written
//! here (one per processor family), the real perf_event_open path through a fake PMU whose
//! `type` is PERF_TYPE_SOFTWARE, the unavailable paths with their reason strings, resctrl, and
//! pmrep rate-converting the byte counters through a private pmcd.

mod util;

use llm_agent::catalogue::membw as cat;
use llm_agent::config::Interval;
use llm_agent::sources::membw::MembwSource;
use llm_agent::sources::membw::config::MembwConfig;
use llm_agent::sources::membw::discovery::{self, CounterSpec, Encoding, Kind, Plan};
use llm_agent::sources::{MetricId, Snapshot, Source, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use util::{PrivatePmcd, TempDir};

fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, format!("{text}\n")).unwrap();
}

/// CPUs 0..n, `per_socket` to a socket.
fn cpus(root: &Path, n: u32, per_socket: u32) {
    for c in 0..n {
        put(
            root,
            &format!("devices/system/cpu/cpu{c}/topology/physical_package_id"),
            &(c / per_socket).to_string(),
        );
    }
}

/// A PMU with type, cpumask, format files and events (name, encoding, scale, unit).
fn pmu(
    root: &Path,
    name: &str,
    ty: u32,
    cpumask: &str,
    formats: &[(&str, &str)],
    events: &[(&str, &str, Option<&str>, Option<&str>)],
) {
    let d = format!("bus/event_source/devices/{name}");
    put(root, &format!("{d}/type"), &ty.to_string());
    put(root, &format!("{d}/cpumask"), cpumask);
    for (f, v) in formats {
        put(root, &format!("{d}/format/{f}"), v);
    }
    for (e, enc, scale, unit) in events {
        put(root, &format!("{d}/events/{e}"), enc);
        if let Some(s) = scale {
            put(root, &format!("{d}/events/{e}.scale"), s);
        }
        if let Some(u) = unit {
            put(root, &format!("{d}/events/{e}.unit"), u);
        }
    }
}

const INTEL_FMT: &[(&str, &str)] = &[("event", "config:0-7"), ("umask", "config:8-15")];
const CAS_SCALE: Option<&str> = Some("6.103515625e-5");
const IIO_SCALE: Option<&str> = Some("3.814697266e-6");
const MIB: Option<&str> = Some("MiB");

fn plan(root: &Path) -> Plan {
    discovery::discover(root, &root.join("proc"))
}

/// (kind, socket, pmu, event, config, cpu, bytes per count) of every counter, for exact checks.
fn summary(p: &Plan) -> Vec<(Kind, u32, String, String, u64, u32, f64)> {
    p.counters
        .iter()
        .map(|c: &CounterSpec| {
            (
                c.kind,
                c.socket,
                c.pmu.clone(),
                c.event.clone(),
                c.encoding.config,
                c.cpu,
                c.bytes_per_count,
            )
        })
        .collect()
}

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn skylake_sp_named_cas_events_two_sockets() {
    let t = TempDir::new("membw-skx");
    let r = t.path();
    cpus(r, 8, 4);
    for (i, ty) in [(0, 13), (1, 14)] {
        pmu(
            r,
            &format!("uncore_imc_{i}"),
            ty,
            "0,4",
            INTEL_FMT,
            &[
                ("cas_count_read", "event=0x04,umask=0x03", CAS_SCALE, MIB),
                ("cas_count_write", "event=0x04,umask=0x0c", CAS_SCALE, MIB),
                ("clockticks", "event=0x00,umask=0x00", None, None),
            ],
        );
    }
    pmu(r, "software", 1, "", &[], &[]);
    let p = plan(r);
    let mut want = Vec::new();
    for (i, ty) in [(0u32, 13u32), (1, 14)] {
        let _ = ty;
        for (kind, ev, cfg) in [
            (Kind::MemRead, "cas_count_read", 0x0304u64),
            (Kind::MemWrite, "cas_count_write", 0x0c04),
        ] {
            for (cpu, socket) in [(0, 0), (4, 1)] {
                want.push((
                    kind,
                    socket,
                    format!("uncore_imc_{i}"),
                    s(ev),
                    cfg,
                    cpu,
                    64.0,
                ));
            }
        }
    }
    assert_eq!(summary(&p), want);
    assert_eq!(p.counters[0].ty, 13);
    assert_eq!(p.counters[4].ty, 14);
    assert_eq!(p.sockets.len(), 2);
    assert_eq!(
        p.sockets[&0].as_deref(),
        Some("uncore_imc cas_count_read/write")
    );
    assert_eq!(
        p.sockets[&1].as_deref(),
        Some("uncore_imc cas_count_read/write")
    );
    assert_eq!(p.reason, None);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn granite_rapids_sums_both_schedulers() {
    let t = TempDir::new("membw-gnr");
    let r = t.path();
    cpus(r, 2, 1);
    pmu(
        r,
        "uncore_imc_0",
        20,
        "0,1",
        INTEL_FMT,
        &[
            (
                "cas_count_read_sch0",
                "event=0x05,umask=0xcf",
                CAS_SCALE,
                MIB,
            ),
            (
                "cas_count_read_sch1",
                "event=0x06,umask=0xcf",
                CAS_SCALE,
                MIB,
            ),
            (
                "cas_count_write_sch0",
                "event=0x05,umask=0xf0",
                CAS_SCALE,
                MIB,
            ),
            (
                "cas_count_write_sch1",
                "event=0x06,umask=0xf0",
                CAS_SCALE,
                MIB,
            ),
        ],
    );
    // A free-running IMC alongside must not be counted twice.
    pmu(
        r,
        "uncore_imc_free_running_0",
        21,
        "0,1",
        INTEL_FMT,
        &[
            ("read", "event=0xff,umask=0x20", CAS_SCALE, MIB),
            ("write", "event=0xff,umask=0x21", CAS_SCALE, MIB),
        ],
    );
    let p = plan(r);
    let got: Vec<(Kind, u32, String, u64)> = p
        .counters
        .iter()
        .map(|c| (c.kind, c.socket, c.event.clone(), c.encoding.config))
        .collect();
    assert_eq!(
        got,
        vec![
            (Kind::MemRead, 0, s("cas_count_read_sch0"), 0xcf05),
            (Kind::MemRead, 1, s("cas_count_read_sch0"), 0xcf05),
            (Kind::MemRead, 0, s("cas_count_read_sch1"), 0xcf06),
            (Kind::MemRead, 1, s("cas_count_read_sch1"), 0xcf06),
            (Kind::MemWrite, 0, s("cas_count_write_sch0"), 0xf005),
            (Kind::MemWrite, 1, s("cas_count_write_sch0"), 0xf005),
            (Kind::MemWrite, 0, s("cas_count_write_sch1"), 0xf006),
            (Kind::MemWrite, 1, s("cas_count_write_sch1"), 0xf006),
        ]
    );
    assert!(
        p.counters
            .iter()
            .all(|c| c.bytes_per_count == 64.0 && c.pmu == "uncore_imc_0")
    );
    assert_eq!(
        p.sockets[&1].as_deref(),
        Some("uncore_imc cas_count_*_sch0+sch1")
    );
}

#[test]
fn ice_lake_free_running_imc() {
    let t = TempDir::new("membw-icx");
    let r = t.path();
    cpus(r, 4, 2);
    // The programmable IMC without named CAS events is not used.
    pmu(
        r,
        "uncore_imc_0",
        16,
        "0,2",
        INTEL_FMT,
        &[("clockticks", "event=0x00,umask=0x00", None, None)],
    );
    for i in 0..2 {
        pmu(
            r,
            &format!("uncore_imc_free_running_{i}"),
            30 + i,
            "0,2",
            INTEL_FMT,
            &[
                ("read", "event=0xff,umask=0x20", CAS_SCALE, MIB),
                ("write", "event=0xff,umask=0x21", CAS_SCALE, MIB),
                ("dclk", "event=0xff,umask=0x10", None, None),
            ],
        );
    }
    let p = plan(r);
    assert_eq!(p.counters.len(), 8, "{:?}", summary(&p));
    assert_eq!(
        summary(&p)[..4],
        [
            (
                Kind::MemRead,
                0,
                s("uncore_imc_free_running_0"),
                s("read"),
                0x20ff,
                0,
                64.0
            ),
            (
                Kind::MemRead,
                1,
                s("uncore_imc_free_running_0"),
                s("read"),
                0x20ff,
                2,
                64.0
            ),
            (
                Kind::MemWrite,
                0,
                s("uncore_imc_free_running_0"),
                s("write"),
                0x21ff,
                0,
                64.0
            ),
            (
                Kind::MemWrite,
                1,
                s("uncore_imc_free_running_0"),
                s("write"),
                0x21ff,
                2,
                64.0
            ),
        ]
    );
    assert_eq!(p.counters[7].ty, 31);
    assert_eq!(
        p.sockets[&0].as_deref(),
        Some("uncore_imc_free_running read/write")
    );
}

fn amd_df(r: &Path, perfmon_v2: bool) {
    let fmt: &[(&str, &str)] = if perfmon_v2 {
        &[
            ("event", "config:0-7,32-37"),
            ("umask", "config:8-15,24-27"),
        ]
    } else {
        &[("event", "config:0-7,32-35"), ("umask", "config:8-15")]
    };
    pmu(r, "amd_df", 11, "0,96", fmt, &[]);
}

#[test]
fn amd_zen4_umc_without_event_files() {
    let t = TempDir::new("membw-zen4");
    let r = t.path();
    cpus(r, 192, 96);
    for i in 0..4 {
        // Controllers 0-1 on socket 0, 2-3 on socket 1.
        let mask = if i < 2 { "0" } else { "96" };
        pmu(
            r,
            &format!("amd_umc_{i}"),
            40 + i,
            mask,
            &[("event", "config:0-7"), ("rdwrmask", "config:8-9")],
            &[],
        );
    }
    amd_df(r, true);
    let p = plan(r);
    let got: Vec<(Kind, u32, String, u64, u32, f64)> = p
        .counters
        .iter()
        .map(|c| {
            (
                c.kind,
                c.socket,
                c.pmu.clone(),
                c.encoding.config,
                c.cpu,
                c.bytes_per_count,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (Kind::MemRead, 0, s("amd_umc_0"), 0x10a, 0, 64.0),
            (Kind::MemWrite, 0, s("amd_umc_0"), 0x20a, 0, 64.0),
            (Kind::MemRead, 0, s("amd_umc_1"), 0x10a, 0, 64.0),
            (Kind::MemWrite, 0, s("amd_umc_1"), 0x20a, 0, 64.0),
            (Kind::MemRead, 1, s("amd_umc_2"), 0x10a, 96, 64.0),
            (Kind::MemWrite, 1, s("amd_umc_2"), 0x20a, 96, 64.0),
            (Kind::MemRead, 1, s("amd_umc_3"), 0x10a, 96, 64.0),
            (Kind::MemWrite, 1, s("amd_umc_3"), 0x20a, 96, 64.0),
        ]
    );
    assert_eq!(
        p.sockets[&1].as_deref(),
        Some("amd_umc umc_cas_cmd (built-in table)")
    );
}

#[test]
fn amd_zen4_data_fabric_split_format_fallback() {
    let t = TempDir::new("membw-df");
    let r = t.path();
    cpus(r, 192, 96);
    amd_df(r, true);
    let p = plan(r);
    assert_eq!(
        p.counters.len(),
        48,
        "12 coherent stations x read and write x 2 sockets"
    );
    assert!(
        p.counters
            .iter()
            .all(|c| c.bytes_per_count == 64.0 && c.ty == 11)
    );
    let reads: Vec<_> = p
        .counters
        .iter()
        .filter(|c| c.kind == Kind::MemRead)
        .collect();
    let writes: Vec<_> = p
        .counters
        .iter()
        .filter(|c| c.kind == Kind::MemWrite)
        .collect();
    assert_eq!((reads.len(), writes.len()), (24, 24));
    // cs0: event 0x1f, umask 0x7fe: umask bits 0-7 at 8-15, bits 8-10 at 24-26.
    assert_eq!(
        reads[0].encoding,
        Encoding {
            config: 0x0700_fe1f,
            config1: 0,
            config2: 0
        }
    );
    assert_eq!((reads[0].cpu, reads[1].cpu), (0, 96));
    // cs11: event 0x2df: low byte 0xdf, the rest (0x2) at bit 32.
    assert_eq!(reads[22].encoding.config, 0x2_0700_fedf);
    assert_eq!(reads[22].event, "local_processor_read_data_beats_cs11");
    // Writes: umask 0x7ff.
    assert_eq!(writes[0].encoding.config, 0x0700_ff1f);
    assert_eq!(writes[23].event, "local_processor_write_data_beats_cs11");
    assert_eq!(writes[23].encoding.config, 0x2_0700_ffdf);
    assert_eq!(
        p.sockets[&1].as_deref(),
        Some("amd_df read and write data beats cs0-11 (built-in table)")
    );
}

#[test]
fn amd_zen2_zen3_data_fabric_counts_read_and_write_together() {
    // No PerfMonV2: event at config:0-7,32-35, umask at 8-15; 8 DRAM channels per socket.
    let t = TempDir::new("membw-df2");
    let r = t.path();
    cpus(r, 192, 96);
    amd_df(r, false);
    let p = plan(r);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.counters.len(), 16, "8 channels x 2 sockets");
    assert!(
        p.counters
            .iter()
            .all(|c| c.kind == Kind::MemTotal && c.bytes_per_count == 64.0 && c.ty == 11)
    );
    // channel 0: event 0x07, umask 0x38; channel 7: event 0x1c7 (0xc7 low, 0x1 at bit 32).
    assert_eq!(p.counters[0].encoding.config, 0x3807);
    assert_eq!(p.counters[0].event, "dram_channel_data_controller_0");
    assert_eq!((p.counters[0].cpu, p.counters[1].cpu), (0, 96));
    assert_eq!(p.counters[14].event, "dram_channel_data_controller_7");
    assert_eq!(p.counters[14].encoding.config, 0x1_0000_38c7);
    assert_eq!(
        p.sockets[&0].as_deref(),
        Some("amd_df DRAM channel requests 0-7, read and write together (built-in table)")
    );
    assert!(p.reason.is_none(), "{:?}", p.reason);
}

#[test]
fn no_memory_controller_pmu_is_said_so() {
    let t = TempDir::new("membw-none");
    let r = t.path();
    cpus(r, 2, 1);
    let p = plan(r);
    assert!(p.counters.is_empty());
    assert!(
        p.reason
            .as_deref()
            .unwrap()
            .starts_with("no memory-controller PMU"),
        "{:?}",
        p.reason
    );
}

/// An Arm Neoverse server (Graviton-like): one CMN mesh per socket, the kernel's own event
/// names and format (type at config:0-15, eventid at config:16-26).
#[test]
fn arm_cmn_memory_controller_requests() {
    let t = TempDir::new("membw-cmn");
    let r = t.path();
    cpus(r, 128, 64);
    for sk in 0..2u32 {
        pmu(
            r,
            &format!("arm_cmn_{sk}"),
            70 + sk,
            &(sk * 64).to_string(),
            &[
                ("type", "config:0-15"),
                ("eventid", "config:16-26"),
                ("nodeid", "config:32-47"),
            ],
            &[
                ("hnf_mc_reqs", "type=0x5,eventid=0xd", None, None),
                ("hnf_cache_miss", "type=0x5,eventid=0x1", None, None),
            ],
        );
    }
    let p = plan(r);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        summary(&p),
        vec![
            (
                Kind::MemTotal,
                0,
                s("arm_cmn_0"),
                s("hnf_mc_reqs"),
                0x000d_0005,
                0,
                64.0
            ),
            (
                Kind::MemTotal,
                1,
                s("arm_cmn_1"),
                s("hnf_mc_reqs"),
                0x000d_0005,
                64,
                64.0
            ),
        ]
    );
    assert_eq!(
        p.sockets[&1].as_deref(),
        Some("arm_cmn hnf_mc_reqs x 64 B (memory-controller requests, read and write together)")
    );
    assert!(p.reason.is_none(), "{:?}", p.reason);

    // A mesh whose model the kernel gives no hnf_mc_reqs: said so, and no counter.
    let t = TempDir::new("membw-cmn-unnamed");
    let r = t.path();
    cpus(r, 4, 4);
    pmu(r, "arm_cmn_0", 70, "0", &[("type", "config:0-15")], &[]);
    let p = plan(r);
    assert!(p.counters.is_empty());
    assert!(
        p.warnings[0].contains("arm_cmn_0: no hnf_mc_reqs event"),
        "{:?}",
        p.warnings
    );
}

#[test]
fn nvidia_grace_scf_and_pcie() {
    let t = TempDir::new("membw-grace");
    let r = t.path();
    cpus(r, 144, 72);
    for sk in 0..2u32 {
        let cpu = (sk * 72).to_string();
        pmu(
            r,
            &format!("nvidia_scf_pmu_{sk}"),
            50 + sk,
            &cpu,
            &[("event", "config:0-31")],
            &[
                ("cmem_rd_data", "event=0x1a5", None, None),
                ("cmem_wr_total_bytes", "event=0x1db", None, None),
                ("cycles", "event=0x100000000", None, None),
            ],
        );
        pmu(
            r,
            &format!("nvidia_pcie_pmu_{sk}"),
            60 + sk,
            &cpu,
            &[("event", "config:0-31"), ("root_port", "config1:0-9")],
            &[
                ("rd_bytes_loc", "event=0x0", None, None),
                ("rd_bytes_rem", "event=0x1", None, None),
                ("wr_bytes_loc", "event=0x2", None, None),
                ("wr_bytes_rem", "event=0x3", None, None),
            ],
        );
    }
    let p = plan(r);
    let mem: Vec<_> = summary(&p)
        .into_iter()
        .filter(|c| matches!(c.0, Kind::MemRead | Kind::MemWrite))
        .collect();
    assert_eq!(
        mem,
        vec![
            (
                Kind::MemRead,
                0,
                s("nvidia_scf_pmu_0"),
                s("cmem_rd_data"),
                0x1a5,
                0,
                32.0
            ),
            (
                Kind::MemWrite,
                0,
                s("nvidia_scf_pmu_0"),
                s("cmem_wr_total_bytes"),
                0x1db,
                0,
                1.0
            ),
            (
                Kind::MemRead,
                1,
                s("nvidia_scf_pmu_1"),
                s("cmem_rd_data"),
                0x1a5,
                72,
                32.0
            ),
            (
                Kind::MemWrite,
                1,
                s("nvidia_scf_pmu_1"),
                s("cmem_wr_total_bytes"),
                0x1db,
                72,
                1.0
            ),
        ]
    );
    let pcie: Vec<(Kind, Option<String>, u64, u64, u32)> = p
        .counters
        .iter()
        .filter(|c| c.pmu == "nvidia_pcie_pmu_1")
        .map(|c| {
            (
                c.kind,
                c.port.clone(),
                c.encoding.config,
                c.encoding.config1,
                c.cpu,
            )
        })
        .collect();
    let port = Some(s("socket1/nvidia_pcie_pmu_1"));
    assert_eq!(
        pcie,
        vec![
            (Kind::PcieOut, port.clone(), 0, 0x3ff, 72),
            (Kind::PcieOut, port.clone(), 1, 0x3ff, 72),
            (Kind::PcieIn, port.clone(), 2, 0x3ff, 72),
            (Kind::PcieIn, port.clone(), 3, 0x3ff, 72),
        ]
    );
    assert_eq!(p.ports.len(), 2);
    assert_eq!(
        p.ports[1].labels,
        vec![(s("socket"), s("1")), (s("pmu"), s("nvidia_pcie_pmu_1"))]
    );
}

#[test]
fn iio_stacks_map_to_root_buses_and_the_gpu_behind_one() {
    let t = TempDir::new("membw-iio");
    let r = t.path();
    cpus(r, 8, 4);
    for n in 0..2u32 {
        let ev: Vec<(String, String)> = (0..4)
            .flat_map(|k| {
                [
                    (
                        format!("bw_in_port{k}"),
                        format!("event=0xff,umask={:#x}", 0x20 + k),
                    ),
                    (
                        format!("bw_out_port{k}"),
                        format!("event=0xff,umask={:#x}", 0x24 + k),
                    ),
                ]
            })
            .collect();
        let evs: Vec<(&str, &str, Option<&str>, Option<&str>)> = ev
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str(), IIO_SCALE, MIB))
            .collect();
        pmu(
            r,
            &format!("uncore_iio_free_running_{n}"),
            70 + n,
            "0,4",
            INTEL_FMT,
            &evs,
        );
    }
    put(r, "devices/uncore_iio_0/die0", "0000:00");
    put(r, "devices/uncore_iio_0/die1", "0000:80");
    put(r, "devices/uncore_iio_1/die0", "0000:17");
    put(r, "devices/uncore_iio_1/die1", "0000:97");
    // A GPU (3D controller) at 0000:18:00.0 behind root port 0000:17:01.0, and a NIC under 0000:97.
    for (addr, root, vendor, class) in [
        (
            "0000:18:00.0",
            "pci0000:17/0000:17:01.0",
            "0x10de",
            "0x030200",
        ),
        (
            "0000:98:00.0",
            "pci0000:97/0000:97:02.0",
            "0x15b3",
            "0x020000",
        ),
    ] {
        let dev = format!("devices/{root}/{addr}");
        put(r, &format!("{dev}/vendor"), vendor);
        put(r, &format!("{dev}/class"), class);
        std::fs::create_dir_all(r.join("bus/pci/devices")).unwrap();
        std::os::unix::fs::symlink(
            format!("../../../{dev}"),
            r.join("bus/pci/devices").join(addr),
        )
        .unwrap();
    }
    put(
        r,
        "proc/driver/nvidia/gpus/0000:18:00.0/information",
        "Model: \t NVIDIA H100\nGPU UUID: \t GPU-12345678-abcd\nBus Location: \t 0000:18:00.0",
    );
    let p = plan(r);
    let names: Vec<&str> = p.ports.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["0000:00", "0000:80", "0000:17", "0000:97"]);
    let gpu_port = &p.ports[2];
    assert_eq!(gpu_port.socket, 0);
    assert_eq!(
        gpu_port.labels,
        vec![
            (s("socket"), s("0")),
            (s("pmu"), s("uncore_iio_free_running_1")),
            (s("root_bus"), s("0000:17")),
            (s("gpu"), s("gpu0")),
            (s("gpu_index"), s("0")),
            (s("gpu_pci_bus_id"), s("0000:18:00.0")),
            (s("gpu_uuid"), s("GPU-12345678-abcd")),
        ]
    );
    assert_eq!(
        p.ports[3].labels.len(),
        3,
        "no GPU behind 0000:97: {:?}",
        p.ports[3].labels
    );
    let stack: Vec<_> = p
        .counters
        .iter()
        .filter(|c| c.port.as_deref() == Some("0000:17"))
        .map(|c| {
            (
                c.kind,
                c.event.clone(),
                c.encoding.config,
                c.cpu,
                c.bytes_per_count,
            )
        })
        .collect();
    assert_eq!(stack.len(), 8);
    assert_eq!(stack[0], (Kind::PcieIn, s("bw_in_port0"), 0x20ff, 0, 4.0));
    assert_eq!(stack[1], (Kind::PcieOut, s("bw_out_port0"), 0x24ff, 0, 4.0));
    assert_eq!(stack[7], (Kind::PcieOut, s("bw_out_port3"), 0x27ff, 0, 4.0));
    assert!(
        p.counters
            .iter()
            .filter(|c| c.port.as_deref() == Some("0000:97"))
            .all(|c| c.cpu == 4)
    );
    // No memory controller here: the reason names what the tree has.
    assert!(
        p.reason
            .as_deref()
            .unwrap()
            .contains("uncore_iio_free_running_0, uncore_iio_free_running_1"),
        "{:?}",
        p.reason
    );
}

#[test]
fn a_vm_has_none_and_says_so() {
    let t = TempDir::new("membw-vm");
    let r = t.path();
    cpus(r, 2, 2);
    for (n, ty) in [
        ("software", 1),
        ("tracepoint", 2),
        ("breakpoint", 5),
        ("msr", 9),
    ] {
        pmu(r, n, ty, "", &[], &[]);
    }
    let p = plan(r);
    assert!(p.counters.is_empty() && p.ports.is_empty());
    assert_eq!(p.sockets.keys().copied().collect::<Vec<_>>(), vec![0]);
    assert_eq!(
        p.reason.as_deref(),
        Some(format!("no memory-controller PMU in {}/bus/event_source/devices (as in most VMs); it has: breakpoint, msr, software, tracepoint", r.display()).as_str())
    );
    let src = MembwSource::new(&cfg(r));
    let mut src = src;
    let snap = src.sample().unwrap();
    assert_eq!(val(&snap, cat::M_METHOD, 0), Some(Value::Str(s("none"))));
    assert_eq!(
        val(&snap, cat::M_REASON, 0),
        Some(Value::Str(p.reason.clone().unwrap()))
    );
    assert_eq!(val(&snap, cat::M_READ, 0), None);
}

#[test]
fn format_errors_name_the_file() {
    let t = TempDir::new("membw-badfmt");
    let r = t.path();
    cpus(r, 1, 1);
    pmu(
        r,
        "uncore_imc_0",
        13,
        "0",
        &[("event", "config:0-7")],
        &[
            ("cas_count_read", "event=0x04,umask=0x03", CAS_SCALE, MIB),
            ("cas_count_write", "event=0x104", CAS_SCALE, MIB),
        ],
    );
    let p = plan(r);
    assert!(p.counters.is_empty());
    assert!(
        p.warnings[0].contains("umask") && p.warnings[0].contains("uncore_imc_0/format"),
        "{:?}",
        p.warnings
    );
    assert!(
        p.warnings[1].contains("does not fit in 8 bits") && p.warnings[1].contains("format/event"),
        "{:?}",
        p.warnings
    );
    put(
        r,
        "bus/event_source/devices/uncore_imc_0/format/umask",
        "config8-15",
    );
    let p = plan(r);
    assert!(
        p.warnings[0].contains("uncore_imc_0/format/umask: \"config8-15\" is not a format"),
        "{:?}",
        p.warnings
    );
}

fn cfg(sysfs: &Path) -> MembwConfig {
    MembwConfig {
        enabled: true,
        interval: Interval(Duration::from_secs(1)),
        sysfs: sysfs.to_path_buf(),
        procfs: sysfs.join("proc"),
    }
}

fn val(snap: &Snapshot, item: u32, inst: u32) -> Option<Value> {
    val_in(snap, cat::CLUSTER_MEMORY, item, inst)
}

fn val_in(snap: &Snapshot, cluster: u32, item: u32, inst: u32) -> Option<Value> {
    snap.values
        .iter()
        .find(|(m, i, _)| *m == MetricId::new(cluster, item) && *i == inst)
        .map(|(_, _, v)| v.clone())
}

fn u64_of(v: Option<Value>) -> u64 {
    match v {
        Some(Value::U64(x)) => x,
        other => panic!("expected a u64 value, got {other:?}"),
    }
}

/// A fake memory controller whose `type` is PERF_TYPE_SOFTWARE (1) and whose CAS events encode
/// cpu-clock (config 0): real kernel counters that grow by ~1e9 per second per CPU.
fn software_imc(r: &Path, ty: u32) {
    cpus(r, 1, 1);
    pmu(
        r,
        "uncore_imc_0",
        ty,
        "0",
        INTEL_FMT,
        &[
            ("cas_count_read", "event=0x00", CAS_SCALE, MIB),
            (
                "cas_count_write",
                "event=0x00,umask=0x00",
                Some("1"),
                Some("B"),
            ),
        ],
    );
}

#[test]
fn real_perf_counters_grow_with_the_scale() {
    let t = TempDir::new("membw-perf");
    let r = t.path();
    software_imc(r, 1);
    let mut src = MembwSource::new(&cfg(r));
    assert_eq!(src.reason(0), None);
    assert_eq!(src.open_counters(), 2);
    let first = src.sample().unwrap();
    let t0 = Instant::now();
    let (r0, w0) = (
        u64_of(val(&first, cat::M_READ, 0)),
        u64_of(val(&first, cat::M_WRITE, 0)),
    );
    std::thread::sleep(Duration::from_millis(300));
    let second = src.sample().unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let (r1, w1) = (
        u64_of(val(&second, cat::M_READ, 0)),
        u64_of(val(&second, cat::M_WRITE, 0)),
    );
    // cpu-clock counts nanoseconds: read is 64 B per count, write 1 B per count.
    let read_rate = (r1 - r0) as f64 / secs;
    let write_rate = (w1 - w0) as f64 / secs;
    assert!(
        read_rate > 0.5 * 64e9 && read_rate < 1.5 * 64e9,
        "read {read_rate} B/s"
    );
    assert!(
        write_rate > 0.5e9 && write_rate < 1.5e9,
        "write {write_rate} B/s"
    );
    assert_eq!((r1 - r0) % 64, 0, "whole CAS lines");
    // Where reads and writes are counted apart, the total is their sum.
    assert_eq!(u64_of(val(&second, cat::M_TOTAL, 0)), r1 + w1);
    assert_eq!(val(&second, cat::M_COUNTERS, 0), Some(Value::U32(2)));
    assert_eq!(
        val(&second, cat::M_METHOD, 0),
        Some(Value::Str(s("uncore_imc cas_count_read/write")))
    );
    assert_eq!(val(&second, cat::M_REASON, 0), None);
}

#[test]
fn missing_pmu_type_gives_the_reason() {
    let t = TempDir::new("membw-nopmu");
    let r = t.path();
    software_imc(r, 987_654);
    let mut src = MembwSource::new(&cfg(r));
    assert_eq!(src.open_counters(), 0);
    let reason = src.reason(0).expect("a reason");
    assert!(
        reason.starts_with("uncore_imc_0: the kernel does not support this PMU or event here"),
        "{reason}"
    );
    let snap = src.sample().unwrap();
    assert_eq!(val(&snap, cat::M_METHOD, 0), Some(Value::Str(s("none"))));
    assert_eq!(val(&snap, cat::M_READ, 0), None);
}

/// Run as an unprivileged user (setpriv to nobody), the opener is refused by
/// perf_event_paranoid, and says so. The child is this test binary itself.
#[test]
fn unprivileged_open_is_refused_with_the_paranoid_reason() {
    if let Ok(dir) = std::env::var("MEMBW_CHILD_SYSFS") {
        let src = MembwSource::new(&cfg(Path::new(&dir)));
        println!("REASON={}", src.reason(0).unwrap_or("(none)"));
        println!("OPEN={}", src.open_counters());
        return;
    }
    let paranoid: i32 = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let t = TempDir::new("membw-unpriv");
    let r = t.path();
    software_imc(r, 1);
    let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(r).status();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&exe)
        .args([
            "--exact",
            "unprivileged_open_is_refused_with_the_paranoid_reason",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("MEMBW_CHILD_SYSFS", r)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child failed (is the test binary readable by nobody?): {text}"
    );
    if paranoid > 0 {
        let want = format!(
            "REASON=perf_event_paranoid is {paranoid}; give pmdallm CAP_PERFMON or set it to 0 (uncore_imc_0: "
        );
        assert!(text.contains(&want), "{text}");
        assert!(text.contains("OPEN=0"), "{text}");
    } else {
        assert!(
            text.contains("OPEN=2"),
            "paranoid {paranoid} allows it: {text}"
        );
    }
}

#[test]
fn resctrl_with_and_without_snc_and_unassigned() {
    let t = TempDir::new("membw-resctrl");
    let r = t.path();
    cpus(r, 2, 1);
    put(r, "fs/resctrl/info/L3_MON/num_rmids", "256");
    put(
        r,
        "fs/resctrl/mon_data/mon_L3_00/mbm_total_bytes",
        "123456789",
    );
    put(
        r,
        "fs/resctrl/mon_data/mon_L3_00/mbm_local_bytes",
        "100000000",
    );
    put(
        r,
        "fs/resctrl/mon_data/mon_L3_01/mbm_total_bytes",
        "Unassigned",
    );
    put(r, "fs/resctrl/mon_data/mon_L3_01/mbm_local_bytes", "42");
    let mut src = MembwSource::new(&cfg(r));
    let snap = src.sample().unwrap();
    let c = cat::CLUSTER_RESCTRL;
    assert_eq!(
        val_in(&snap, c, cat::R_TOTAL, 0),
        Some(Value::U64(123_456_789))
    );
    assert_eq!(
        val_in(&snap, c, cat::R_LOCAL, 0),
        Some(Value::U64(100_000_000))
    );
    assert_eq!(
        val_in(&snap, c, cat::R_TOTAL, 1),
        None,
        "Unassigned is no value, not zero"
    );
    assert_eq!(val_in(&snap, c, cat::R_LOCAL, 1), Some(Value::U64(42)));
    assert_eq!(val_in(&snap, c, cat::R_REASON, u32::MAX), None);
    let l3 = snap
        .indoms
        .iter()
        .find(|i| i.indom_serial == cat::L3_DOMAINS.serial)
        .unwrap();
    assert_eq!(
        l3.instances
            .iter()
            .map(|i| (i.id, i.name.as_str()))
            .collect::<Vec<_>>(),
        vec![(0, "mon_L3_00"), (1, "mon_L3_01")]
    );

    // Sub-NUMA Clustering: mon_sub_L3_YY inside the L3 domain.
    put(
        r,
        "fs/resctrl/mon_data/mon_L3_00/mon_sub_L3_00/mbm_total_bytes",
        "1000",
    );
    put(
        r,
        "fs/resctrl/mon_data/mon_L3_00/mon_sub_L3_01/mbm_total_bytes",
        "2000",
    );
    let snap = src.sample().unwrap();
    assert_eq!(val_in(&snap, c, cat::R_TOTAL, 1000), Some(Value::U64(1000)));
    assert_eq!(val_in(&snap, c, cat::R_TOTAL, 1001), Some(Value::U64(2000)));
    let l3 = snap
        .indoms
        .iter()
        .find(|i| i.indom_serial == cat::L3_DOMAINS.serial)
        .unwrap();
    assert_eq!(
        l3.instances
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>(),
        vec!["mon_L3_00", "mon_L3_01", "mon_sub_L3_00", "mon_sub_L3_01"]
    );

    // A file that is not a byte count names the file.
    put(
        r,
        "fs/resctrl/mon_data/mon_L3_01/mbm_local_bytes",
        "garbage",
    );
    let snap = src.sample().unwrap();
    let Some(Value::Str(why)) = val_in(&snap, c, cat::R_REASON, u32::MAX) else {
        panic!("no reason")
    };
    assert_eq!(
        why,
        format!(
            "{}/fs/resctrl/mon_data/mon_L3_01/mbm_local_bytes: \"garbage\" is not a byte count",
            r.display()
        )
    );

    // Not mounted.
    let t2 = TempDir::new("membw-noresctrl");
    cpus(t2.path(), 1, 1);
    let snap = MembwSource::new(&cfg(t2.path())).sample().unwrap();
    let Some(Value::Str(why)) = val_in(&snap, c, cat::R_REASON, u32::MAX) else {
        panic!("no reason")
    };
    assert!(
        why.starts_with(&format!(
            "resctrl is not mounted at {}/fs/resctrl",
            t2.path().display()
        )),
        "{why}"
    );
}

/// Unreadable resctrl (a file nobody may read) gives the reason, as the unprivileged agent sees it.
#[test]
fn unreadable_resctrl_gives_the_reason() {
    if let Ok(dir) = std::env::var("MEMBW_CHILD_RESCTRL") {
        let snap = MembwSource::new(&cfg(Path::new(&dir))).sample().unwrap();
        println!(
            "REASON={:?}",
            val_in(&snap, cat::CLUSTER_RESCTRL, cat::R_REASON, u32::MAX)
        );
        return;
    }
    let t = TempDir::new("membw-resctrl-perm");
    let r = t.path();
    cpus(r, 1, 1);
    put(r, "fs/resctrl/mon_data/mon_L3_00/mbm_total_bytes", "5");
    let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(r).status();
    let f = r.join("fs/resctrl/mon_data/mon_L3_00/mbm_total_bytes");
    let _ = Command::new("chmod").arg("000").arg(&f).status();
    let out = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "unreadable_resctrl_gives_the_reason",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("MEMBW_CHILD_RESCTRL", r)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(&format!(
            "REASON=Some(Str(\"{}: Permission denied",
            f.display()
        )),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The agent through a private pmcd: the metrics exist, and pmrep rate-converts the byte counter
/// of the software-event PMU as its scale implies (64 B per cpu-clock nanosecond = 64 GB/s).
#[test]
fn pmrep_rate_converts_the_byte_counters() {
    let t = TempDir::new("membw-pmrep");
    let r = t.path();
    software_imc(r, 1);
    let conf = format!(
        "[gpu]\nenabled = false\n\n[membw]\ninterval = \"200ms\"\nsysfs = \"{}\"\n",
        r.display()
    );
    let pmcd = PrivatePmcd::start("membw-pmrep", &conf);
    assert!(
        pmcd.wait(10, |p| p.value("llm.membw.method", "socket0").is_some()),
        "no llm.membw.method; log:\n{}",
        pmcd.log()
    );
    assert_eq!(
        pmcd.value("llm.membw.method", "socket0").as_deref(),
        Some("uncore_imc cas_count_read/write"),
        "log:\n{}",
        pmcd.log()
    );
    let desc = pmcd.pminfo(&["-d", "llm.membw.read"]);
    assert!(desc.contains("Semantics: counter  Units: byte"), "{desc}");
    let csv = pmcd.client(
        "pmrep",
        &[
            "-t",
            "1",
            "-s",
            "3",
            "-o",
            "csv",
            "llm.membw.read",
            "llm.membw.write",
        ],
    );
    let rows: Vec<&str> = csv
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(rows.len() >= 2, "pmrep: {csv}");
    let last: Vec<&str> = rows.last().unwrap().split(',').collect();
    let read: f64 = last[1].parse().unwrap_or_else(|_| panic!("{csv}"));
    let write: f64 = last[2].parse().unwrap_or_else(|_| panic!("{csv}"));
    assert!(
        read > 0.7 * 64e9 && read < 1.3 * 64e9,
        "read rate {read} B/s: {csv}"
    );
    assert!(
        write > 0.7e9 && write < 1.3e9,
        "write rate {write} B/s: {csv}"
    );
}

#[test]
fn membw_section_of_llm_conf() {
    use llm_agent::{self, config::Config};
    let c = Config::parse(
        "llm.conf",
        "[membw]\nenabled = false\ninterval = \"2s\"\nsysfs = \"/tmp/sys\"\n",
    );
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(
        c.membw,
        MembwConfig {
            enabled: false,
            interval: Interval(Duration::from_secs(2)),
            sysfs: "/tmp/sys".into(),
            procfs: "/proc".into()
        }
    );
    assert!(!llm_agent::plan(&c).iter().any(|p| p.name == "membw"));
    let c = Config::parse("llm.conf", "");
    assert_eq!(c.membw, MembwConfig::default());
    assert!(c.membw.enabled && c.membw.sysfs == Path::new("/sys"));
    assert!(
        llm_agent::plan(&c).iter().any(|p| p.name == "membw"),
        "on by default"
    );
    let c = Config::parse("f", "[gpu]\nenabled = false\n\n[membw]\nsysf = \"/x\"\n");
    assert_eq!(
        c.errors,
        vec![s(
            "f:5: [membw]: unknown key \"sysf\" (the known keys are enabled, interval, sysfs, procfs); using built-in defaults for this section"
        )]
    );
    assert_eq!(c.membw, MembwConfig::default());
    // An endpoint may not take the source's name.
    let c = Config::parse(
        "f",
        "[[vllm]]\nname = \"membw\"\nurl = \"http://x/metrics\"\n",
    );
    assert!(
        c.errors[0].contains("name \"membw\" is already used by the built-in membw source"),
        "{:?}",
        c.errors
    );
}

#[test]
fn sapphire_rapids_without_named_events_uses_the_built_in_table_and_sch0_only_says_half() {
    let t = TempDir::new("membw-spr");
    let r = t.path();
    cpus(r, 2, 1);
    pmu(
        r,
        "uncore_imc_0",
        25,
        "0,1",
        INTEL_FMT,
        &[("clockticks", "event=0x01,umask=0x00", None, None)],
    );
    // Not a Sapphire Rapids: nothing is guessed.
    put(
        r,
        "proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 106\n",
    );
    let p = plan(r);
    assert!(p.counters.is_empty(), "{:?}", summary(&p));
    put(
        r,
        "proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n",
    );
    let p = plan(r);
    let got: Vec<(Kind, u32, String, u64, f64)> = p
        .counters
        .iter()
        .map(|c| {
            (
                c.kind,
                c.socket,
                c.event.clone(),
                c.encoding.config,
                c.bytes_per_count,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (Kind::MemRead, 0, s("cas_count_read"), 0xcf05, 64.0),
            (Kind::MemRead, 1, s("cas_count_read"), 0xcf05, 64.0),
            (Kind::MemWrite, 0, s("cas_count_write"), 0xf005, 64.0),
            (Kind::MemWrite, 1, s("cas_count_write"), 0xf005, 64.0),
        ]
    );
    assert_eq!(
        p.sockets[&0].as_deref(),
        Some("uncore_imc CAS read/write (built-in table: Sapphire/Emerald Rapids)")
    );

    // Granite Rapids on a kernel with sch0 only: counted, and the method says it is half.
    let t = TempDir::new("membw-gnr0");
    let r = t.path();
    cpus(r, 1, 1);
    pmu(
        r,
        "uncore_imc_0",
        20,
        "0",
        INTEL_FMT,
        &[
            (
                "cas_count_read_sch0",
                "event=0x05,umask=0xcf",
                CAS_SCALE,
                MIB,
            ),
            (
                "cas_count_write_sch0",
                "event=0x05,umask=0xf0",
                CAS_SCALE,
                MIB,
            ),
        ],
    );
    let p = plan(r);
    assert_eq!(p.counters.len(), 2);
    assert_eq!(
        p.sockets[&0].as_deref(),
        Some(
            "uncore_imc cas_count_*_sch0 only (this kernel has no _sch1 events: about half the traffic)"
        )
    );
}

/// pmlogconf enables the shipped membw group where counters are open, and not on a machine
/// without memory-controller PMUs (its probe is llm.membw.counters > 0).
#[test]
fn pmlogconf_enables_the_membw_group_only_with_counters() {
    let run_pmlogconf = |tree_with_counters: bool| -> String {
        let t = TempDir::new("membw-logconf-tree");
        let r = t.path();
        if tree_with_counters {
            software_imc(r, 1);
        } else {
            cpus(r, 1, 1);
            pmu(r, "software", 1, "", &[], &[]);
        }
        let conf = format!(
            "[gpu]\nenabled = false\n\n[membw]\nsysfs = \"{}\"\n",
            r.display()
        );
        let pmcd = PrivatePmcd::start("membw-logconf", &conf);
        assert!(
            pmcd.wait(10, |p| p.value("llm.membw.counters", "socket0").is_some()),
            "{}",
            pmcd.log()
        );
        let groups = pmcd.dir.path().join("groups");
        std::fs::create_dir_all(groups.join("llm")).unwrap();
        std::fs::copy(
            util::repo().join("pmda/pmlogconf/membw"),
            groups.join("llm/membw"),
        )
        .unwrap();
        let out = pmcd.dir.path().join("out.config");
        let status = Command::new("/usr/lib/pcp/bin/pmlogconf")
            .args(["-h", &pmcd.host(), "-q", "-d"])
            .arg(&groups)
            .arg(&out)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run pmlogconf");
        assert!(status.success());
        std::fs::read_to_string(out).unwrap()
    };
    let with = run_pmlogconf(true);
    assert!(with.contains("#+ llm/membw:y:1 second:"), "{with}");
    assert!(with.contains("\tllm.membw\n\tllm.pcie.host\n"), "{with}");
    let without = run_pmlogconf(false);
    assert!(without.contains("#+ llm/membw:x::"), "{without}");
}
