#!/bin/bash
# membw-bench.sh - what the membw source costs per sample: a 2-socket fake sysfs tree with 16
# counters (4 memory controllers x read/write x 2 sockets) whose PMU type is PERF_TYPE_SOFTWARE,
# so the counters are real kernel counters read with one read() each
# (examples/membw_sample_cost.rs). Goal (issue 12): <= 50 µs per sample, no allocation in the
# counter reads, <= 0.01 % of a core at 1 Hz.
#
# usage: bench/membw-bench.sh [SAMPLES]      (as root or with perf_event_paranoid <= 0)
set -eu
cd "$(dirname "$0")/.."
cargo build -q --release --example membw_sample_cost
target/release/examples/membw_sample_cost "${1:-20000}"
