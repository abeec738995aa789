#!/bin/sh
# setup.sh - install everything pcp-pmda-llm needs from the distribution's packages, start pmcd,
# and make sure a Rust toolchain is there. Debian 12+/Ubuntu or RHEL 9-family; run as root.
# Used by scripts/quickstart.sh and scripts/test-all.sh; safe to run again.
set -eu

log() { echo "setup: $*"; }

need_root() {
    [ "$(id -u)" = 0 ] || { echo "setup: run as root (sudo $0)" >&2; exit 1; }
}

# Debian's pcp postinst calls systemctl, which fails on a machine without systemd (containers,
# CI). A do-nothing systemctl first on PATH lets the install finish; pmcd is then started with
# its init script below.
no_systemd() { [ "$(ps -o comm= -p 1 2>/dev/null)" != systemd ]; }
fake_systemctl_dir() {
    d=$(mktemp -d)
    printf '#!/bin/sh\nexit 0\n' >"$d/systemctl"
    chmod +x "$d/systemctl"
    echo "$d"
}

install_debian() {
    pkgs="pcp libpcp3-dev libpcp-pmda3-dev libpcp-import1-dev python3-pcp gcc make zstd curl
          ca-certificates bsdutils time procps python3 libssl-dev pkg-config openssl"
    missing=""
    for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ] || ! dpkg-query -W -f='${Status}' pcp 2>/dev/null | grep -q "ok installed"; then
        log "installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        if no_systemd; then
            fake=$(fake_systemctl_dir)
            PATH=$fake:$PATH apt-get install -y -qq $missing >/dev/null || PATH=$fake:$PATH dpkg --configure -a
            PATH=$fake:$PATH dpkg --configure -a
            rm -rf "$fake"
        else
            apt-get install -y -qq $missing >/dev/null
        fi
    fi
}

install_rhel() {
    pkgs="pcp pcp-libs-devel pcp-system-tools python3-pcp gcc make zstd curl time procps-ng util-linux python3
          openssl-devel pkgconf-pkg-config openssl"
    log "installing packages (dnf)"
    dnf install -y -q $pkgs
}

start_pmcd() {
    if pminfo -f pmcd.numagents >/dev/null 2>&1; then
        return 0
    fi
    log "starting pmcd"
    if no_systemd; then
        /etc/init.d/pmcd start >/dev/null 2>&1 || /usr/libexec/pcp/lib/pmcd start >/dev/null 2>&1 || true
    else
        systemctl enable --now pmcd >/dev/null 2>&1 || systemctl start pmcd
    fi
    i=0
    while ! pminfo -f pmcd.numagents >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 50 ] && { echo "setup: pmcd did not start (see /var/log/pcp/pmcd/pmcd.log)" >&2; exit 1; }
        sleep 0.2
    done
}

install_rust() {
    if command -v cargo >/dev/null 2>&1 || [ -x "$HOME/.cargo/bin/cargo" ]; then
        return 0
    fi
    # Debian 12's own rustc (1.63) is too old for the crates used: install stable with rustup.
    log "installing the stable Rust toolchain with rustup"
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
}

need_root
if [ -f /etc/debian_version ]; then
    install_debian
elif command -v dnf >/dev/null 2>&1; then
    install_rhel
else
    echo "setup: unsupported distribution (need Debian/Ubuntu or a RHEL 9 family system)" >&2
    exit 1
fi
start_pmcd
install_rust
log "ready: $(pminfo -f pmcd.version | sed -n 's/.*value //p' | tr -d '"') pmcd running"
