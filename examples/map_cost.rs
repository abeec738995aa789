//! `cargo run --release --example map_cost -- DIR [ROUNDS]`: maps the bodies in DIR (files a
//! stand-in endpoint served one after another, e.g. `bench/serve-metrics.py --bump` fetched
//! with curl) in order, again and again, as one endpoint's scrapes; prints the median time per
//! mapping and how many took the known-shape way. For profiling the mapping
//! (`valgrind --tool=callgrind`) with values that change as a live endpoint's do.

use llm_agent::sources::openmetrics::Mapper;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: map_cost DIR [ROUNDS]");
    let rounds: usize = args.next().map_or(50, |r| r.parse().expect("ROUNDS"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("DIR")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort_by_key(|p| {
        let stem = p
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        (stem.parse::<u64>().unwrap_or(u64::MAX), stem)
    });
    let bodies: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("a text body"))
        .collect();
    let mut mapper = Mapper::new("vllm0", "http://127.0.0.1:8000/metrics");
    let mut times = Vec::new();
    let mut values = 0;
    for _ in 0..rounds {
        for body in &bodies {
            let t = Instant::now();
            let snap = mapper.map(body).expect("maps");
            times.push(t.elapsed().as_secs_f64() * 1e6);
            values = snap.values.len();
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{} mappings of {} bodies: median {:.1} us, p90 {:.1} us; {values} values; known shape {} times",
        times.len(),
        bodies.len(),
        times[times.len() / 2],
        times[times.len() * 9 / 10],
        mapper.shape_hits()
    );
}
