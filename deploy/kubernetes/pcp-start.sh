#!/bin/sh
# pcp-start.sh - the image's entry point (deploy/kubernetes/Containerfile): pmcd with pmdallm
# and a pmlogger recording the benchmark configuration, both in the foreground under this
# script; SIGTERM (what the kubelet sends) stops pmlogger first, so its archive is complete,
# then pmcd and its agents, and the script exits 0. If either process dies the other is
# stopped and the script exits 1, so the pod restarts.
#
# Archives: $LLM_ARCHIVE_DIR/YYYYMMDD.HH.MM.{0,meta,index} (pmlogger_daily's naming), on a
# host path in the DaemonSet. Rotation is pmlogger's own: SIGUSR2 every $LLM_ROTATE_SECONDS
# closes the archive and opens a new one (pmlogger(1)); archive files older than $LLM_KEEP_DAYS
# days are removed then. (No compression here: pmlogger_daily -x on the host can do that.)
#
# Environment (defaults are the image's):
#   PMCD_PORT          pmcd's port (44321)
#   PMCD_INTERFACE     address pmcd listens on (all)
#   PCP_PMCDCONF_PATH  pmcd.conf (PCP's default)
#   LLM_PMNS           PMNS file for pmcd -n (PCP's default)
#   LLM_ARCHIVE_DIR    where archives go ($PCP_ARCHIVE_DIR/$(hostname))
#   LLM_LOGGER_CONFIG  pmlogger configuration (config.llm-benchmark)
#   LLM_ARCHIVE_NAME   strftime(3) pattern of archive names (%Y%m%d.%H.%M)
#   LLM_ROTATE_SECONDS new archive after this long (86400)
#   LLM_KEEP_DAYS      remove archives older than this (7)
#   LLM_LOG_DIR        pmcd.log and pmlogger.log ($PCP_LOG_DIR)
set -u
if [ -r /etc/pcp.env ]; then set +u; . /etc/pcp.env; set -u; fi
PATH=${PCP_BINADM_DIR:-/usr/lib/pcp/bin}:$PATH

port=${PMCD_PORT:-44321}
archive_dir=${LLM_ARCHIVE_DIR:-${PCP_ARCHIVE_DIR:-/var/log/pcp/pmlogger}/$(hostname)}
logger_config=${LLM_LOGGER_CONFIG:-config.llm-benchmark}
name=${LLM_ARCHIVE_NAME:-%Y%m%d.%H.%M}
rotate=${LLM_ROTATE_SECONDS:-86400}
keep_days=${LLM_KEEP_DAYS:-7}
log_dir=${LLM_LOG_DIR:-${PCP_LOG_DIR:-/var/log/pcp}}

say() { echo "pcp-start: $*" >&2; }

mkdir -p "$archive_dir" "$log_dir" || { say "cannot create $archive_dir or $log_dir"; exit 1; }
# pmlogger started by root runs as $PCP_USER after a SIGUSR2 re-exec: it must be able to write.
if [ "$(id -u)" = 0 ]; then
    chown "${PCP_USER:-pcp}:${PCP_GROUP:-pcp}" "$archive_dir" || exit 1
fi

export PMCD_PORT="$port" # pmcd(1) reads it (a -p as well would make it listen twice)
set -- -f -l "$log_dir/pmcd.log"
[ -n "${PMCD_INTERFACE:-}" ] && set -- "$@" -i "$PMCD_INTERFACE"
[ -n "${PCP_PMCDCONF_PATH:-}" ] && set -- "$@" -c "$PCP_PMCDCONF_PATH"
[ -n "${LLM_PMNS:-}" ] && set -- "$@" -n "$LLM_PMNS"
pmcd "$@" </dev/null &
pmcd_pid=$!
logger_pid=
rotator_pid=

stop() {
    trap '' TERM INT
    [ -n "$rotator_pid" ] && kill -TERM "$rotator_pid" 2>/dev/null
    if [ -n "$logger_pid" ]; then
        kill -TERM "$logger_pid" 2>/dev/null
        wait "$logger_pid" 2>/dev/null
    fi
    kill -TERM "$pmcd_pid" 2>/dev/null
    wait "$pmcd_pid" 2>/dev/null
    say "stopped"
    exit "$1"
}
trap 'stop 0' TERM INT

host=127.0.0.1
if ! pmcd_wait -h "$host:$port" -t 60; then
    say "pmcd did not answer on $host:$port; $log_dir/pmcd.log:"
    cat "$log_dir/pmcd.log" >&2 2>/dev/null
    stop 1
fi

pmlogger -h "$host:$port" -c "$logger_config" -l "$log_dir/pmlogger.log" \
    "$archive_dir/$name" </dev/null &
logger_pid=$!
say "pmcd $pmcd_pid on port $port, pmlogger $logger_pid writing $archive_dir"

# Rotation and culling, in a child the TERM handler stops.
(
    trap 'exit 0' TERM
    while :; do
        sleep "$rotate" &
        wait $!
        kill -USR2 "$logger_pid" 2>/dev/null || exit 0
        find "$archive_dir" -maxdepth 1 -type f -mtime +"$keep_days" \
            \( -name '*.meta*' -o -name '*.index' -o -name '*.[0-9]*' \) -delete 2>/dev/null
    done
) &
rotator_pid=$!

# Wait until a signal comes (the trap exits) or one of the two dies.
while kill -0 "$pmcd_pid" 2>/dev/null && kill -0 "$logger_pid" 2>/dev/null; do
    sleep 1 &
    wait $!
done
say "pmcd or pmlogger exited; stopping"
stop 1
