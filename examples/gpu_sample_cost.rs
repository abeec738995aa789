//! What one full GPU sample costs: CPU time (of the whole process: the sampling thread and the
//! background PCIe thread) per sample and per GPU, and wall time per sample,
//! against the stand-in NVML of tests/nvml-stub (whose own time is negligible, so this is the
//! agent's share: nvml-wrapper, building the snapshot, the per-process /proc reads).
//!
//! usage: cargo run --release --example gpu_sample_cost -- LIBRARY [SAMPLES]
//! (bench/gpu-bench.sh builds the stand-in library and sets its GPU count.)

use llm_agent::sources::Source;
use llm_agent::sources::gpu::GpuSource;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// CPU time of this process in ns, all threads, also those that exited (utime + stime of
/// /proc/self/stat, in clock ticks: run enough samples for the tick to be small).
fn process_cpu_ns(tick_ns: u64) -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = rest[11].parse::<u64>().unwrap() + rest[12].parse::<u64>().unwrap();
    ticks * tick_ns
}

fn clock_tick_ns() -> u64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(100);
    1_000_000_000 / out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(lib) = args.get(1) else {
        eprintln!("usage: gpu_sample_cost LIBRARY [SAMPLES]");
        std::process::exit(2);
    };
    let n: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let mut source = GpuSource::new(Duration::from_secs(1), Some(PathBuf::from(lib)));
    let first = source
        .sample()
        .unwrap_or_else(|e| panic!("first sample: {e}"));
    let gpus = first
        .indoms
        .iter()
        .find(|i| i.indom_serial == llm_agent::catalogue::gpu::GPUS.serial)
        .map_or(0, |i| i.instances.iter().filter(|i| i.id < 1000).count());
    let mut values = 0;
    for _ in 0..50 {
        // Steady state: GPM values need a previous sample, so count them after the first.
        values = std::hint::black_box(source.sample().unwrap()).values.len();
    }
    let tick = clock_tick_ns();
    let cpu0 = process_cpu_ns(tick);
    let wall0 = Instant::now();
    for _ in 0..n {
        std::hint::black_box(source.sample().unwrap());
    }
    let cpu = (process_cpu_ns(tick) - cpu0) as f64 / n as f64 / 1000.0;
    let wall = wall0.elapsed().as_secs_f64() * 1e6 / n as f64;
    let per_gpu = cpu / gpus.max(1) as f64;
    // 8 GPUs sampled once a second: per-GPU CPU time x 8 per second, as a share of one core.
    let core_pct_8 = per_gpu * 8.0 / 1e6 * 100.0;
    println!(
        "SUMMARY gpus={gpus} values_per_sample={values} samples={n} cpu_us_per_sample={cpu:.1} \
         cpu_us_per_gpu={per_gpu:.1} wall_us_per_sample={wall:.1} \
         core_pct_for_8_gpus_at_1hz={core_pct_8:.4}"
    );
}
