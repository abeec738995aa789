//! The GPU source without a GPU: a stand-in `libnvidia-ml.so` (tests/nvml-stub/nvml_stub.c,
//! compiled here with `cc`) over three fake GPUs, loaded through `[gpu] library = ...`, and the
//! agent run under a private pmcd. Checks the values and units `pminfo` reports, the rate of the
//! energy counter in `pmrep`, and the fault cases (no library, no driver, unsupported calls, a
//! lost GPU, exiting processes, XID events).

mod util;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};
use util::{
    NvmlStub, Pmlogger, PmrepCsv, PrivatePmcd, TempDir, nvml_config, parse_pminfo_values, repo,
    run, stdout, stdout_stderr,
};

/// `pminfo -f` output of several metrics: metric -> [(instance or "-", value)].
fn values_by_metric(text: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with("llm.") {
            current = line.trim().to_string();
            out.entry(current.clone()).or_default();
        } else if !current.is_empty() {
            for (inst, v) in parse_pminfo_values(line) {
                let inst = if inst.is_empty() { "-".into() } else { inst };
                out.get_mut(&current).unwrap().push((inst, v));
            }
        }
    }
    out
}

fn expected() -> BTreeMap<String, Vec<(String, String)>> {
    let text = std::fs::read_to_string(repo().join("tests/nvml-stub/expected.txt")).unwrap();
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut parts = line.splitn(3, ' ');
        let (m, i, v) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        out.entry(m.to_string())
            .or_default()
            .push((i.to_string(), v.to_string()));
    }
    out
}

/// The value of `metric` for instance `inst` ("-" for singular), if any.
fn value(p: &PrivatePmcd, metric: &str, inst: &str) -> Option<String> {
    p.values(metric)
        .into_iter()
        .find(|(i, _)| i == inst || (inst == "-" && i.is_empty()))
        .map(|(_, v)| v)
}

fn wait_until(what: &str, p: &PrivatePmcd, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}; agent log:\n{}", p.log());
}

fn gpu_source_error(p: &PrivatePmcd) -> String {
    value(p, "llm.agent.source.last_error", "gpu").unwrap_or_default()
}

#[test]
fn pminfo_reports_the_stub_table_with_units_and_labels() {
    let stub = NvmlStub::build("gpu-table");
    let p = PrivatePmcd::start("gpu-table", &stub.config());
    // GPM values need two samples, and PCIe throughput a background measurement that the
    // sample after it reports: wait for both.
    wait_until("GPU values", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.prof.sm_active", "gpu0").is_some()
            && p.values("llm.gpu.pcie.rx_throughput").len() == 3
    });
    let got = values_by_metric(&p.pminfo(&["-f", "llm.gpu"]));
    let want = expected();
    for (metric, vals) in &want {
        let mut g = got.get(metric).cloned().unwrap_or_default();
        let mut w = vals.clone();
        g.sort();
        w.sort();
        assert_eq!(g, w, "values of {metric}");
    }
    // Everything else reported is either the energy counter or has no value.
    for (metric, vals) in &got {
        if !want.contains_key(metric) {
            match metric.as_str() {
                "llm.gpu.energy" => {
                    let insts: Vec<&str> = vals.iter().map(|(i, _)| i.as_str()).collect();
                    assert_eq!(insts, ["gpu0", "gpu1", "gpu2"]);
                    let e0: u64 = vals[0].1.parse().unwrap();
                    assert!(e0 >= 123_456_789_000, "energy of gpu0 starts at its base");
                }
                _ => assert!(vals.is_empty(), "{metric} has unexpected values {vals:?}"),
            }
        }
    }
    // Every catalogued metric exists.
    let names = p.pminfo(&["llm.gpu"]);
    let catalogued = llm_agent::catalogue::metrics()
        .filter(|m| m.name.starts_with("llm.gpu."))
        .count();
    assert_eq!(names.lines().count(), catalogued, "{names}");

    // Semantics and units.
    let desc = p.pminfo(&[
        "-d",
        "llm.gpu.energy",
        "llm.gpu.power.usage",
        "llm.gpu.fb.used",
        "llm.gpu.violation.power",
        "llm.gpu.pcie.tx_throughput",
        "llm.gpu.pcie.tx_bytes",
        "llm.gpu.nvlink.tx",
        "llm.gpu.ecc.uncorrected_volatile",
        "llm.gpu.util.gpu",
    ]);
    for want in [
        "llm.gpu.energy\n    Data Type: 64-bit unsigned int  InDom: 505.10 0x7e40000a\n    Semantics: counter  Units: count x 10^-3",
        "llm.gpu.power.usage\n    Data Type: 32-bit unsigned int  InDom: 505.10 0x7e40000a\n    Semantics: instant  Units: count x 10^-3",
        "llm.gpu.fb.used\n    Data Type: 64-bit unsigned int  InDom: 505.10 0x7e40000a\n    Semantics: instant  Units: byte",
        "llm.gpu.violation.power\n    Data Type: 64-bit unsigned int  InDom: 505.10 0x7e40000a\n    Semantics: counter  Units: nanosec",
        "llm.gpu.pcie.tx_throughput\n    Data Type: 32-bit unsigned int  InDom: 505.10 0x7e40000a\n    Semantics: instant  Units: Kbyte / sec",
        "llm.gpu.pcie.tx_bytes\n    Data Type: 64-bit unsigned int  InDom: 505.10 0x7e40000a\n    Semantics: counter  Units: byte",
        "llm.gpu.nvlink.tx\n    Data Type: 64-bit unsigned int  InDom: 505.10 0x7e40000a\n    Semantics: counter  Units: Kbyte",
        "llm.gpu.ecc.uncorrected_volatile\n    Data Type: 64-bit unsigned int  InDom: 505.10 0x7e40000a\n    Semantics: counter  Units: count",
        "llm.gpu.util.gpu\n    Data Type: 32-bit unsigned int  InDom: 505.10 0x7e40000a\n    Semantics: instant  Units: none",
    ] {
        assert!(desc.contains(want), "missing:\n{want}\nin:\n{desc}");
    }

    // Instance labels.
    let labels = p.pminfo(&["-l", "llm.gpu.name"]);
    for want in [
        r#""driver_version":"550.54.15""#,
        r#""index":"0""#,
        r#""model":"NVIDIA H100 80GB HBM3""#,
        r#""pci_bus_id":"00000000:17:00.0""#,
        r#""uuid":"GPU-11111111-2222-3333-4444-000000000000""#,
        r#"inst [3002 or "gpu2/mig2"] labels {"#,
        r#""parent":"gpu2""#,
        r#""uuid":"MIG-aaaaaaaa-0000-0000-0000-000000000002""#,
    ] {
        assert!(labels.contains(want), "missing {want} in:\n{labels}");
    }
    // Processes: labels, and the GPU instance under MIG.
    let labels = p.pminfo(&["-l", "llm.gpu.process.memory"]);
    assert!(
        labels.contains(r#"inst [394306 or "gpu2/pid6161"] labels {"#)
            && labels.contains(r#""gpu":"gpu2","gpu_instance":"1","#),
        "{labels}"
    );
    assert!(labels.contains(r#""gpu":"gpu0","#), "{labels}");
    // Help text names the NVML source.
    let help = p.pminfo(&["-T", "llm.gpu.energy"]);
    assert!(
        help.contains("nvmlDeviceGetTotalEnergyConsumption"),
        "{help}"
    );
    // The source is healthy.
    assert_eq!(
        value(&p, "llm.agent.source.up", "gpu").as_deref(),
        Some("1")
    );
    // ... in an agent that dropped root before NVML was initialised (it runs as PCP's user).
    let status = p.status();
    let pid = status
        .lines()
        .find_map(|l| l.strip_prefix("agent pid=")?.split(' ').next())
        .unwrap_or_else(|| panic!("no agent in: {status}"));
    let proc_status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = proc_status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert_ne!(uid, "0", "the agent reads NVML as root:\n{proc_status}");
}

/// The energy counter (mJ) grows at the power draw: its raw values in `pmrep`, divided by the
/// time between the rows' own timestamps, give the stub's power in watts.
#[test]
fn energy_rate_in_pmrep_is_the_power_draw_in_watts() {
    let stub = NvmlStub::build("gpu-energy");
    let p = PrivatePmcd::start("gpu-energy", &stub.config());
    wait_until("GPU values", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.energy", "gpu0").is_some()
    });
    // Two fetches about 5 s apart (more on a loaded machine: the rate uses the timestamps pmcd
    // gave the two results, not the interval asked for). The values are the agent's samples
    // (every 100 ms) stamped with the fetch time, so the rate is within about 2 % of the
    // stub's slope (its power draw) whatever the phase; 8 % leaves room for a loaded machine
    // delaying a sample.
    let out = p.client(
        "pmrep",
        &[
            "-s",
            "2",
            "-t",
            "5",
            "-r",
            "-f",
            "%s.%f",
            "-o",
            "csv",
            "llm.gpu.energy",
        ],
    );
    let csv = PmrepCsv::parse(&out);
    let gpus = ["gpu0", "gpu1", "gpu2"];
    for g in gpus {
        assert!(
            csv.column("llm.gpu.energy", g).is_some(),
            "no llm.gpu.energy {g} column: {out}"
        );
    }
    let rows: Vec<(f64, Vec<f64>)> = csv
        .rows
        .iter()
        .filter_map(|r| {
            let t: f64 = r.first()?.parse().ok()?;
            let v: Option<Vec<f64>> = gpus
                .iter()
                .map(|g| csv.value(r, "llm.gpu.energy", g))
                .collect();
            Some((t, v?))
        })
        .collect();
    assert!(rows.len() >= 2, "two rows with values wanted:\n{out}");
    let ((t0, e0), (t1, e1)) = (&rows[0], &rows[rows.len() - 1]);
    assert!(*t1 - *t0 >= 4.0, "rows {t0} and {t1} too close:\n{out}");
    for ((a, b), want) in e0.iter().zip(e1).zip([350.123, 98.765, 75.0]) {
        let w = (b - a) / 1000.0 / (t1 - t0);
        assert!(
            (w - want).abs() / want < 0.08,
            "energy rate {w} W over {:.3} s, want ~{want} W (power draw): {out}",
            t1 - t0
        );
    }
    // And the unit pmrep shows for it.
    let out = p.client(
        "pmrep",
        &["-s", "2", "-t", "1", "-q", "count", "llm.gpu.energy"],
    );
    assert!(out.contains("count/s"), "{out}");
}

/// The same from a pmlogger archive: the counter semantics survive logging, and pmrep -a
/// rate-converts the logged millijoules to watts.
#[test]
fn energy_logged_by_pmlogger_replays_as_watts() {
    let stub = NvmlStub::build("gpu-archive");
    let p = PrivatePmcd::start("gpu-archive", &stub.config());
    wait_until("GPU values", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.energy", "gpu0").is_some()
    });
    let config = p.dir.path().join("logger.config");
    std::fs::write(
        &config,
        "log mandatory on 1 sec {\n    llm.gpu.energy\n    llm.gpu.power.usage\n}\n",
    )
    .unwrap();
    let archive = p.dir.path().join("gpu-archive");
    Pmlogger::new(&p.host(), &config, &archive)
        .samples(8)
        .interval("1")
        .run();
    let rep = run(Command::new("pmrep")
        .env("PCP_PYTHON_PROG", "/usr/bin/python3")
        .args(["-q", "count", "-t", "3", "-o", "csv", "-P", "3", "-a"])
        .arg(&archive)
        .args(["llm.gpu.energy", "llm.gpu.power.usage"]));
    let text = stdout(&rep);
    let csv = PmrepCsv::parse(&text);
    let gpus = ["gpu0", "gpu1", "gpu2"];
    for g in gpus {
        assert!(
            csv.column("llm.gpu.energy", g).is_some()
                && csv.column("llm.gpu.power.usage", g).is_some(),
            "no energy/power column for {g}:\n{text}"
        );
    }
    let rows: Vec<Vec<(f64, f64)>> = csv
        .rows
        .iter()
        .filter_map(|r| {
            gpus.iter()
                .map(|g| {
                    Some((
                        csv.value(r, "llm.gpu.energy", g)?,
                        csv.value(r, "llm.gpu.power.usage", g)?,
                    ))
                })
                .collect()
        })
        .collect();
    assert!(!rows.is_empty(), "no rates replayed:\n{text}");
    for row in &rows {
        // Energy rate (W) of each GPU against its logged power draw (W).
        for (g, (rate, power)) in row.iter().enumerate() {
            assert!(
                (rate - power).abs() / power < 0.08,
                "gpu{g}: energy rate {rate} W vs power {power} W:\n{text}"
            );
        }
    }
}

#[test]
fn without_a_library_every_metric_exists_without_values_and_the_agent_retries() {
    let dir = TempDir::new("gpu-nolib");
    let lib = dir.path().join("lib/libnvidia-ml.so.1");
    let p = PrivatePmcd::start("gpu-nolib", &nvml_config(&lib));
    wait_until("the gpu source error", &p, Duration::from_secs(10), || {
        gpu_source_error(&p).contains("not found")
    });
    let err = gpu_source_error(&p);
    assert!(
        err.starts_with(&format!(
            "\"NVML: library {} not found or not loadable",
            lib.display()
        )),
        "{err}"
    );
    assert_eq!(
        value(&p, "llm.agent.source.up", "gpu").as_deref(),
        Some("0")
    );
    let names = p.pminfo(&["llm.gpu"]);
    assert!(names.lines().count() > 70, "{names}");
    let all = p.pminfo(&["-f", "llm.gpu"]);
    assert!(!all.contains(" value "), "no values expected:\n{all}");
    // The library appears: the agent finds it at a retry (back-off at most 30 x 100 ms).
    std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
    NvmlStub::compile(dir.path(), &lib);
    wait_until("recovery", &p, Duration::from_secs(20), || {
        value(&p, "llm.gpu.count", "-").as_deref() == Some("3")
    });
    assert_eq!(
        value(&p, "llm.agent.source.up", "gpu").as_deref(),
        Some("1")
    );
    assert!(
        p.log().contains("gpu: NVML initialised from"),
        "{}",
        p.log()
    );
}

#[test]
fn driver_not_loaded_is_reported_and_recovers() {
    let stub = NvmlStub::build("gpu-nodriver");
    stub.control("init 9\n");
    let p = PrivatePmcd::start("gpu-nodriver", &stub.config());
    wait_until("the gpu source error", &p, Duration::from_secs(10), || {
        gpu_source_error(&p).contains("driver is not loaded")
    });
    assert!(p.values("llm.gpu.name").is_empty());
    stub.control("");
    wait_until("recovery", &p, Duration::from_secs(20), || {
        value(&p, "llm.gpu.name", "gpu0").is_some()
    });
    // up says it recovered (last_error is cleared by that sample; previous_error keeps it).
    assert_eq!(
        value(&p, "llm.agent.source.up", "gpu").as_deref(),
        Some("1")
    );
}

#[test]
fn unsupported_calls_lost_gpus_exiting_processes_and_xids() {
    let stub = NvmlStub::build("gpu-faults");
    let p = PrivatePmcd::start("gpu-faults", &stub.config());
    wait_until("GPU values", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.power.usage", "gpu1").is_some()
    });

    // A call one GPU does not support: that metric loses that GPU's value only, logged once.
    stub.control("unsupported 1 nvmlDeviceGetPowerUsage\n");
    wait_until("power of gpu1 to go", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.power.usage", "gpu1").is_none()
    });
    std::thread::sleep(Duration::from_millis(500)); // several more samples
    let power = p.values("llm.gpu.power.usage");
    assert_eq!(
        power,
        vec![
            ("gpu0".to_string(), "350123".to_string()),
            ("gpu2".to_string(), "75000".to_string())
        ]
    );
    assert_eq!(
        value(&p, "llm.gpu.temperature.gpu", "gpu1").as_deref(),
        Some("41")
    );
    let log = p.log();
    assert_eq!(
        log.matches("gpu1: nvmlDeviceGetPowerUsage: not supported")
            .count(),
        1,
        "logged once:\n{log}"
    );

    // A GPU falls off the bus: its instance goes, the others go on.
    stub.control("lost 1\n");
    wait_until("gpu1 to go", &p, Duration::from_secs(10), || {
        !p.values("llm.gpu.name").iter().any(|(i, _)| i == "gpu1")
    });
    let names: Vec<String> = p
        .values("llm.gpu.name")
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        names,
        ["gpu0", "gpu1", "gpu2", "gpu2/mig0", "gpu2/mig2"]
            .iter()
            .filter(|n| **n != "gpu1")
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    let insts = p.pminfo(&["-f", "llm.gpu.process.pid"]);
    assert!(!insts.contains("gpu1/"), "{insts}");
    assert_eq!(value(&p, "llm.gpu.util.gpu", "gpu0").as_deref(), Some("87"));
    assert_eq!(
        value(&p, "llm.agent.source.up", "gpu").as_deref(),
        Some("1")
    );
    assert!(p.log().contains("gpu1: GPU is lost"), "{}", p.log());
    // ... and comes back.
    stub.control("");
    wait_until("gpu1 to return", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.name", "gpu1").is_some()
    });

    // A process exits: its instance is purged.
    assert!(value(&p, "llm.gpu.process.memory", "gpu0/pid4242").is_some());
    stub.control("hide_pid 4242\n");
    wait_until("pid 4242 to go", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.process.memory", "gpu0/pid4242").is_none()
    });
    let pids = p.pminfo(&["-f", "llm.gpu.process.pid"]);
    assert!(
        !pids.contains("pid4242"),
        "purged from the instance domain: {pids}"
    );
    assert_eq!(
        value(&p, "llm.gpu.process.memory", "gpu0/pid4343").as_deref(),
        Some("1048576")
    );

    // XID events: a counter and the last XID, per GPU.
    assert_eq!(value(&p, "llm.gpu.xid.count", "gpu0").as_deref(), Some("0"));
    stub.control("xid 0 79\n");
    wait_until("the XID", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.xid.count", "gpu0").as_deref() == Some("1")
    });
    stub.control("xid 0 79\nxid 0 48\nxid 2 13\n");
    wait_until("more XIDs", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.xid.count", "gpu0").as_deref() == Some("2")
            && value(&p, "llm.gpu.xid.count", "gpu2").as_deref() == Some("1")
    });
    assert_eq!(value(&p, "llm.gpu.xid.last", "gpu0").as_deref(), Some("48"));
    assert_eq!(value(&p, "llm.gpu.xid.last", "gpu2").as_deref(), Some("13"));
    assert_eq!(value(&p, "llm.gpu.xid.count", "gpu1").as_deref(), Some("0"));

    // NVML stops answering as a whole (a driver reload): the source reports it, withdraws its
    // values and initialises NVML again once it answers.
    stub.control("count_error 9\n");
    wait_until("the count error", &p, Duration::from_secs(10), || {
        gpu_source_error(&p).contains("nvmlDeviceGetCount_v2 failed")
    });
    assert_eq!(
        value(&p, "llm.agent.source.up", "gpu").as_deref(),
        Some("0")
    );
    assert!(p.values("llm.gpu.name").is_empty());
    stub.control("");
    wait_until(
        "NVML to be initialised again",
        &p,
        Duration::from_secs(20),
        || value(&p, "llm.gpu.name", "gpu0").is_some(),
    );
    // Initialised at start, and again at least once (each failed attempt initialises anew).
    let inits = p.log().matches("gpu: NVML initialised from").count();
    assert!(inits >= 2, "{inits} initialisations:\n{}", p.log());
}

/// The agent only reads NVML. The stub records every call of an NVML function that changes
/// the state of a GPU or of the driver (setters, clears, resets, GPU discovery and removal, MIG
/// instance creation, ...: the end of tests/nvml-stub/nvml_stub.c) in `control.writes`. Through
/// what the other tests drive (every metric with GPM, an unsupported call, a lost GPU, an
/// exiting process, XID events, NVML failing as a whole and initialised again) the agent makes
/// no such call. A program calling two of them shows that the record works.
#[test]
fn the_agent_calls_no_nvml_function_that_changes_gpu_state() {
    let stub = NvmlStub::build("gpu-read-only");
    let writes = stub.dir.join("control.writes");
    let p = PrivatePmcd::start("gpu-read-only", &stub.config());
    wait_until("GPU values", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.prof.sm_active", "gpu0").is_some()
    });
    stub.control("unsupported 1 nvmlDeviceGetPowerUsage\n");
    wait_until("power of gpu1 to go", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.power.usage", "gpu1").is_none()
    });
    stub.control("lost 1\n");
    wait_until("gpu1 to go", &p, Duration::from_secs(10), || {
        value(&p, "llm.gpu.name", "gpu1").is_none()
    });
    stub.control("hide_pid 4242\nxid 0 79\n");
    wait_until(
        "pid 4242 to go and the XID",
        &p,
        Duration::from_secs(10),
        || {
            value(&p, "llm.gpu.process.memory", "gpu0/pid4242").is_none()
                && value(&p, "llm.gpu.xid.count", "gpu0").as_deref() == Some("1")
        },
    );
    stub.control("count_error 9\n");
    wait_until("the count error", &p, Duration::from_secs(10), || {
        gpu_source_error(&p).contains("nvmlDeviceGetCount_v2 failed")
    });
    stub.control("");
    wait_until(
        "NVML to be initialised again",
        &p,
        Duration::from_secs(20),
        || value(&p, "llm.gpu.prof.sm_active", "gpu0").is_some(),
    );
    assert!(
        !writes.exists(),
        "the agent changed GPU state: {}",
        std::fs::read_to_string(&writes).unwrap_or_default()
    );

    // The record works: a program that calls two such functions through the stub.
    let program = stub.dir.join("changes-state.c");
    std::fs::write(
        &program,
        "int nvmlDeviceSetPersistenceMode(void *device, int mode);\n\
         int nvmlDeviceResetGpuLockedClocks(void *device);\n\
         int main(void)\n\
         {\n\
         \x20   return nvmlDeviceSetPersistenceMode(0, 1) == 4 && nvmlDeviceResetGpuLockedClocks(0) == 4 ? 0 : 1;\n\
         }\n",
    )
    .unwrap();
    let exe = stub.dir.join("changes-state");
    let out = run(Command::new("cc")
        .arg(&program)
        .arg(&stub.lib)
        .arg("-o")
        .arg(&exe));
    assert!(out.status.success(), "cc: {}", stdout_stderr(&out));
    let out = run(Command::new(&exe).env("LD_LIBRARY_PATH", stub.dir.path()));
    assert!(out.status.success(), "{}", stdout_stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&writes).unwrap(),
        "nvmlDeviceSetPersistenceMode\nnvmlDeviceResetGpuLockedClocks\n"
    );
}

/// In-process: a source whose NVML keeps failing as a whole initialises it again at each
/// attempt, at most 20 times (each leaks a small handle), then asks for a restart.
#[test]
fn nvml_is_initialised_again_a_bounded_number_of_times() {
    use llm_agent::sources::Source;
    use llm_agent::sources::gpu::GpuSource;
    let stub = NvmlStub::build("gpu-reinit");
    let mut source = GpuSource::new(Duration::from_secs(1), Some(stub.lib.clone()));
    let snap = source.sample().expect("first sample");
    assert!(!snap.values.is_empty());
    stub.control("count_error 9\n");
    let mut errors = Vec::new();
    for _ in 0..25 {
        errors.push(source.sample().unwrap_err().0);
    }
    assert!(
        errors[0].starts_with("NVML: nvmlDeviceGetCount_v2 failed: "),
        "{errors:?}"
    );
    // Samples 1..=19 initialise NVML again (20 in all with the first); then it stops trying.
    assert!(
        errors[18].starts_with("NVML: nvmlDeviceGetCount_v2 failed"),
        "{errors:?}"
    );
    assert!(
        errors[20].ends_with("initialised 20 times already: restart the agent"),
        "{errors:?}"
    );
    stub.control("");
    assert!(source.sample().is_err(), "it does not try again");
}

/// Task ids of the agent's threads named `name`.
fn threads_named(pid: &str, name: &str) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|t| {
            let t = t.ok()?;
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            (comm.trim() == name).then(|| t.file_name().to_string_lossy().into_owned())
        })
        .collect()
}

#[test]
fn pcie_throughput_is_measured_in_the_background_and_a_hung_call_holds_nothing_up() {
    let stub = NvmlStub::build("gpu-pcie");
    let p = PrivatePmcd::start("gpu-pcie", &stub.config());
    let samples = || {
        value(&p, "llm.agent.source.samples", "gpu")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let throughput = || value(&p, "llm.gpu.pcie.tx_throughput", "gpu0");
    wait_until("a PCIe throughput", &p, Duration::from_secs(10), || {
        throughput().is_some()
    });
    // One thread measures, the same one sample after sample (none is started per sample).
    let pid = p.agent_pid();
    let before = threads_named(&pid, "gpu-pcie");
    let s0 = samples();
    wait_until(
        "three more GPU samples",
        &p,
        Duration::from_secs(10),
        || samples() >= s0 + 3,
    );
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(threads_named(&pid, "gpu-pcie"), before, "the same thread");

    // Each throughput call now blocks 2.5 s: the samples go on at their pace without it.
    stub.control("pcie_delay 2500\n");
    wait_until("no PCIe throughput", &p, Duration::from_secs(15), || {
        throughput().is_none()
    });
    let s0 = samples();
    std::thread::sleep(Duration::from_secs(5));
    let done = samples() - s0;
    assert!(done >= 4, "only {done} GPU samples in 5 s while NVML hung");
    assert_eq!(
        value(&p, "llm.gpu.pcie.replay", "gpu0").as_deref(),
        Some("3")
    );
    assert!(
        throughput().is_none(),
        "no stale throughput while the call hangs"
    );
    stub.control("");
    wait_until(
        "the PCIe throughput back",
        &p,
        Duration::from_secs(25),
        || throughput().as_deref() == Some("123456"),
    );
    assert_eq!(threads_named(&pid, "gpu-pcie"), before);
}
