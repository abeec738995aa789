#!/bin/bash
# Copied from the project's shared measurement scripts (../shared/bench/private-pmcd.sh) so the
# test suite runs from a fresh clone.
# private-pmcd.sh - run a PRIVATE pmcd (own port, pmcd.conf, PMNS, run/tmp/log/var dirs) on 127.0.0.1,
# so measurements never touch the machine's shared pmcd, its /etc/pcp/pmcd/pmcd.conf or its PMNS.
#
# usage:
#   bench/private-pmcd.sh start DIR PORT [--timeout SEC] [--agent 'PMCD.CONF AGENT LINE']...
#                                        [--pmns-file FILE]...
#   bench/private-pmcd.sh stop DIR        # stops pmcd and its agents by PID (recorded in DIR)
#   bench/private-pmcd.sh status DIR      # pids of pmcd and its agents, and `pminfo -f pmcd.agent.status`
#   bench/private-pmcd.sh env DIR         # prints the exports a client needs (PMCD_PORT, host spec, ...)
#
#   DIR     private state directory (created; wiped of old run/log state on start). Use e.g. a dir under /tmp.
#   PORT    TCP port for pmcd, bound to 127.0.0.1 only (pmcd -i 127.0.0.1 -p PORT).
#   --agent one pmcd.conf agent line, e.g.
#           'openmetrics 144 pipe binary notready /usr/bin/python3 /var/lib/pcp/pmdas/openmetrics/pmdaopenmetrics.python -c DIR/config.d'
#           Each agent NAME DOMAIN gets a dynamic PMNS root entry `NAME DOMAIN:*:*` unless a --pmns-file covers it.
#           The pmcd DSO agent (domain 2, pmcd.* metrics, incl. pmcd.agent.status) is always included.
#   --pmns-file  a complete ASCII PMNS file (with its own `root {}`) merged in with pmnsmerge(1), for agents
#           with a static namespace.
#   --timeout    pmcd -t agent PDU timeout in seconds (default 5, the pmcd default).
#   pmcd runs in the foreground (-f) under this script's user (root), so -U is not applied (pmcd(1) only drops
#   privileges when daemonising); its agents are started as root, as the shared pmcd's pmdaroot does.
#
# Environment given to pmcd (and inherited by its agents): PCP_RUN_DIR, PCP_TMP_DIR, PCP_LOG_DIR,
# PCP_VAR_DIR (so pickled PMDA state such as openmetrics' $PCP_VAR_DIR/config/pmda/144.* stays private),
# PCP_PMCDCONF_PATH, PMCD_ROOT_AGENT=0 (no pmdaroot), PCP_PYTHON_PROG=/usr/bin/python3.
# PCP_PMDAS_DIR stays the system one (the agents' binaries and help files live there).
# Idempotent: `start` first stops a previous private pmcd recorded in DIR. Run as root.
set -u
PATH=/usr/lib/pcp/bin:/usr/bin:/bin:/usr/sbin:/sbin:$PATH

die() { echo "private-pmcd: $*" >&2; exit 1; }

children_of() {  # pids whose parent is $1
  local p
  for p in /proc/[0-9]*; do
    [ -r "$p/stat" ] || continue
    awk -v pp="$1" '{ sub(/^.*\) /, ""); if ($2 == pp) { print FILENAME } }' "$p/stat" 2>/dev/null \
      | sed -e 's,^/proc/,,' -e 's,/stat$,,'
  done
}

is_our_pmcd() {  # pid dir
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "pmcd .*$2/pmcd.conf"
}

do_stop() {
  local dir=$1 pid kids k i
  [ -f "$dir/pmcd.pid" ] || return 0
  pid=$(cat "$dir/pmcd.pid")
  if is_our_pmcd "$pid" "$dir"; then
    kids=$(children_of "$pid")
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null
    for k in $kids; do
      for i in $(seq 30); do [ -d "/proc/$k" ] || break; sleep 0.1; done
      [ -d "/proc/$k" ] && kill -KILL "$k" 2>/dev/null
    done
  fi
  rm -f "$dir/pmcd.pid"
}

cmd=${1:-}; shift || true
case "$cmd" in
start)
  [ $# -ge 2 ] || die "usage: start DIR PORT [options]"
  dir=$1; port=$2; shift 2
  timeout=5; agents=(); pmnsfiles=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --agent) agents+=("$2"); shift 2 ;;
      --pmns-file) pmnsfiles+=("$2"); shift 2 ;;
      --timeout) timeout=$2; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  mkdir -p "$dir" || die "cannot create $dir"
  dir=$(cd "$dir" && pwd)
  do_stop "$dir"
  rm -rf "$dir/run" "$dir/tmp" "$dir/log"
  # PRIVATE_PMCD_KEEP_VAR=1 keeps state a test seeded in DIR/var (e.g. remembered metric names)
  [ "${PRIVATE_PMCD_KEEP_VAR:-0}" = 1 ] || rm -rf "$dir/var"
  mkdir -p "$dir/run" "$dir/tmp" "$dir/log/pmcd" "$dir/var/config/pmda"
  # pmcd.conf: the pmcd DSO agent plus the given agents
  {
    echo "# private pmcd.conf written by bench/private-pmcd.sh"
    echo "pmcd	2	dso	pmcd_init	/var/lib/pcp/pmdas/pmcd/pmda_pmcd.so"
    for a in "${agents[@]}"; do echo "$a"; done
  } >"$dir/pmcd.conf"
  # PMNS: pmcd's own names (system root_pmcd, whose `root { pmcd }` block we replace) + dynamic agent roots
  {
    echo "root {"
    echo "    pmcd"
    for a in "${agents[@]}"; do
      set -- $a
      if [ ${#pmnsfiles[@]} -eq 0 ] || ! grep -qw "^ *$1" "${pmnsfiles[@]}" 2>/dev/null; then
        echo "    $1	$2:*:*"
      fi
    done
    echo "}"
    awk 'BEGIN{skip=0} /^root[ \t]*\{/ {skip=1; next} skip && /^\}/ {skip=0; next} !skip {print}' \
      /var/lib/pcp/pmns/root_pmcd
  } >"$dir/root.base"
  if [ ${#pmnsfiles[@]} -gt 0 ]; then
    rm -f "$dir/root"
    pmnsmerge -f "$dir/root.base" "${pmnsfiles[@]}" "$dir/root" >"$dir/log/pmnsmerge.log" 2>&1 \
      || die "pmnsmerge failed: $(tail -1 "$dir/log/pmnsmerge.log")"
  else
    cp "$dir/root.base" "$dir/root"
  fi
  export PCP_RUN_DIR=$dir/run PCP_TMP_DIR=$dir/tmp PCP_LOG_DIR=$dir/log PCP_VAR_DIR=$dir/var \
         PCP_PMCDCONF_PATH=$dir/pmcd.conf PMCD_ROOT_AGENT=0 PCP_PYTHON_PROG=/usr/bin/python3
  # agents inherit pmcd's cwd and write their <name>.log there (as under the rc script): $dir/log/pmcd
  ( cd "$dir/log/pmcd" && exec pmcd -f -A -i 127.0.0.1 -p "$port" -s "$dir/run/pmcd.socket" \
       -t "$timeout" -c "$dir/pmcd.conf" -n "$dir/root" -l "$dir/log/pmcd.log" ) \
       </dev/null >"$dir/log/pmcd.stdout" 2>&1 &
  echo $! >"$dir/pmcd.pid"
  # wait until it answers (notready agents may take a while: openmetrics scans its sources first)
  ok=0
  for i in $(seq 150); do
    if pminfo -h "127.0.0.1:$port" -f pmcd.numagents >/dev/null 2>&1; then ok=1; break; fi
    [ -d "/proc/$(cat "$dir/pmcd.pid")" ] || break
    sleep 0.2
  done
  [ $ok = 1 ] || { tail -20 "$dir/log/pmcd.log" >&2; do_stop "$dir"; die "pmcd did not come up"; }
  # then until every agent reports status 0 (ready); notready agents finish their start-up scan first
  for i in $(seq 150); do
    pminfo -h "127.0.0.1:$port" -f pmcd.agent.status 2>/dev/null | grep -q 'value [^0]' || break
    sleep 0.2
  done
  pminfo -h "127.0.0.1:$port" -f pmcd.agent.status 2>/dev/null | grep 'value [^0]' >&2 \
    && echo "private-pmcd: warning: an agent is not ready (status above); see $dir/log" >&2
  echo "private pmcd pid=$(cat "$dir/pmcd.pid") host=127.0.0.1:$port dir=$dir"
  ;;
stop)
  [ $# -ge 1 ] || die "usage: stop DIR"
  [ -d "$1" ] || exit 0
  do_stop "$(cd "$1" && pwd)"
  ;;
status)
  [ $# -ge 1 ] || die "usage: status DIR"
  dir=$(cd "$1" && pwd); pid=$(cat "$dir/pmcd.pid" 2>/dev/null)
  is_our_pmcd "$pid" "$dir" || { echo "not running"; exit 1; }
  port=$(tr '\0' '\n' <"/proc/$pid/cmdline" | grep -A1 -x -- -p | tail -1)
  echo "pmcd pid=$pid port=$port"
  for k in $(children_of "$pid"); do echo "agent pid=$k $(tr '\0' ' ' <"/proc/$k/cmdline")"; done
  pminfo -h "127.0.0.1:$port" -f pmcd.agent.status
  ;;
env)
  [ $# -ge 1 ] || die "usage: env DIR"
  dir=$(cd "$1" && pwd); pid=$(cat "$dir/pmcd.pid" 2>/dev/null)
  is_our_pmcd "$pid" "$dir" || die "not running"
  port=$(tr '\0' '\n' <"/proc/$pid/cmdline" | grep -A1 -x -- -p | tail -1)
  echo "export PMCD_PORT=$port PCP_PYTHON_PROG=/usr/bin/python3"
  echo "# clients: pminfo -h 127.0.0.1:$port ...   host spec for bench/fetch-cost.py: 127.0.0.1:$port"
  ;;
*)
  sed -n '2,30p' "$0"; exit 2 ;;
esac
