//! Baseline for bench/importer-bench.sh: a plain serde_json parse of a GuideLLM result file
//! (`.json`, or `.json.zst` decompressed in-process with the zstd crate), streaming from the
//! file into `IgnoredAny`: every byte is tokenised, nothing is kept. `--value` parses into a
//! `serde_json::Value` instead (the whole document in memory).
//!
//! `cargo run --release --example guidellm-parse -- FILE [--value]`

use serde::de::IgnoredAny;
use std::io::{BufRead, BufReader, Read};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: guidellm-parse FILE [--value]");
        std::process::exit(2);
    };
    let file = std::fs::File::open(path).expect("open");
    let mut br = BufReader::with_capacity(256 * 1024, file);
    let zst = br
        .fill_buf()
        .expect("read")
        .starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    let reader: Box<dyn Read> = if zst {
        Box::new(zstd::stream::read::Decoder::with_buffer(br).expect("zstd"))
    } else {
        Box::new(br)
    };
    let reader = BufReader::with_capacity(256 * 1024, reader);
    if args.iter().any(|a| a == "--value") {
        let v: serde_json::Value = serde_json::from_reader(reader).expect("parse");
        println!(
            "parsed: {} benchmarks",
            v["benchmarks"].as_array().map_or(0, Vec::len)
        );
    } else {
        let _: IgnoredAny = serde_json::from_reader(reader).expect("parse");
        println!("parsed");
    }
}
