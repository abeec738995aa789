#!/bin/bash
# gpu-bench.sh - what the GPU source costs, against the stand-in NVML (tests/nvml-stub):
#  1. CPU time of one full GPU sample, per sample and per GPU, for 3 and 8 fake GPUs
#     (examples/gpu_sample_cost.rs: a loop of N samples, the CPU clock of the process), and
#     the wall time of a sample of 8 GPUs when PCIe throughput blocks 20 ms as on real GPUs;
#  2. the fetch cost of every llm.gpu.* metric against 8 fake GPUs, next to that of llm.agent.*,
#     through a private pmcd (bench/fetch-bench.sh, bench/fetch-cost.py).
# The stand-in's own time is negligible, so these are the agent's share; on a real GPU NVML's
# own time comes on top (nvmlDeviceGetPcieThroughput alone blocks ~20 ms per direction).
#
# usage: bench/gpu-bench.sh [SAMPLES]      (as root; builds the release binaries first)
set -eu
cd "$(dirname "$0")/.."
n=${1:-2000}
dir=$(mktemp -d /tmp/pmdallm-gpubench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
chmod a+rx "$dir"
cc -O2 -shared -fPIC -DCONTROL_FILE="\"$dir/control\"" -o "$dir/libnvidia-ml.so.1" \
    tests/nvml-stub/nvml_stub.c
cargo build -q --release --bin pmdallm --example gpu_sample_cost
for gpus in 3 8; do
    echo "count $gpus" >"$dir/control"
    echo "== one sample, $gpus GPUs ($n samples)"
    target/release/examples/gpu_sample_cost "$dir/libnvidia-ml.so.1" "$n" 2>/dev/null
done
echo "== one sample, 8 GPUs, nvmlDeviceGetPcieThroughput blocking 20 ms as on real GPUs (200 samples)"
printf 'count 8\npcie_delay 20\n' >"$dir/control"
target/release/examples/gpu_sample_cost "$dir/libnvidia-ml.so.1" 200 2>/dev/null
echo "count 8" >"$dir/control"
printf '[gpu]\nlibrary = "%s"\n' "$dir/libnvidia-ml.so.1" >"$dir/llm.conf"
for prefix in llm.agent llm.gpu; do
    echo "== fetch of all $prefix metrics, 8 GPUs"
    BENCH_N=${BENCH_N:-2000} bash bench/fetch-bench.sh "$prefix" "$dir/llm.conf"
done
