//! `cargo +nightly fuzz run parse`: the Prometheus text parser must never panic, and every
//! sample it accepts must have a well-formed name and iterable labels.
#![no_main]
use libfuzzer_sys::fuzz_target;
use llm_agent::sources::openmetrics::parse::{Entry, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for entry in parse(text) {
        if let Ok(Entry::Sample(s)) = entry {
            assert!(!s.name.is_empty());
            for (name, value) in s.labels.iter() {
                assert!(!name.is_empty());
                let _ = value.len();
            }
        }
    }
});
