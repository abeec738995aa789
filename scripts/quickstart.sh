#!/bin/sh
# quickstart.sh - the README's first command: install PCP and the build tools, build, install
# what the packages install (packaging/install-files: the PMDA under $PCP_PMDAS_DIR/llm and into
# pmcd, guidellm2pcp on PATH, man pages, the pmlogconf groups and the benchmark pmlogger
# configuration) and end with a summary of what is installed and which sources are up.
# Run as root from the repository; safe to run again.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
PATH=$HOME/.cargo/bin:$PATH
cargo build --release --locked
set +u; . /etc/pcp.env; set -u
sh packaging/install.sh --package pcp-import-guidellm2pcp
./deploy/install-pmda

# pminfo -f output of one metric as "instance<TAB>value" lines.
values() {
    pminfo -f "$1" 2>/dev/null | sed -n 's/^ *inst \[[0-9]* or "\([^"]*\)"\] value "*\(.*\)/\1	\2/p' | sed 's/"$//'
}

# Each source has either sampled (up) or failed once (a last_error) a few seconds after start.
i=0
while [ $i -lt 20 ]; do
    pending=$(values llm.agent.source.up | while IFS='	' read -r src up; do
        err=$(values llm.agent.source.last_error | awk -F'	' -v s="$src" '$1 == s {print $2}')
        [ "$up" = 1 ] || [ -n "$err" ] || echo "$src"
    done)
    [ -z "$pending" ] && break
    i=$((i + 1))
    sleep 0.5
done

echo
echo "quickstart: installed (packaging/install-files):"
sh packaging/install.sh --list | awk '$2 != "dir" {print "    " $3}'
line=$(grep '^llm[ 	]' "$PCP_PMCDCONF_PATH" | tr -s ' 	' ' ' | sed 's/ $//')
version=$(pminfo -f llm.agent.version 2>/dev/null | sed -n 's/^ *value "\(.*\)"/\1/p')
if [ -n "$version" ]; then
    echo "quickstart: pmcd serves llm.* from pmdallm $version ($PCP_PMCDCONF_PATH: $line)"
else
    echo "quickstart: pmcd does not serve llm.agent.version: see $PCP_LOG_DIR/pmcd/llm.log and pmcd.log" >&2
    exit 1
fi
echo "quickstart: sources (llm.agent.source.up and .last_error):"
values llm.agent.source.up | while IFS='	' read -r src up; do
    if [ "$up" = 1 ]; then
        echo "    $src: up"
    else
        err=$(values llm.agent.source.last_error | awk -F'	' -v s="$src" '$1 == s {print $2}')
        echo "    $src: not up: ${err:-no attempt yet}"
    fi
done
gpus=$(pminfo -f llm.gpu.count 2>/dev/null | sed -n 's/^ *value //p')
[ -z "$gpus" ] || echo "quickstart: $gpus GPU(s) (llm.gpu.count)"
if [ -f "$PCP_SYSCONF_DIR/llm/llm.conf" ]; then
    echo "quickstart: configuration: $PCP_SYSCONF_DIR/llm/llm.conf"
else
    echo "quickstart: no $PCP_SYSCONF_DIR/llm/llm.conf: the defaults (local GPUs, vLLM on localhost:8000);"
    echo "            $PCP_SYSCONF_DIR/llm/llm.conf.example documents every key"
fi
command -v guidellm2pcp >/dev/null || echo "quickstart: guidellm2pcp is in $PCP_BIN_DIR, which is not on this PATH" >&2
if command -v man >/dev/null; then
    man -w pmdallm >/dev/null 2>&1 || echo "quickstart: man does not find pmdallm(1) in $PCP_MAN_DIR" >&2
else
    echo "quickstart: no man command here (apt-get install man-db / dnf install man-db); the pages are in $PCP_MAN_DIR/man1"
fi
echo "quickstart: next: pminfo -fdT llm.agent; man pmdallm; guidellm2pcp --help;"
echo "            pmlogger -c config.llm-benchmark -l bench.log bench-archive &   (README: Recording a benchmark)"
