//! What one membw sample costs on a 2-socket tree with 16 counters: a fake sysfs tree (written
//! to a temporary directory) with 4 memory controllers x read/write x 2 sockets whose PMU `type`
//! is PERF_TYPE_SOFTWARE, so the 16 counters are real kernel counters (cpu-clock on the CPUs
//! numbered 0 and 1), read with one `read()` each. Prints CPU time per sample of the counter
//! reads alone and of the full sample (snapshot included), the heap allocations of the counter
//! reads, and the share of one core at 1 Hz.
//!
//! usage: cargo run --release --example membw_sample_cost -- [SAMPLES]   (as root, or with
//! perf_event_paranoid <= 0; bench/membw-bench.sh runs it)

use llm_agent::config::Interval;
use llm_agent::sources::Source;
use llm_agent::sources::membw::MembwSource;
use llm_agent::sources::membw::config::MembwConfig;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts heap allocations (to show the counter reads make none).
struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}
#[global_allocator]
static A: Counting = Counting;

fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, format!("{text}\n")).unwrap();
}

/// Thread CPU time (this loop is single-threaded), from /proc/thread-self/schedstat (ns).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat")
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("pmdallm-membw-bench-{}", std::process::id()));
    let r = dir.as_path();
    for cpu in 0..2 {
        put(
            r,
            &format!("devices/system/cpu/cpu{cpu}/topology/physical_package_id"),
            &cpu.to_string(),
        );
    }
    for imc in 0..4 {
        let d = format!("bus/event_source/devices/uncore_imc_{imc}");
        put(r, &format!("{d}/type"), "1");
        put(r, &format!("{d}/cpumask"), "0,1");
        put(r, &format!("{d}/format/event"), "config:0-7");
        put(r, &format!("{d}/format/umask"), "config:8-15");
        for ev in ["cas_count_read", "cas_count_write"] {
            put(r, &format!("{d}/events/{ev}"), "event=0x00");
            put(r, &format!("{d}/events/{ev}.scale"), "6.103515625e-5");
            put(r, &format!("{d}/events/{ev}.unit"), "MiB");
        }
    }
    let cfg = MembwConfig {
        enabled: true,
        interval: Interval(Duration::from_secs(1)),
        sysfs: r.to_path_buf(),
        procfs: r.join("proc"),
    };
    let mut src = MembwSource::new(&cfg);
    let _ = std::fs::remove_dir_all(r);
    assert_eq!(
        src.open_counters(),
        16,
        "reasons: {:?} {:?}",
        src.reason(0),
        src.reason(1)
    );
    for _ in 0..100 {
        src.read_counters().unwrap();
    }
    let (c0, w0) = (thread_cpu_ns(), Instant::now());
    let a0 = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..n {
        src.read_counters().unwrap();
    }
    let allocs = ALLOCS.load(Ordering::Relaxed) - a0;
    let (reads_cpu, reads_wall) = (thread_cpu_ns() - c0, w0.elapsed());
    let (c1, w1) = (thread_cpu_ns(), Instant::now());
    let mut values = 0;
    for _ in 0..n {
        values = std::hint::black_box(src.sample().unwrap()).values.len();
    }
    let (sample_cpu, sample_wall) = (thread_cpu_ns() - c1, w1.elapsed());
    let per = |ns: u64| ns as f64 / n as f64 / 1000.0;
    println!("2 sockets, 16 counters, {n} samples");
    println!(
        "counter reads only: {:.1} µs CPU per sample ({:.1} µs wall), {allocs} heap allocations in {n} samples",
        per(reads_cpu),
        reads_wall.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "full sample ({values} values, snapshot built): {:.1} µs CPU per sample ({:.1} µs wall)",
        per(sample_cpu),
        sample_wall.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "share of one core at 1 Hz: {:.4} %",
        per(sample_cpu) / 1e6 * 100.0
    );
}
