#!/usr/bin/env bash
# Brings up a single-node Kubernetes cluster on this machine and prints the path of
# its admin kubeconfig on the last line.
#
# Everything comes from Debian packages and the Go module proxy (no registry is
# needed): etcd, a containerd of its own with CRI on its own socket (Docker's
# containerd is left alone), bridge CNI, the upstream components built by
# cluster/build.sh, and a pause image built here. There is no cluster DNS: reach
# Services by cluster IP.
#
# Idempotent: packages, certificates and kubeconfigs are made only when missing,
# running components are kept, images are imported only when their Docker image id
# changed. Images to import: the arguments (Docker references), or by default
# every `rollout-sample/*` image of the local Docker engine when one answers.
#
# Also writes $ROLLOUT_CLUSTER_DIR/harness.kubeconfig: a user bound only to the
# least-privilege roles of cluster/rbac.yaml, and baseline.kubeconfig: a user bound
# only to its read-only role for --baseline-from-cluster.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$here/lib.sh"

packages=(etcd-server containerd runc containernetworking-plugins conntrack iptables
    openssl curl)
cni_bin=/usr/lib/cni

install_packages() {
    local missing=() package
    for package in "${packages[@]}"; do
        [[ "$(dpkg-query -W -f '${Status}' "$package" 2>/dev/null)" == *"ok installed" ]] ||
            missing+=("$package")
    done
    [[ ${#missing[@]} -eq 0 ]] && return
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d keeps the packages' init scripts from starting their own etcd
    # and containerd: this script starts both with its own settings. One the
    # machine already has is left as it is.
    local policy=/usr/sbin/policy-rc.d ours=""
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        ours=1
    fi
    local status=0
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
    [[ -z "$ours" ]] || rm -f "$policy"
    return "$status"
}

node_ip() {
    if [[ -n "${ROLLOUT_NODE_IP:-}" ]]; then
        echo "$ROLLOUT_NODE_IP"
        return
    fi
    # The address of the interface the default route leaves by: the API server
    # must advertise a non-loopback address for the `kubernetes` Service.
    ip -4 route get 203.0.113.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -n1
}

# --- certificates and kubeconfigs ------------------------------------------------

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME SUBJECT EXTENSIONS: a certificate signed by the cluster CA.
sign() {
    local name="$1" subject="$2" extensions="$3"
    [[ -f "$pki/$name.key" ]] || new_key "$pki/$name.key"
    openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr"
    openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
        -CAcreateserial -days 3650 -sha256 -out "$pki/$name.crt" \
        -extfile <(printf '%s\n' "$extensions") 2>/dev/null
    rm -f "$pki/$name.csr"
}

client_cert() {
    local name="$1" user="$2" group="${3:-}" subject="/CN=$2"
    [[ -f "$pki/$name.crt" ]] && return
    [[ -n "$group" ]] && subject="/O=$group/CN=$user"
    sign "$name" "$subject" "$(printf '%s\n' \
        "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=clientAuth")"
}

serving_cert() {
    local ip="$1"
    local names="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
    names+=",DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
    names+=",IP:127.0.0.1,IP:$first_service_ip,IP:$ip"
    # A new node address needs a new certificate; everything else is kept.
    if [[ -f "$pki/apiserver.crt" ]] && [[ "$(cat "$pki/apiserver.names" 2>/dev/null)" == "$names" ]]; then
        return
    fi
    sign apiserver "/CN=kube-apiserver" "$(printf '%s\n' \
        "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" "subjectAltName=$names")"
    echo "$names" >"$pki/apiserver.names"
}

make_pki() {
    local ip="$1"
    mkdir -p "$pki"
    chmod 700 "$pki"
    if [[ ! -f "$pki/ca.crt" ]]; then
        log "creating the cluster CA and certificates in $pki"
        new_key "$pki/ca.key"
        openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=rollout-harness-ca" \
            -days 3650 -sha256 -out "$pki/ca.crt" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
    fi
    [[ -f "$pki/service-account.key" ]] || {
        new_key "$pki/service-account.key"
        openssl pkey -in "$pki/service-account.key" -pubout -out "$pki/service-account.pub"
    }
    serving_cert "$ip"
    client_cert admin admin system:masters
    client_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
    client_cert controller-manager system:kube-controller-manager
    client_cert scheduler system:kube-scheduler
    client_cert kube-proxy system:kube-proxy
    client_cert kubelet "system:node:$node_name" system:nodes
    client_cert harness rollout-harness
    client_cert baseline rollout-harness-baseline
}

# kubeconfig NAME: a kubeconfig for the client certificate NAME, certificates inline.
kubeconfig() {
    local name="$1" file="$cluster_dir/$1.kubeconfig"
    [[ -f "$file" ]] && return
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: rollout-harness
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
  - name: $name
    user:
      client-certificate-data: $(base64 -w0 "$pki/$name.crt")
      client-key-data: $(base64 -w0 "$pki/$name.key")
contexts:
  - name: rollout-harness-$name
    context: {cluster: rollout-harness, user: $name}
current-context: rollout-harness-$name
EOF
    chmod 600 "$file"
}

# --- processes ---------------------------------------------------------------------

api() {
    curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
        "https://127.0.0.1:$api_port$1"
}

start_etcd() {
    start etcd etcd --name rollout --data-dir "$etcd_data" \
        --listen-client-urls http://127.0.0.1:2379 \
        --advertise-client-urls http://127.0.0.1:2379 \
        --listen-peer-urls http://127.0.0.1:2380 \
        --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster rollout=http://127.0.0.1:2380 \
        --listen-metrics-urls http://127.0.0.1:2381
    wait_for "etcd" 30 etcd curl -fsS http://127.0.0.1:2379/health
}

start_control_plane() {
    local ip="$1"
    # The kubelet is reached by its node address: the node's name is in no DNS.
    start kube-apiserver "$bin/kube-apiserver" \
        --etcd-servers=http://127.0.0.1:2379 \
        --advertise-address="$ip" --secure-port="$api_port" \
        --service-cluster-ip-range="$service_cidr" \
        --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
        --client-ca-file="$pki/ca.crt" \
        --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
        --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
        --service-account-issuer=https://kubernetes.default.svc \
        --service-account-key-file="$pki/service-account.pub" \
        --service-account-signing-key-file="$pki/service-account.key" \
        --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
        --kubelet-preferred-address-types=InternalIP \
        --anonymous-auth=false --allow-privileged=true --profiling=false \
        --cert-dir="$run_dir/apiserver"
    wait_for "kube-apiserver" 90 kube-apiserver api /readyz

    start kube-controller-manager "$bin/kube-controller-manager" \
        --kubeconfig="$cluster_dir/controller-manager.kubeconfig" \
        --authentication-kubeconfig="$cluster_dir/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$cluster_dir/controller-manager.kubeconfig" \
        --bind-address=127.0.0.1 --leader-elect=false \
        --use-service-account-credentials=true \
        --service-account-private-key-file="$pki/service-account.key" \
        --root-ca-file="$pki/ca.crt" --cluster-name=rollout-harness --profiling=false
    start kube-scheduler "$bin/kube-scheduler" \
        --kubeconfig="$cluster_dir/scheduler.kubeconfig" \
        --authentication-kubeconfig="$cluster_dir/scheduler.kubeconfig" \
        --authorization-kubeconfig="$cluster_dir/scheduler.kubeconfig" \
        --bind-address=127.0.0.1 --leader-elect=false --profiling=false
}

# --- the node: containerd, CNI, kubelet, kube-proxy ---------------------------------

write_node_configs() {
    local ip="$1"
    mkdir -p "$cni_conf" "$cni_state"
    # No ipMasq and no portmap: pods only talk to each other and are reached
    # through port-forwards, so the CNI adds no iptables rules to clean up.
    cat >"$cni_conf/10-rollout-harness.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "rollout-harness",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$pod_cidr"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$cni_state"
      }
    }
  ]
}
EOF
    cat >"$cluster_dir/containerd.toml" <<EOF
version = 2
root = "$containerd_root"
state = "$containerd_state"

[grpc]
  address = "$containerd_socket"

[ttrpc]
  address = "$containerd_socket.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # The kubelet gives pod sandboxes an OOM score of -998, and lowering a score
  # needs CAP_SYS_RESOURCE, which some machines (these CI VMs among them) keep
  # out of even root's bounding set: runc then dies with "can't get final
  # child's PID from pipe". Clamp scores to containerd's own instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$cni_bin"
    conf_dir = "$cni_conf"
EOF
    cat >"$cluster_dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
containerRuntimeEndpoint: unix://$containerd_socket
cgroupDriver: cgroupfs
# This host's cgroup hierarchy is v1; kubelet 1.31+ refuses it unless told.
failCgroupV1: false
failSwapOn: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
# Images cannot be pulled again here, so the kubelet must never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
serializeImagePulls: false
resolvConf: /etc/resolv.conf
EOF
    cat >"$cluster_dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $cluster_dir/kube-proxy.kubeconfig}
hostnameOverride: $node_name
mode: iptables
clusterCIDR: $pod_cidr
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the host's conntrack table size alone.
conntrack: {maxPerCore: 0}
EOF
}

prepare_host() {
    # kubelet needs shared mount propagation; Docker leaves FORWARD at DROP,
    # which silently drops pod and Service traffic across the bridge.
    mount --make-rshared /
    # down.sh puts the policy back as it found it.
    [[ -f "$cluster_dir/forward-policy" ]] ||
        iptables -S FORWARD | sed -n 's/^-P FORWARD //p' >"$cluster_dir/forward-policy"
    iptables -P FORWARD ACCEPT
    sysctl -qw net.ipv4.ip_forward=1
    [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] ||
        modprobe br_netfilter 2>/dev/null || true
    if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
        sysctl -qw net.bridge.bridge-nf-call-iptables=1
    fi
}

start_node() {
    local ip="$1"
    mkdir -p "$containerd_root" "$containerd_state" "$kubelet_root"
    start containerd containerd --config "$cluster_dir/containerd.toml"
    wait_for "containerd" 30 containerd ctr --address "$containerd_socket" version
    import_pause_image
    start kubelet "$bin/kubelet" --config="$cluster_dir/kubelet.yaml" \
        --kubeconfig="$cluster_dir/kubelet.kubeconfig" \
        --hostname-override="$node_name" --node-ip="$ip" \
        --root-dir="$kubelet_root" --cert-dir="$run_dir/kubelet-pki" \
        --pod-infra-container-image="$pause_image"
    start kube-proxy "$bin/kube-proxy" --config="$cluster_dir/kube-proxy.yaml"
    wait_for "the node" 120 kubelet "$bin/kubectl" --kubeconfig="$admin_kubeconfig" \
        wait --for=condition=Ready "node/$node_name" --timeout=2s
}

# --- images --------------------------------------------------------------------------

# The pause program as a docker-archive, assembled by hand: no Docker engine is
# needed to start the cluster, only to bring application images.
import_pause_image() {
    local dir="$cluster_dir/pause" cache="${ROLLOUT_CACHE:-/var/cache/rollout-harness}"
    local layer_id config_id
    if has_image "$pause_image"; then
        return
    fi
    log "building the pause image $pause_image"
    rm -rf "$dir"
    mkdir -p "$dir/rootfs"
    (cd "$here/pause" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
        GOCACHE="$cache/gocache" go build -trimpath -ldflags "-s -w" -o "$dir/rootfs/pause" .)
    tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$dir/rootfs" -cf "$dir/layer.tar" pause
    layer_id="$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)"
    cat >"$dir/config.json" <<EOF
{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:$layer_id"]}}
EOF
    config_id="$(sha256sum "$dir/config.json" | cut -d' ' -f1)"
    mv "$dir/config.json" "$dir/$config_id.json"
    echo "[{\"Config\":\"$config_id.json\",\"RepoTags\":[\"$pause_image\"],\"Layers\":[\"layer.tar\"]}]" \
        >"$dir/manifest.json"
    tar -C "$dir" -cf - manifest.json "$config_id.json" layer.tar | ctr_k8s images import - >/dev/null
}

# Docker references to import: the arguments, else the local sample images.
images_to_import() {
    if [[ $# -gt 0 ]]; then
        printf '%s\n' "$@"
        return
    fi
    docker images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=rollout-sample/*' |
        grep -v ':<none>$' | sort
}

import_images() {
    local stamps="$cluster_dir/imported" wanted=() image id
    if ! docker info >/dev/null 2>&1; then
        log "no Docker engine answers: no application images imported"
        return
    fi
    mkdir -p "$stamps"
    while read -r image; do
        [[ -n "$image" ]] || continue
        id="$(docker image inspect --format '{{.Id}}' "$image")"
        # Same image id and still in containerd's store: nothing to do.
        if [[ "$(cat "$stamps/${image//\//_}" 2>/dev/null)" == "$id" ]] &&
            has_image "docker.io/$image"; then
            continue
        fi
        wanted+=("$image")
    done < <(images_to_import "$@")
    if [[ ${#wanted[@]} -eq 0 ]]; then
        log "images up to date"
        return
    fi
    imported=${#wanted[@]}
    log "importing ${#wanted[@]} image(s): ${wanted[*]}"
    # One archive for all: layers the images share are sent once.
    docker save "${wanted[@]}" | ctr_k8s images import - >/dev/null
    for image in "${wanted[@]}"; do
        docker image inspect --format '{{.Id}}' "$image" >"$stamps/${image//\//_}"
    done
}

apply_rbac() {
    "$bin/kubectl" --kubeconfig="$admin_kubeconfig" apply -f "$here/rbac.yaml" >/dev/null
}

# What this bring-up is, for its timing: `cold` makes the certificates (the first
# on this machine), `warm` starts a cluster whose files exist, `running` finds
# every component running already.
bring_up_kind() {
    if [[ ! -f "$pki/ca.crt" ]]; then
        echo cold
    elif running_pid etcd >/dev/null && running_pid kubelet >/dev/null; then
        echo running
    else
        echo warm
    fi
}

main() {
    local ip started=$EPOCHREALTIME kind imported=0
    [[ $EUID -eq 0 ]] || { log "must run as root"; exit 1; }
    kind="$(bring_up_kind)"
    bin="$("$here/build.sh" | tail -n1)"
    install_packages
    ip="$(node_ip)"
    [[ -n "$ip" ]] || { log "cannot tell this node's address; set ROLLOUT_NODE_IP"; exit 1; }
    mkdir -p "$cluster_dir" "$run_dir" "$logs" "$pids"
    ln -sfn "$bin" "$bin_link"

    make_pki "$ip"
    for name in admin controller-manager scheduler kube-proxy kubelet harness baseline; do
        kubeconfig "$name"
    done
    write_node_configs "$ip"
    prepare_host

    start_etcd
    start_control_plane "$ip"
    start_node "$ip"
    apply_rbac
    import_images "$@"

    record_timing "up-$kind" "$started" "$imported image(s) imported"
    log "cluster up in ${SECONDS}s (node $node_name at $ip)"
    log "least-privilege kubeconfig: $harness_kubeconfig"
    log "read-only kubeconfig (live baseline): $baseline_kubeconfig"
    echo "$admin_kubeconfig"
}

main "$@"
