#!/bin/sh
# test-all.sh - the README's second command and what CI runs: install prerequisites, then run
# formatting and lint checks and every test (unit, integration against real PCP tools, install),
# then the same in Debian 13 and unstable roots (scripts/test-roots.sh; LLM_TEST_ROOTS=0 skips).
# Run as root from the repository.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
PATH=$HOME/.cargo/bin:$PATH
export PCP_PYTHON_PROG=/usr/bin/python3
# The Kubernetes API schema check of deploy/kubernetes (tests/fleet_kubernetes.rs) needs
# kubernetes-validate (PyPI, schemas bundled: it then works offline), in a virtualenv of its own
# under target/. CI must not skip that check on the host, so a failed install stops here. The
# manifests do not depend on the PCP release, so the Debian roots of test-roots.sh (which set
# LLM_ROOT_RELEASE, and may not reach PyPI through the host's proxy) leave it to the host.
if [ -z "${LLM_ROOT_RELEASE:-}" ]; then
    tools=target/tools-venv
    if [ ! -x "$tools/bin/kubernetes-validate" ]; then
        rm -rf "$tools"
        /usr/bin/python3 -m venv "$tools"
        "$tools/bin/pip" install -q --disable-pip-version-check kubernetes-validate==1.37.0 ||
            { echo "test-all: cannot install kubernetes-validate from PyPI into $tools" >&2; exit 1; }
    fi
    export KUBERNETES_VALIDATE="$PWD/$tools/bin/kubernetes-validate"
fi
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo build --release --locked
# Say it before it happens: some tests use this machine's own pmcd, not a private one.
echo "test-all: tests/install.rs (tests named machine_pmcd_*) installs and removes the llm agent and"
echo "test-all: the Debian packages through this machine's own pmcd, then puts back the llm install it found"
# Two test threads: the machine may have only two cores, and the pmcd tests spawn processes.
host_rc=0
cargo test --locked --workspace --no-fail-fast -- --test-threads 2 || host_rc=$?

# Then the same suite in Debian 13 and Debian unstable roots (other PCP versions), each in its own
# PID and mount namespace: scripts/test-roots.sh. Runs by default as root on Linux where
# debootstrap is installed or apt-get can install it; LLM_TEST_ROOTS=0 skips it (quick local
# runs; the roots set it themselves), LLM_TEST_ROOTS=1 insists on it.
roots=${LLM_TEST_ROOTS:-auto}
if [ "$roots" = auto ]; then
    roots=0
    if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ] && command -v unshare >/dev/null 2>&1 &&
        { command -v debootstrap >/dev/null 2>&1 || command -v apt-get >/dev/null 2>&1; }; then
        roots=1
    fi
fi
roots_rc=0
if [ "$roots" != 0 ]; then
    sh scripts/test-roots.sh || roots_rc=$?
fi
[ "$host_rc" = 0 ] || { echo "test-all: the suite failed on this host" >&2; exit "$host_rc"; }
exit "$roots_rc"
