#!/bin/sh
# setup.sh - install everything pcp-pmda-llm needs from the distribution's packages, start pmcd,
# and make sure a Rust toolchain is there. Debian 12+/Ubuntu or RHEL 9-family; run as root.
# Used by scripts/quickstart.sh and scripts/test-all.sh; safe to run again.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)

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
          ca-certificates bsdutils time procps python3 libssl-dev pkg-config openssl man-db
          dpkg-dev rpm file chromium"
    pkgs="$pkgs redis-server python3-yaml python3-venv"   # pmproxy's key server; manifest checks (tests/fleet_*.rs)
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
          openssl-devel pkgconf-pkg-config openssl man-db rpm-build"
    log "installing packages (dnf)"
    dnf install -y -q $pkgs
}

pcp_env() {
    set +u; . /etc/pcp.env; set -u
}

# The value of one pmcd metric from the pmcd answering here ("" when none answers).
pmcd_value() {
    pminfo -f "$1" 2>/dev/null | sed -n 's/^ *value //p' | tr -d '"'
}

# A pmcd answering on the port is not necessarily the one this PCP installed: a container with
# host networking on a PCP host, or another release's pmcd, answers too. Ours has this PCP's
# version and the pid of $PCP_RUN_DIR/pmcd.pid, and runs $PCP_BINADM_DIR/pmcd.
check_pmcd_is_ours() {
    version=$(pmcd_value pmcd.version)
    pid=$(pmcd_value pmcd.pid)
    pidfile=$PCP_RUN_DIR/pmcd.pid
    filepid=$(cat "$pidfile" 2>/dev/null || true)
    exe=$(readlink "/proc/$filepid/exe" 2>/dev/null || true)
    if [ "$version" = "$PCP_VERSION" ] && [ -n "$pid" ] && [ "$pid" = "$filepid" ] &&
        [ "$exe" = "$PCP_BINADM_DIR/pmcd" ]; then
        return 0
    fi
    {
        echo "setup: the pmcd answering on port ${PMCD_PORT:-44321} is not the one PCP $PCP_VERSION installed here:"
        echo "setup:   it says version ${version:-?}, pid ${pid:-?}; $pidfile says ${filepid:-(no file)}${exe:+, running $exe}"
        echo "setup: another pmcd (another PCP release, a container with host networking) holds the port:"
        echo "setup: stop it, or run this PCP's pmcd on another port (PMCD_PORT=N, see pmcd(1)) and export PMCD_PORT"
    } >&2
    exit 1
}

start_pmcd() {
    if pminfo -f pmcd.numagents >/dev/null 2>&1; then
        check_pmcd_is_ours
        return 0
    fi
    log "starting pmcd"
    out=$(mktemp)
    if no_systemd; then
        "$PCP_RC_DIR/pmcd" start >"$out" 2>&1 || true
    else
        { systemctl enable pmcd && systemctl start pmcd; } >"$out" 2>&1 || true
    fi
    i=0
    while ! pminfo -f pmcd.numagents >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 50 ]; then
            echo "setup: pmcd did not start. What starting it said:" >&2
            sed 's/^/    /' "$out" >&2
            if no_systemd; then :; else
                systemctl status pmcd --no-pager 2>&1 | sed 's/^/    /' >&2 || true
            fi
            if [ -s "$PCP_LOG_DIR/pmcd/pmcd.log" ]; then
                echo "setup: the end of $PCP_LOG_DIR/pmcd/pmcd.log:" >&2
                tail -n 15 "$PCP_LOG_DIR/pmcd/pmcd.log" | sed 's/^/    /' >&2
            else
                echo "setup: ($PCP_LOG_DIR/pmcd/pmcd.log is empty or absent: pmcd never got as far as logging)" >&2
            fi
            rm -f "$out"
            exit 1
        fi
        sleep 0.2
    done
    rm -f "$out"
    check_pmcd_is_ours
}

# The rust-version of Cargo.toml, and whether "rustc --version" of the toolchain first found
# (PATH, then ~/.cargo/bin) is at least that.
required_rust() {
    v=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$repo/Cargo.toml")
    [ -n "$v" ] || { echo "setup: no rust-version in $repo/Cargo.toml" >&2; exit 1; }
    echo "$v"
}
version_at_least() { # have want: 1.89.0 >= 1.89
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -n 1)" = "$2" ]
}

check_rust() {
    want=$(required_rust) || exit 1
    PATH=$HOME/.cargo/bin:$PATH
    rustc=$(command -v rustc || true)
    if [ -z "$rustc" ] || ! command -v cargo >/dev/null 2>&1; then
        return 1
    fi
    have=$(rustc --version | sed -n 's/^rustc \([0-9][0-9.]*\).*/\1/p')
    if version_at_least "$have" "$want"; then
        log "Rust $have ($rustc) is new enough (Cargo.toml: rust-version = \"$want\")"
        return 0
    fi
    {
        echo "setup: $rustc is Rust ${have:-?}; this project needs Rust $want or newer (rust-version in Cargo.toml)."
        if command -v rustup >/dev/null 2>&1; then
            echo "setup: update it with:   rustup update stable && rustup default stable"
        else
            echo "setup: that is the distribution's toolchain; remove it (apt-get remove rustc cargo, or"
            echo "setup: dnf remove rust cargo) and run this script again: it then installs the current stable"
            echo "setup: Rust with rustup into ~/.cargo. Or install rustup yourself (https://rustup.rs)."
        fi
    } >&2
    exit 1
}

install_rust() {
    if check_rust; then
        return 0
    fi
    log "no Rust toolchain (rustc and cargo): installing the stable one with rustup into ~/.cargo"
    script=$(mktemp)
    if ! curl --proto '=https' --tlsv1.2 -sSf -o "$script" https://sh.rustup.rs; then
        rm -f "$script"
        echo "setup: could not download rustup's installer from https://sh.rustup.rs (no network?)." >&2
        echo "setup: install Rust $(required_rust) or newer another way (https://rustup.rs) and run this script again." >&2
        exit 1
    fi
    if ! sh "$script" -y --profile minimal --component clippy,rustfmt; then
        rm -f "$script"
        echo "setup: rustup's installer failed (its messages are above); install Rust $(required_rust) or newer and run this script again." >&2
        exit 1
    fi
    rm -f "$script"
    check_rust || { echo "setup: rustup ran, but no rustc/cargo in ~/.cargo/bin" >&2; exit 1; }
}

main() {
    need_root
    if [ -f /etc/debian_version ]; then
        install_debian
    elif command -v dnf >/dev/null 2>&1; then
        install_rhel
    else
        echo "setup: unsupported distribution (need Debian/Ubuntu or a RHEL 9 family system)" >&2
        exit 1
    fi
    pcp_env
    start_pmcd
    install_rust
    log "ready: PCP $PCP_VERSION, pmcd pid $(cat "$PCP_RUN_DIR/pmcd.pid") (the one installed here) is running"
}

# LLM_SETUP_FUNCTIONS_ONLY=1 only defines the functions (tests/install.rs tests them).
[ -n "${LLM_SETUP_FUNCTIONS_ONLY:-}" ] || main
