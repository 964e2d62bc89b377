#!/usr/bin/env bash
# Builds the upstream Kubernetes components from the Go module proxy, once per version.
#
# No registry is reachable here, so no release tarball or image can be fetched; the
# Go module proxy can serve k8s.io/kubernetes, but that module replaces its ~30
# staging modules (k8s.io/api, k8s.io/client-go, ...) with local folders, and Go
# ignores replace directives of dependencies. A small wrapper module requires
# k8s.io/kubernetes and repeats every staging replace as a published version.
#
# Idempotent: binaries are cached by version in $ROLLOUT_CACHE/k8s-$K8S_VERSION/bin
# (outside the checkout), with the module and build caches beside them, so a later
# run on the same machine does nothing. Prints the bin folder on its last line.
#
# Environment: K8S_VERSION (default below), ROLLOUT_CACHE (default
# /var/cache/rollout-harness), BUILD_JOBS (default 2: the CI machines have 2 cores).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$here/lib.sh" # for record_timing

version="${K8S_VERSION:-v1.33.13}"
cache="${ROLLOUT_CACHE:-/var/cache/rollout-harness}"
jobs="${BUILD_JOBS:-2}"
components=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

root="$cache/k8s-$version"
bin="$root/bin"
wrapper="$root/wrapper"
export GOMODCACHE="$cache/gomod" GOCACHE="$cache/gocache"
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local GOMAXPROCS="$jobs"
export CGO_ENABLED=0

log() { echo "cluster/build: $*" >&2; }

already_built() {
    local component
    [[ -f "$bin/.complete" ]] || return 1
    for component in "${components[@]}"; do
        [[ -x "$bin/$component" ]] || return 1
    done
}

# The wrapper's go.mod: the staging list is read from the module's own go.mod, so
# a new patch release that adds a staging module needs no change here.
write_wrapper() {
    local upstream_mod minor
    upstream_mod="$(go mod download -json "k8s.io/kubernetes@$version" |
        sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
    minor="v0.${version#v1.}"
    mkdir -p "$wrapper"
    {
        echo "module rollout-harness.local/k8s-build"
        echo
        # Same language version and GODEBUG defaults as upstream's own builds.
        grep -E '^(go|godebug) ' "$upstream_mod"
        echo
        echo "require k8s.io/kubernetes $version"
        echo
        echo "replace ("
        sed -n 's#^[[:space:]]*\(k8s.io/[^[:space:]]*\) => \./staging/.*#\t\1 => \1 '"$minor"'#p' \
            "$upstream_mod"
        echo ")"
    } >"$wrapper/go.mod.new"
    mv "$wrapper/go.mod.new" "$wrapper/go.mod"
    touch "$wrapper/go.sum"
}

# Only --version output and the node's reported kubelet version depend on these.
ldflags() {
    local major minor package=k8s.io/component-base/version
    IFS=. read -r major minor _ <<<"${version#v}"
    echo "-s -w -X $package.gitVersion=$version -X $package.gitMajor=$major" \
        "-X $package.gitMinor=$minor -X $package.gitTreeState=clean" \
        "-X $package.buildDate=1970-01-01T00:00:00Z"
}

build() {
    local packages=() component
    for component in "${components[@]}"; do
        packages+=("k8s.io/kubernetes/cmd/$component")
    done
    rm -rf "$bin.partial"
    mkdir -p "$bin.partial"
    (cd "$wrapper" && nice -n 19 go build -p "$jobs" -trimpath -ldflags "$(ldflags)" \
        -o "$bin.partial/" "${packages[@]}")
    touch "$bin.partial/.complete"
    rm -rf "$bin"
    mv "$bin.partial" "$bin"
}

main() {
    local started=$EPOCHREALTIME caches="build and module caches empty"
    if already_built; then
        log "Kubernetes $version already built in $bin"
        record_timing build-cached "$started" "Kubernetes $version, binaries cached"
        echo "$bin"
        return
    fi
    command -v go >/dev/null || { log "go is not installed"; exit 1; }
    [[ -z "$(ls -A "$GOCACHE" 2>/dev/null)" ]] || caches="build cache reused"
    log "building Kubernetes $version (${components[*]}) with $jobs jobs"
    write_wrapper
    build
    record_timing build-cold "$started" "Kubernetes $version, $jobs jobs, $caches"
    log "built Kubernetes $version in ${SECONDS}s into $bin"
    echo "$bin"
}

main "$@"
