# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Shared by cluster/up.sh and cluster/down.sh: where the cluster keeps its files,
# and how its processes are started, found and stopped. Sourced, not run.
#
# Every path below can be moved with ROLLOUT_CLUSTER_DIR (state that survives
# `down.sh`: certificates, kubeconfigs, the image store) and ROLLOUT_CLUSTER_RUN
# (sockets, process ids, pod network state: gone after `down.sh` or a reboot).

cluster_dir="${ROLLOUT_CLUSTER_DIR:-/var/lib/rollout-harness/cluster}"
run_dir="${ROLLOUT_CLUSTER_RUN:-/run/rollout-harness/cluster}"

pki="$cluster_dir/pki"
logs="$cluster_dir/logs"
etcd_data="$cluster_dir/etcd"
kubelet_root="$cluster_dir/kubelet"
containerd_root="$cluster_dir/containerd"
containerd_state="$run_dir/containerd"
containerd_socket="$run_dir/containerd.sock"
cni_conf="$cluster_dir/cni"
cni_state="$run_dir/cni"
pids="$run_dir/pids"
# The binaries up.sh ran (a link into the build cache), for down.sh and for users.
bin_link="$cluster_dir/bin"
admin_kubeconfig="$cluster_dir/admin.kubeconfig"
harness_kubeconfig="$cluster_dir/harness.kubeconfig"
baseline_kubeconfig="$cluster_dir/baseline.kubeconfig"
# How long builds and bring-ups took, one line each: step, seconds, when (UTC),
# detail. bench/bench_gate.py prints the latest of each step; `down.sh --purge`
# keeps the file, because it records the machine, not the cluster.
timings="$cluster_dir/timings"

node_name="${ROLLOUT_NODE_NAME:-rollout-node}"
api_port="${ROLLOUT_API_PORT:-6443}"
pod_cidr="${ROLLOUT_POD_CIDR:-10.244.0.0/24}"
service_cidr="${ROLLOUT_SERVICE_CIDR:-10.96.0.0/16}"
first_service_ip="${ROLLOUT_FIRST_SERVICE_IP:-10.96.0.1}"
bridge="${ROLLOUT_BRIDGE:-rollout0}"
# The image every pod's sandbox runs; built by up.sh, never pulled.
pause_image="rollout-harness.local/pause:1.0"

log() { echo "cluster/${0##*/}: $*" >&2; }

# The pid of a component started by up.sh, if that process still runs it.
running_pid() {
    local name="$1" pid
    [[ -f "$pids/$name" ]] || return 1
    pid="$(<"$pids/$name")"
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    # A recycled pid would run something else: compare the program.
    [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == *"$name"* ]] || return 1
    echo "$pid"
}

# start NAME COMMAND...: run a component detached from this script, logging to a file.
start() {
    local name="$1"
    shift
    if running_pid "$name" >/dev/null; then
        log "$name already running"
        return
    fi
    log "starting $name (log: $logs/$name.log)"
    # setsid: the component outlives this script and a Ctrl-C in its terminal.
    setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
    echo $! >"$pids/$name"
}

# wait_for WHAT SECONDS NAME COMMAND...: retry COMMAND until it succeeds, giving up
# early when the component NAME has exited.
wait_for() {
    local what="$1" seconds="$2" name="$3"
    shift 3
    for _ in $(seq 1 $((seconds * 5))); do
        "$@" >/dev/null 2>&1 && return
        running_pid "$name" >/dev/null || break
        sleep 0.2
    done
    log "$what did not come up within ${seconds}s; last lines of $logs/$name.log:"
    tail -n 30 "$logs/$name.log" >&2
    exit 1
}

# Whether PID runs; an exited process that its parent has not reaped yet (a zombie)
# does not.
alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ "$(awk '{print $1}' <<<"${stat##*) }")" != Z ]]
}

# Stop one component: SIGTERM, then SIGKILL after a grace period.
stop_component() {
    local name="$1" pid
    pid="$(running_pid "$name")" || { rm -f "$pids/$name"; return 0; }
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        alive "$pid" || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pids/$name"
}

# record_timing STEP STARTED DETAIL: append the seconds since STARTED (a value of
# $EPOCHREALTIME) to $timings. A machine where the file cannot be written (a build
# as a user without rights to the cluster folder) only loses the record.
record_timing() {
    local step="$1" started="$2" detail="${3:-}" seconds when
    seconds="$(LC_ALL=C awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
    when="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    { mkdir -p "$cluster_dir" && printf '%s\t%s\t%s\t%s\n' "$step" "$seconds" "$when" "$detail" >>"$timings"; } 2>/dev/null ||
        log "could not record the timing of $step in $timings"
}

ctr_k8s() { ctr --address "$containerd_socket" --namespace k8s.io "$@"; }

# Whether containerd holds the image REF. (Not `grep -q`: it would close the pipe
# early, and under pipefail the SIGPIPE of `ctr` would read as "missing".)
has_image() { ctr_k8s images ls -q | grep -Fx -- "$1" >/dev/null; }
