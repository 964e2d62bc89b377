#!/usr/bin/env bash
# Stops the cluster that cluster/up.sh started and removes what it left on the host:
# pod containers and their network namespaces, the pod bridge, kube-proxy's
# iptables rules, mounts under the kubelet and containerd folders, etcd's data.
#
# Kept for the next `up.sh`, so that it is fast: the certificates, kubeconfigs and
# containerd's image store (images cannot be pulled here). `down.sh --purge`
# removes those too. Idempotent: safe to run when nothing runs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$here/lib.sh"

# The network namespaces of this containerd's pod sandboxes, read from their specs
# so that no other namespace on the host is touched.
sandbox_netns() {
    local id
    for id in $(ctr_k8s containers ls -q 2>/dev/null); do
        ctr_k8s containers info "$id" 2>/dev/null |
            jq -r '.Spec.linux.namespaces[]? | select(.type == "network") | .path // empty'
    done | sort -u
}

remove_pods() {
    local netns=() task id
    [[ -d "$containerd_state" ]] || return 0
    # Pods outlive a stopped containerd (their shims keep them running): start it
    # again to reach them.
    if ! running_pid containerd >/dev/null; then
        mkdir -p "$logs" "$pids"
        start containerd containerd --config "$cluster_dir/containerd.toml"
        wait_for "containerd" 30 containerd ctr --address "$containerd_socket" version
    fi
    mapfile -t netns < <(sandbox_netns)
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do
        ctr_k8s tasks kill --signal SIGKILL "$task" 2>/dev/null || true
    done
    sleep 1
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do
        ctr_k8s tasks delete --force "$task" >/dev/null 2>&1 || true
    done
    for id in $(ctr_k8s containers ls -q 2>/dev/null); do
        ctr_k8s containers delete "$id" >/dev/null 2>&1 || true
    done
    for path in "${netns[@]}"; do
        [[ "$path" == /var/run/netns/* || "$path" == /run/netns/* ]] || continue
        umount "$path" 2>/dev/null || true
        rm -f "$path"
    done
    [[ ${#netns[@]} -eq 0 ]] || log "removed ${#netns[@]} pod network namespace(s)"
}

# kube-proxy removes the rules of its Services; the kubelet's few chains
# (KUBE-FIREWALL, the canaries) are removed by name. Only Kubernetes names its
# chains KUBE-, so nothing else on the host is touched.
clean_network() {
    if [[ -x "$bin_link/kube-proxy" && -f "$cluster_dir/kube-proxy.yaml" ]]; then
        "$bin_link/kube-proxy" --cleanup --config="$cluster_dir/kube-proxy.yaml" \
            >/dev/null 2>&1 || true
    fi
    remove_kube_chains iptables
    remove_kube_chains ip6tables
    if ip link show "$bridge" >/dev/null 2>&1; then
        ip link delete "$bridge"
    fi
    if [[ -f "$cluster_dir/forward-policy" ]]; then
        iptables -P FORWARD "$(<"$cluster_dir/forward-policy")"
        rm -f "$cluster_dir/forward-policy"
    fi
}

remove_kube_chains() {
    local tool="$1" table rule chain
    command -v "$tool-save" >/dev/null || return 0
    for table in filter nat mangle; do
        # First the jumps into KUBE- chains, then the chains themselves.
        "$tool-save" -t "$table" 2>/dev/null | sed -n '/^-A .* -j KUBE-/p' |
            while read -r rule; do
                eval "$tool -t $table ${rule/#-A/-D}" 2>/dev/null || true
            done
        for chain in $("$tool-save" -t "$table" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p'); do
            "$tool" -t "$table" -F "$chain" 2>/dev/null || true
        done
        for chain in $("$tool-save" -t "$table" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p'); do
            "$tool" -t "$table" -X "$chain" 2>/dev/null || true
        done
    done
}

# Unmount, deepest first, whatever pods left mounted under our folders.
unmount_under() {
    local folder="$1"
    awk -v f="$folder/" 'index($2, f) == 1 { print $2 }' /proc/self/mounts |
        sort -r | while read -r point; do umount -l "$point" 2>/dev/null || true; done
}

main() {
    [[ $EUID -eq 0 ]] || { log "must run as root"; exit 1; }
    stop_component kube-proxy
    stop_component kubelet
    remove_pods
    stop_component containerd
    stop_component kube-scheduler
    stop_component kube-controller-manager
    stop_component kube-apiserver
    stop_component etcd

    clean_network
    unmount_under "$kubelet_root"
    unmount_under "$containerd_state"
    rm -rf "$etcd_data" "$kubelet_root" "$run_dir"
    if [[ "${1:-}" == "--purge" ]]; then
        unmount_under "$containerd_root"
        find "$cluster_dir" -mindepth 1 -maxdepth 1 ! -name timings -exec rm -rf {} +
        log "cluster stopped; all its files removed but $timings"
        return
    fi
    log "cluster stopped; certificates and images kept in $cluster_dir"
}

main "$@"
