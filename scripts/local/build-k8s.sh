#!/usr/bin/env bash
# Builds the embedded Kubernetes control plane from the Go module proxy:
# kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok, plus kubectl of the same
# version (the tests and .ci/run put this directory first on PATH: kubectl is then inside the
# supported ±1 minor skew of the apiserver, and `kubectl kustomize` renders with the kustomize
# that version embeds, whatever kubectl the machine has).
# Binaries are cached outside the repo, keyed by version, and rebuilt only when missing,
# because a cold build takes tens of minutes on two cores. Concurrent runs wait for each other.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"
CACHE_ROOT="${M2_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/m2-eks-pipeline}"
BIN="$CACHE_ROOT/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
WORK="$CACHE_ROOT/build"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

if [[ "${1:-}" == "--print-bin-dir" ]]; then echo "$BIN"; exit 0; fi

mkdir -p "$BIN" "$WORK"
log() { printf '[build-k8s] %s\n' "$*" >&2; }
have() {
  local check=(--version)
  [[ "$1" == kubectl ]] && check=(version --client)
  [[ -x "$BIN/$1" ]] && "$BIN/$1" "${check[@]}" >/dev/null 2>&1
}

# A second run (npm test's pretest while the demo builds, two shells) waits instead of racing on
# the same .tmp files, then finds everything cached.
exec 9>"$CACHE_ROOT/build.lock"
if ! flock -n 9; then
  log "another build-k8s.sh is running; waiting for it"
  flock 9
fi

build_k8s() {
  local minor="${K8S_VERSION#1.}" dir="$WORK/k8s-$K8S_VERSION"
  local components=(kube-apiserver kube-controller-manager kube-scheduler kubectl) missing=()
  for c in "${components[@]}"; do have "$c" || missing+=("$c"); done
  [[ ${#missing[@]} -eq 0 ]] && { log "kubernetes $K8S_VERSION cached"; return; }
  log "building ${missing[*]} v$K8S_VERSION (cold: 15-35 min on 2 cores)"
  mkdir -p "$dir" && cd "$dir"
  # k8s.io/kubernetes replaces its staging modules with relative paths, which `go install`
  # refuses; a wrapper module replaces each with its published v0.<minor> version instead.
  if [[ ! -f go.mod ]]; then
    go mod init local/kbin >/dev/null 2>&1
    go mod edit -godebug=default=go1.24
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
    for m in $(awk '$1~/^k8s\.io\//&&$2=="v0.0.0"{print $1}' "$gomod"); do
      go mod edit -replace="$m=$m@v0.$minor"
    done
  fi
  # Every component is imported here so that go.sum covers its dependencies; a cache made before
  # kubectl was added gets the new list and one more tidy.
  local tools
  tools=$(printf '//go:build tools\n\npackage tools\n\nimport (\n'; printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${components[@]}"; printf ')\n')
  if [[ ! -f tools.go ]] || [[ "$(cat tools.go)" != "$tools" ]]; then
    printf '%s\n' "$tools" > tools.go
    go get "k8s.io/kubernetes@v$K8S_VERSION"
    go mod tidy -e >/dev/null 2>&1 || true
  fi
  # kubectl reads its version from client-go, the control plane from component-base.
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean"
  done
  for c in "${missing[@]}"; do
    local t0=$SECONDS
    go build -trimpath -ldflags "$ld" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c"
    mv "$BIN/$c.tmp" "$BIN/$c"
    log "$c built in $((SECONDS - t0)) s"
  done
}

build_etcd() {
  have etcd && { log "etcd $ETCD_VERSION cached"; return; }
  local dir="$WORK/etcd-$ETCD_VERSION"
  log "building etcd v$ETCD_VERSION"
  mkdir -p "$dir" && cd "$dir"
  if [[ ! -f go.mod ]]; then
    go mod init local/etcd >/dev/null 2>&1
    cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
    go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    go mod tidy -e >/dev/null 2>&1 || true
  fi
  go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN/etcd.tmp" "$BIN/etcd"
}

build_kwok() {
  [[ -x "$BIN/kwok" ]] && { log "kwok $KWOK_VERSION cached"; return; }
  log "building kwok v$KWOK_VERSION"
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
}

t0=$SECONDS
build_etcd
build_kwok
build_k8s
log "binaries ready in $BIN ($((SECONDS - t0)) s)"
echo "$BIN"
