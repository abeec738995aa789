#!/bin/sh
# test-roots.sh - run the README's test command (sh scripts/test-all.sh) in minimal Debian roots
# of other releases, so one source tree is proven on each PCP the project supports:
#   trixie (Debian 13, PCP 6.3.x) and sid (Debian unstable, PCP 7.x).
# The host's own release is tested by scripts/test-all.sh itself, which calls this script last.
#
# Usage (as root, Linux):  sh scripts/test-roots.sh [release ...]     (default: trixie sid)
#
# Each root is made once with debootstrap from the Debian archive this host's apt already uses
# (read from /etc/apt/sources.list*, never written down here), cached under
# $LLM_ROOTS_DIR (default /var/tmp/llm-test-roots) and brought up to date on every run.
# The repository's working tree is copied in; the suite runs in its own PID and mount namespace
# (unshare --pid --mount --fork) with its own /proc, /run, /tmp and /dev/shm, so the root's pmcd,
# PCP's Install and pmsignal can neither see nor signal the host's processes, and everything the
# suite started dies with the namespace. PMCD_PORT is a port free on the host. The host's Rust
# toolchain is bind-mounted read-only (nothing can be downloaded for it); crates come from the
# registry as usual through the host's ~/.cargo (shared registry cache); each root keeps its own
# target directory, as the PCP libraries differ between releases.
# A failure in any root fails the script; a summary with per-root durations ends the output.
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOTS_DIR=${LLM_ROOTS_DIR:-/var/tmp/llm-test-roots}
RELEASES=${*:-trixie sid}
HOST_HOME=${HOME:-/root}
# What runs in each root: the README's test command (another only to debug this script).
COMMAND=${LLM_ROOTS_COMMAND:-sh scripts/test-all.sh}

log() { echo "test-roots: $*"; }
die() {
    echo "test-roots: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and namespaces need it)"
[ "$(uname -s)" = Linux ] || die "needs Linux (namespaces)"
command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) is missing"
[ -x "$HOST_HOME/.cargo/bin/cargo" ] || die "no Rust toolchain in $HOST_HOME/.cargo to lend the roots (run scripts/setup.sh)"
[ -d "$HOST_HOME/.rustup" ] || die "no $HOST_HOME/.rustup to lend the roots"

# The Debian archive URL this host's apt uses: the first "URIs:" (deb822) or "deb" line whose
# path ends in /debian. Never hard-coded, so no mirror name is written into the project.
host_mirror() {
    {
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }' "$f"
        done
    } | grep -E '/debian/?$' | head -n 1
}

ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and there is no apt-get to install it"
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
}

# A port nobody listens on now, for the root's pmcd (the host's keeps 44321).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null && return 0
    p=$((40000 + $$ % 20000))
    while ss -Htln "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
    echo "$p"
}

root_ok() { [ -x "$ROOTS_DIR/$1/bin/sh" ] && [ -f "$ROOTS_DIR/$1/etc/debian_version" ]; }

# Make the root once (into a .partial directory, renamed when complete, so an interrupted
# debootstrap is never reused).
make_root() {
    rel=$1
    dir=$ROOTS_DIR/$rel
    root_ok "$rel" && return 0
    mirror=$(host_mirror)
    [ -n "$mirror" ] || die "cannot find a Debian archive in this host's /etc/apt/sources.list* to debootstrap $rel from"
    log "$rel: debootstrap (minbase) from the host's Debian archive into $dir"
    rm -rf "$dir.partial"
    mkdir -p "$ROOTS_DIR"
    debootstrap --variant=minbase --include=ca-certificates "$rel" "$dir.partial" "$mirror" \
        >"$ROOTS_DIR/$rel.debootstrap.log" 2>&1 ||
        die "$rel: debootstrap failed, see $ROOTS_DIR/$rel.debootstrap.log"
    mv "$dir.partial" "$dir"
}

# Copy the working tree (tracked and untracked-but-not-ignored files, as the README's commands
# would see in a fresh checkout) to $1, keeping mtimes so the root's cargo cache stays valid.
copy_tree() {
    dest=$1
    mkdir -p "$dest"
    if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$REPO" && git ls-files -z -co --exclude-standard |
            tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$dest"
    else
        (cd "$REPO" && tar --exclude=./target --exclude='./target-*' --exclude=./.wt -cf - .) | tar -xf - -C "$dest"
    fi
}

# The scripts the namespace runs, kept in files so that the processes' command lines stay short
# (and name neither pmcd nor the agent: a host-side "pkill -f" for those must not hit them).
# ns_script: the namespace's PID 1, outside the chroot: its own mounts, then into the root.
ns_script() {
    cat <<'EOF'
set -eu
R=$ROOT
mount --make-rprivate /
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --make-rslave "$R/sys"
mount --rbind /dev "$R/dev"
mount --make-rslave "$R/dev"
mount -t tmpfs tmpfs "$R/dev/shm" 2>/dev/null || true
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mkdir -p "$R/run/lock" "$R/tmp"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
# The host's toolchain, read-only, and its cargo home (registry cache and lock) read-write.
mkdir -p "$R/root/.cargo" "$R/root/.rustup"
mount --bind "$HOST_HOME/.cargo" "$R/root/.cargo"
mount --bind "$HOST_HOME/.rustup" "$R/root/.rustup"
mount -o remount,bind,ro "$R/root/.rustup"
mount --bind "$HOST_HOME/.cargo/bin" "$R/root/.cargo/bin"
mount -o remount,bind,ro "$R/root/.cargo/bin"
mount --bind "$TARGET_DIR" "$R/src/repo/target"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
# The host's archive may be a dated snapshot: the Release files of moving suites (sid) carry a
# Valid-Until that has passed there, and apt-get update (also setup.sh's) would refuse them.
echo 'Acquire::Check-Valid-Until "false";' >"$R/etc/apt/apt.conf.d/99pcp-pmda-llm-test-roots"
exec chroot "$R" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PMCD_PORT="$PMCD_PORT" LLM_TEST_ROOTS=0 LLM_ROOT_RELEASE="$REL" LLM_ROOTS_COMMAND="$COMMAND" \
    /bin/sh /usr/local/lib/llm-test-roots.sh
EOF
}

# root_script: runs inside the root: refresh its packages, then the suite.
root_script() {
    cat <<'EOF'
set -eu
export DEBIAN_FRONTEND=noninteractive
# Refresh the cached root the way setup.sh installs (no systemd here), then run the command.
fake=$(mktemp -d)
printf "#!/bin/sh\nexit 0\n" >"$fake/systemctl"
chmod +x "$fake/systemctl"
echo "test-roots: $LLM_ROOT_RELEASE: apt-get update and upgrade"
apt-get update -qq
PATH=$fake:$PATH apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade >/dev/null ||
    PATH=$fake:$PATH dpkg --configure -a
rm -rf "$fake"
echo "test-roots: $LLM_ROOT_RELEASE: Debian $(cat /etc/debian_version), PMCD_PORT=$PMCD_PORT"
cd /src/repo
eval "$LLM_ROOTS_COMMAND"
EOF
}

run_root() {
    rel=$1
    root=$ROOTS_DIR/$rel
    target=$ROOTS_DIR/$rel-target
    mkdir -p "$target"
    rm -rf "$root/src/repo"
    copy_tree "$root/src/repo"
    mkdir -p "$root/src/repo/target" "$root/usr/local/lib"
    ns_script >"$ROOTS_DIR/$rel.ns.sh"
    root_script >"$root/usr/local/lib/llm-test-roots.sh"
    port=$(free_port)
    log "$rel: running sh scripts/test-all.sh in its own PID and mount namespace (log: $ROOTS_DIR/$rel.log)"
    # tee would hide the suite's exit status: it is written to $rel.rc instead.
    {
        rc=0
        ROOT=$root TARGET_DIR=$target HOST_HOME=$HOST_HOME PMCD_PORT=$port REL=$rel COMMAND=$COMMAND \
            unshare --pid --mount --fork sh "$ROOTS_DIR/$rel.ns.sh" || rc=$?
        echo "$rc" >"$ROOTS_DIR/$rel.rc"
    } 2>&1 | tee "$ROOTS_DIR/$rel.log"
}

# The tests cargo reported FAILED in log $1, each with the file:line it panicked at.
failed_tests() {
    awk '
/^test .* \.\.\. FAILED$/ { if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
/^thread .* panicked at / { split($0, q, "\047"); loc = $NF; sub(/:$/, "", loc); where[q[2]] = loc }
END { for (i = 1; i <= n; i++) print "      " order[i] (order[i] in where ? " (panicked at " where[order[i]] ")" : "") }
' "$1" 2>/dev/null || true
}

mkdir -p "$ROOTS_DIR"
# Roots first, side by side (network and disk bound), then the tests one root at a time (CPU).
for rel in $RELEASES; do
    root_ok "$rel" || ensure_debootstrap
done
pids=""
for rel in $RELEASES; do
    make_root "$rel" &
    pids="$pids $!"
done
for pid in $pids; do
    wait "$pid" || die "a root could not be made (see the messages above)"
done

summary=""
failed=0
for rel in $RELEASES; do
    start=$(date +%s)
    rm -f "$ROOTS_DIR/$rel.rc"
    run_root "$rel" || true
    status=$(cat "$ROOTS_DIR/$rel.rc" 2>/dev/null || echo 1)
    secs=$(($(date +%s) - start))
    dur="$((secs / 60))m$((secs % 60))s"
    if [ "$status" = 0 ]; then
        summary="$summary
  $rel: PASS in $dur"
    else
        failed=1
        # Each failed test with where it panicked; without any, the end of the log (setup, fmt,
        # clippy or the build failed).
        fails=$(failed_tests "$ROOTS_DIR/$rel.log")
        [ -n "$fails" ] || fails=$(tail -n 5 "$ROOTS_DIR/$rel.log" 2>/dev/null | sed 's/^/      /')
        summary="$summary
  $rel: FAIL in $dur (log: $ROOTS_DIR/$rel.log)${fails:+
$fails}"
    fi
done

echo "test-roots: summary$summary"
exit "$failed"
