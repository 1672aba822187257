#!/usr/bin/env bash
# Builds what a real node of the embedded environment runs, from the Go module proxy:
# kubelet and kube-proxy of the control plane's Kubernetes version, containerd 2 (kubelet >= 1.36
# no longer supports containerd 1.x: Kubernetes 1.35 was the last release that did, and Debian
# bookworm only has 1.6.20), its runc shim and ctr, runc, and the CNI plugins a bridge network needs.
# Cached outside the repo beside the control plane (build-k8s.sh), in a directory keyed by every
# version, rebuilt only when missing. Concurrent runs wait for each other. crictl (cri-tools) is how
# local:down stops a node's pods through CRI, so that CNI releases their addresses.
# Needs gcc and libseccomp-dev (runc is C in part and links libseccomp statically); this script
# installs libseccomp-dev with apt-get when it is missing.
#   --print-bin-dir   prints the directory (CNI plugins are in its cni/ subdirectory) and exits
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
CONTAINERD_VERSION="${CONTAINERD_VERSION:-2.4.2}"
RUNC_VERSION="${RUNC_VERSION:-1.5.3}"
CRICTL_VERSION="${CRICTL_VERSION:-1.37.0}"
CNI_PLUGINS_VERSION="${CNI_PLUGINS_VERSION:-1.10.0}"
CACHE_ROOT="${M2_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/m2-eks-pipeline}"
BIN="$CACHE_ROOT/bin/node-k8s-$K8S_VERSION-containerd-$CONTAINERD_VERSION-runc-$RUNC_VERSION-cni-$CNI_PLUGINS_VERSION"
WORK="$CACHE_ROOT/build"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

if [[ "${1:-}" == "--print-bin-dir" ]]; then echo "$BIN"; exit 0; fi

mkdir -p "$BIN/cni" "$WORK"
log() { printf '[build-node] %s\n' "$*" >&2; }
have() { [[ -x "$BIN/$1" ]] && "$BIN/$1" --version >/dev/null 2>&1; }

# Its own lock, so building the node binaries does not wait for build-k8s.sh (and the reverse).
exec 9>"$CACHE_ROOT/build-node.lock"
if ! flock -n 9; then
  log "another build-node.sh is running; waiting for it"
  flock 9
fi

# `go install module/cmd@version` into a scratch GOBIN, then moved into place, so an interrupted
# build never leaves a half-written binary that looks cached.
install_into() {
  local dest="$1" ld="$2" tags="$3"
  shift 3
  local tmp
  tmp=$(mktemp -d "$WORK/gobin.XXXXXX")
  GOBIN="$tmp" go install -trimpath -tags "$tags" -ldflags "$ld" "$@"
  mv "$tmp"/* "$dest"/
  rmdir "$tmp"
}

build_k8s_node() {
  local minor="${K8S_VERSION#1.}" dir="$WORK/node-k8s-$K8S_VERSION" components=(kubelet kube-proxy) missing=()
  for c in "${components[@]}"; do have "$c" || missing+=("$c"); done
  [[ ${#missing[@]} -eq 0 ]] && { log "kubelet and kube-proxy $K8S_VERSION cached"; return; }
  log "building ${missing[*]} v$K8S_VERSION"
  mkdir -p "$dir" && cd "$dir"
  # The same wrapper module as build-k8s.sh (k8s.io/kubernetes replaces its staging modules with
  # relative paths; the wrapper replaces each with its published v0.<minor>), in a directory of its
  # own so the two scripts never rewrite each other's tools.go. Seeded from the control plane's
  # go.mod/go.sum when that exists: the module graph is the same.
  if [[ ! -f go.mod ]]; then
    if [[ -f "$WORK/k8s-$K8S_VERSION/go.mod" ]]; then
      cp "$WORK/k8s-$K8S_VERSION/go.mod" "$WORK/k8s-$K8S_VERSION/go.sum" .
    else
      go mod init local/kbin >/dev/null 2>&1
      go mod edit -godebug=default=go1.24
      local gomod
      gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
      for m in $(awk '$1~/^k8s\.io\//&&$2=="v0.0.0"{print $1}' "$gomod"); do
        go mod edit -replace="$m=$m@v0.$minor"
      done
    fi
  fi
  local tools
  tools=$(printf '//go:build tools\n\npackage tools\n\nimport (\n'; printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${components[@]}"; printf ')\n')
  if [[ ! -f tools.go ]] || [[ "$(cat tools.go)" != "$tools" ]]; then
    printf '%s\n' "$tools" > tools.go
    go get "k8s.io/kubernetes@v$K8S_VERSION"
    go mod tidy -e >/dev/null 2>&1 || true
  fi
  local ld="-s -w" pkg=k8s.io/component-base/version
  ld+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean"
  for c in "${missing[@]}"; do
    local t0=$SECONDS
    go build -trimpath -ldflags "$ld" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c"
    mv "$BIN/$c.tmp" "$BIN/$c"
    log "$c built in $((SECONDS - t0)) s"
  done
}

build_containerd() {
  have containerd && have ctr && [[ -x "$BIN/containerd-shim-runc-v2" ]] && { log "containerd $CONTAINERD_VERSION cached"; return; }
  local t0=$SECONDS m=github.com/containerd/containerd/v2
  log "building containerd v$CONTAINERD_VERSION"
  # Static, without cgo: the btrfs snapshotter (the only part that needs it) is left out; overlayfs
  # is what the nodes use.
  install_into "$BIN" "-s -w -X $m/version.Version=v$CONTAINERD_VERSION -X $m/version.Revision=module-proxy" no_btrfs \
    "$m/cmd/containerd@v$CONTAINERD_VERSION" "$m/cmd/containerd-shim-runc-v2@v$CONTAINERD_VERSION" "$m/cmd/ctr@v$CONTAINERD_VERSION"
  log "containerd, containerd-shim-runc-v2 and ctr built in $((SECONDS - t0)) s"
}

build_runc() {
  # A runc without seccomp cannot start any pod: containerd gives every pod sandbox a seccomp
  # profile ("seccomp: config provided but seccomp not supported").
  [[ -x "$BIN/runc" ]] && "$BIN/runc" --version 2>/dev/null | grep -q '^libseccomp' && { log "runc $RUNC_VERSION cached"; return; }
  local t0=$SECONDS
  log "building runc v$RUNC_VERSION"
  if [[ ! -f /usr/include/seccomp.h ]]; then
    log "installing libseccomp-dev (Debian) for runc's seccomp support"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libseccomp-dev >/dev/null
  fi
  # runc's nsenter is C, so cgo is required (gcc); linked statically, as runc's own release builds are.
  CGO_ENABLED=1 install_into "$BIN" "-s -w -X main.version=$RUNC_VERSION -extldflags -static" "seccomp netgo osusergo" \
    "github.com/opencontainers/runc@v$RUNC_VERSION"
  log "runc built in $((SECONDS - t0)) s"
}

build_crictl() {
  have crictl && { log "crictl $CRICTL_VERSION cached"; return; }
  local t0=$SECONDS
  log "building crictl v$CRICTL_VERSION"
  install_into "$BIN" "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=v$CRICTL_VERSION" "" \
    "sigs.k8s.io/cri-tools/cmd/crictl@v$CRICTL_VERSION"
  log "crictl built in $((SECONDS - t0)) s"
}

build_cni() {
  local plugins=(main/bridge main/loopback ipam/host-local meta/portmap) missing=() p
  for p in "${plugins[@]}"; do [[ -x "$BIN/cni/${p#*/}" ]] || missing+=("github.com/containernetworking/plugins/plugins/$p@v$CNI_PLUGINS_VERSION"); done
  [[ ${#missing[@]} -eq 0 ]] && { log "CNI plugins $CNI_PLUGINS_VERSION cached"; return; }
  local t0=$SECONDS
  log "building CNI plugins v$CNI_PLUGINS_VERSION"
  install_into "$BIN/cni" "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v$CNI_PLUGINS_VERSION" "" "${missing[@]}"
  log "CNI plugins built in $((SECONDS - t0)) s"
}

t0=$SECONDS
build_cni
build_runc
build_containerd
build_crictl
build_k8s_node
log "node binaries ready in $BIN ($((SECONDS - t0)) s)"
echo "$BIN"
