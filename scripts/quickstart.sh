#!/bin/sh
# quickstart.sh - the README's first command: install prerequisites, build, install the llm
# PMDA into pmcd and show live llm.* values (the agent's own metrics show even with no GPU and
# no vLLM). Run as root from the repository.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
PATH=$HOME/.cargo/bin:$PATH
cargo build --release --locked
./deploy/install-pmda
echo
pminfo -f llm.agent llm.gpu.count 2>/dev/null || pminfo -f llm.agent
