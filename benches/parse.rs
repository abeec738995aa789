//! `cargo bench --bench parse`: parses the real 45 KB vLLM capture with our parser and with
//! prometheus-parse 0.2.5 (the baseline), and reports the median time per parse, the samples
//! each one found and the heap allocations per parse (a counting global allocator).
//! No Criterion: std::time and a fixed number of rounds.

use llm_agent::sources::openmetrics::Mapper;
use llm_agent::sources::openmetrics::parse::{Entry, parse};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const CAPTURE: &str =
    include_str!("../tests/fixtures/vllm/vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt");

/// Ours: every entry, every label of every sample (as a consumer would read them).
fn ours(text: &str) -> (usize, f64) {
    let mut n = 0;
    let mut acc = 0.0;
    for e in parse(text) {
        if let Ok(Entry::Sample(s)) = e {
            n += 1;
            acc += s.value;
            for (k, v) in s.labels.iter() {
                acc += (k.len() + v.len()) as f64;
            }
        }
    }
    (n, acc)
}

/// Ours without reading the labels: the cost of the parse itself.
fn ours_no_labels(text: &str) -> (usize, f64) {
    let mut n = 0;
    let mut acc = 0.0;
    for e in parse(text) {
        if let Ok(Entry::Sample(s)) = e {
            n += 1;
            acc += s.value;
        }
    }
    (n, acc)
}

/// The whole mapping of a scrape to a snapshot the full way (parse + routing + instances +
/// quantiles), as for a scrape whose lines differ from the one before.
fn mapper_full(text: &str) -> (usize, f64) {
    thread_local! {
        static M: std::cell::RefCell<Mapper> = std::cell::RefCell::new(
            Mapper::new("vllm0", "http://127.0.0.1:8000/metrics").without_shapes(),
        );
    }
    M.with(|m| {
        let s = m.borrow_mut().map(text).unwrap();
        (s.values.len(), 0.0)
    })
}

/// The same for a scrape with the lines of the one before (values aside): the usual case,
/// mapped from the last scrape's shape.
fn mapper(text: &str) -> (usize, f64) {
    thread_local! {
        static M: std::cell::RefCell<Mapper> =
            std::cell::RefCell::new(Mapper::new("vllm0", "http://127.0.0.1:8000/metrics"));
    }
    M.with(|m| {
        let s = m.borrow_mut().map(text).unwrap();
        (s.values.len(), 0.0)
    })
}

fn baseline(text: &str) -> (usize, f64) {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("prometheus-parse");
    let mut acc = 0.0;
    for s in &scrape.samples {
        for (k, v) in s.labels.iter() {
            acc += (k.len() + v.len()) as f64;
        }
    }
    (scrape.samples.len(), acc)
}

fn measure(
    name: &str,
    text: &str,
    rounds: usize,
    f: fn(&str) -> (usize, f64),
) -> (f64, usize, usize) {
    for _ in 0..rounds / 10 {
        black_box(f(black_box(text)));
    }
    let mut times = Vec::with_capacity(rounds);
    let a0 = ALLOCS.load(Ordering::Relaxed);
    let mut samples = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let r = black_box(f(black_box(text)));
        times.push(t.elapsed().as_secs_f64() * 1e6);
        samples = r.0;
    }
    let allocs = (ALLOCS.load(Ordering::Relaxed) - a0) / rounds;
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = times[rounds / 2];
    println!(
        "{name:<18} median {median:8.1} us/parse  p90 {:8.1} us  samples {samples:4}  allocations/parse {allocs}",
        times[rounds * 9 / 10]
    );
    (median, samples, allocs)
}

fn main() {
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2000);
    let lines = CAPTURE
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    println!(
        "capture: {} bytes, {lines} sample lines; {rounds} rounds",
        CAPTURE.len()
    );
    println!("-- ours: parse only (labels not read), and the agent's whole mapping of a scrape");
    measure("parse, no labels", CAPTURE, rounds, ours_no_labels);
    measure(
        "scrape -> snapshot, full way",
        CAPTURE,
        rounds / 4,
        mapper_full,
    );
    measure(
        "scrape -> snapshot, known shape",
        CAPTURE,
        rounds / 4,
        mapper,
    );
    println!("-- the capture as served (prometheus-parse drops every name with ':')");
    let (ours_us, ours_n, ours_allocs) = measure("pmdallm parser", CAPTURE, rounds, ours);
    let (base_us, base_n, base_allocs) = measure("prometheus-parse", CAPTURE, rounds, baseline);
    println!(
        "speed-up {:.1}x; prometheus-parse found {base_n} of {lines} samples, ours {ours_n}; allocations {ours_allocs} vs {base_allocs} per parse",
        base_us / ours_us
    );
    assert_eq!(ours_n, lines, "our parser must find every sample");
    // The same text with ':' in names replaced by '_', so that prometheus-parse parses every
    // sample too: the like-for-like comparison.
    let fair = CAPTURE.replace("vllm:", "vllm_");
    println!("-- the capture with 'vllm:' renamed 'vllm_' (both parsers see every sample)");
    let (ours_us, ours_n, ours_allocs) = measure("pmdallm parser", &fair, rounds, ours);
    let (base_us, base_n, base_allocs) = measure("prometheus-parse", &fair, rounds, baseline);
    println!(
        "speed-up {:.1}x; samples {ours_n} vs {base_n}; allocations {ours_allocs} vs {base_allocs} per parse",
        base_us / ours_us
    );
}
