#!/usr/bin/env bash
# Brings up a Docker engine on this machine and builds the sample service images.
#
# Idempotent: installs the engine only when it is missing, starts dockerd only when
# `docker info` does not answer, and rebuilds only images whose sources changed.
# Run from anywhere; needs root on a fresh machine (apt-get, dockerd).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log="${DOCKERD_LOG:-/var/log/dockerd.log}"
python="${PYTHON:-python3}"

install_engine() {
    if command -v dockerd >/dev/null && command -v debootstrap >/dev/null; then
        return
    fi
    echo "docker-up: installing docker.io and debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq docker.io debootstrap >/dev/null
}

running() {
    # Whether process $1 runs; a zombie (dead, not yet reaped) does not.
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [[ "$state" != Z* ]]
}

alive() {
    # Whether the process that pid file $1 names runs.
    local pid
    pid="$(cat "$1" 2>/dev/null)" || return 1
    running "$pid"
}

remove_stale_pid_files() {
    # A dockerd killed without cleanup leaves pid files (its own and its
    # containerd's); a new dockerd refuses to start, or waits for a containerd
    # that is gone, while they name a process that exists, a zombie included.
    local file
    for file in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
        if [[ -f "$file" ]] && ! alive "$file"; then
            rm -f "$file"
        fi
    done
}

start_engine() {
    if docker info >/dev/null 2>&1; then
        echo "docker-up: engine already running"
        return
    fi
    local started=""
    if ! alive /var/run/docker.pid; then
        echo "docker-up: starting dockerd (log: $log)"
        remove_stale_pid_files
        # --ip makes ports published without an address bind to loopback only.
        # setsid detaches it from this script's process group, so that the
        # engine outlives the script (and a Ctrl-C in the terminal that ran it).
        setsid dockerd --ip 127.0.0.1 >"$log" 2>&1 </dev/null &
        started=$!
    fi
    for _ in $(seq 1 120); do
        if docker info >/dev/null 2>&1; then
            echo "docker-up: engine answers"
            return
        fi
        if [[ -n "$started" ]] && ! running "$started"; then
            break
        fi
        sleep 0.5
    done
    echo "docker-up: dockerd is not answering; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
}

install_engine
start_engine
cd "$repo"
"$python" -m sample_services.build_images
