#!/usr/bin/env bash
# Builds KEDA's operator and its metrics API server (keda-adapter) from the Go module proxy, for the
# embedded environment's KEDA switch (M2_KEDA=1, scripts/local/keda.ts).
# github.com/kedacore/keda/v2's go.mod has a replace directive, so `go install pkg@version` refuses
# it: the module's source is copied out of the module cache and built in place (its replaces then
# apply). The copy is kept: keda.ts applies KEDA's CRDs and RBAC from its config/ (kustomize).
# Binaries are cached outside the repo, keyed by version, and rebuilt only when missing (a cold
# build of both takes about an hour on two busy cores). Concurrent runs wait for each other.
#   --print-bin-dir   prints the binaries' directory and exits
#   --print-src-dir   prints the module source's directory (config/crd, config/rbac) and exits
set -euo pipefail

KEDA_VERSION="${KEDA_VERSION:-2.21.0}"
CACHE_ROOT="${M2_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/m2-eks-pipeline}"
BIN="$CACHE_ROOT/bin/keda-$KEDA_VERSION"
WORK="$CACHE_ROOT/build/keda-v$KEDA_VERSION"
SRC="$WORK/src"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

case "${1:-}" in
  --print-bin-dir) echo "$BIN"; exit 0 ;;
  --print-src-dir) echo "$SRC"; exit 0 ;;
esac

mkdir -p "$BIN" "$WORK"
log() { printf '[build-keda] %s\n' "$*" >&2; }

# Its own lock, so a KEDA build never waits for build-k8s.sh or build-node.sh (and the reverse).
exec 9>"$CACHE_ROOT/build-keda.lock"
if ! flock -n 9; then
  log "another build-keda.sh is running; waiting for it"
  flock 9
fi

# The module's files in the cache are read-only: the copy is made writable so a later run (or the
# go tool's own go.sum touch) can write in it. Copied to .tmp and renamed, so a copy interrupted
# half-way is never taken for a complete source tree.
ensure_src() {
  [[ -f "$SRC/go.mod" ]] && return
  log "copying github.com/kedacore/keda/v2@v$KEDA_VERSION from the module cache"
  local dir
  dir=$(go mod download -json "github.com/kedacore/keda/v2@v$KEDA_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["Dir"])')
  rm -rf "$SRC.tmp"
  cp -r "$dir" "$SRC.tmp"
  chmod -R u+w "$SRC.tmp"
  mv "$SRC.tmp" "$SRC"
  (cd "$SRC" && go mod download)
}

# keda-adapter serves its own /metrics on ":<--port>", every interface, with no flag to choose the
# address; the embedded environment listens only on 127.0.0.1 and its pod bridge, so the copy binds
# it to loopback. One line, checked: a KEDA version without that line stops the build here.
patch_src() {
  local main="$SRC/cmd/adapter/main.go"
  local from='metricsBindAddress := fmt.Sprintf(":%v", metricsAPIServerPort)'
  local to='metricsBindAddress := fmt.Sprintf("127.0.0.1:%v", metricsAPIServerPort) // m2: loopback only'
  grep -qF "$to" "$main" && return
  grep -qF "$from" "$main" || { log "cmd/adapter/main.go has no metrics bind line to patch (KEDA $KEDA_VERSION)"; exit 1; }
  log "binding keda-adapter's /metrics to 127.0.0.1"
  sed -i "s|$from|$to|" "$main"
}

# name in $BIN, the package under cmd/, and the file an earlier hand-made build of the same
# source left beside src/ (reused rather than rebuilt: same source, same toolchain).
build_one() {
  local name="$1" pkg="$2" earlier="${3:+$WORK/$3}"
  [[ -x "$BIN/$name" ]] && { log "$name $KEDA_VERSION cached"; return; }
  if [[ -n "$earlier" && -x "$earlier" ]]; then
    cp "$earlier" "$BIN/$name.tmp" && mv "$BIN/$name.tmp" "$BIN/$name"
    log "$name taken from $earlier"
    return
  fi
  ensure_src
  local t0=$SECONDS
  log "building $name v$KEDA_VERSION (cold: 30-60 min on 2 cores)"
  (cd "$SRC" && go build -trimpath \
    -ldflags "-s -w -X=github.com/kedacore/keda/v2/version.Version=$KEDA_VERSION" \
    -o "$BIN/$name.tmp" "./cmd/$pkg")
  mv "$BIN/$name.tmp" "$BIN/$name"
  log "$name built in $((SECONDS - t0)) s"
}

t0=$SECONDS
ensure_src
patch_src
build_one keda-operator operator keda-operator
# Not the adapter: a hand-made build predates patch_src.
build_one keda-adapter adapter
log "KEDA $KEDA_VERSION ready in $BIN ($((SECONDS - t0)) s)"
echo "$BIN"
