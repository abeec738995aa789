#!/bin/sh
# test-all.sh - the README's second command and what CI runs: install prerequisites, then run
# formatting and lint checks and every test (unit, integration against real PCP tools, install).
# Run as root from the repository.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
PATH=$HOME/.cargo/bin:$PATH
export PCP_PYTHON_PROG=/usr/bin/python3
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo build --release --locked
# Say it before it happens: some tests use this machine's own pmcd, not a private one.
echo "test-all: tests/install.rs (tests named machine_pmcd_*) installs and removes the llm agent and"
echo "test-all: the Debian packages through this machine's own pmcd, then puts back the llm install it found"
# Two test threads: the machine may have only two cores, and the pmcd tests spawn processes.
cargo test --locked --no-fail-fast -- --test-threads 2
