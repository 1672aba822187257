#!/usr/bin/env bash
# Builds the container images the real nodes run, as OCI image archives, with umoci (built from the
# Go module proxy): no registry is reachable here, so images are made on this machine and imported
# into each node's containerd (pods use them with imagePullPolicy: Never).
#   pause   the pod sandbox image: Kubernetes' own pause.c (from the k8s.io/kubernetes module),
#           compiled static with gcc
#   hello   busybox from Debian's busybox-static package, serving one page with `httpd` on :8080;
#           the smallest image that proves a pod on a real node answers on its pod IP
# Archives are cached outside the repo, keyed by their inputs (this script, package versions).
#   --print-dir   prints the archive directory and exits
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
UMOCI_VERSION="${UMOCI_VERSION:-0.6.0}"
CACHE_ROOT="${M2_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/m2-eks-pipeline}"
OUT="$CACHE_ROOT/images"
UMOCI_BIN="$CACHE_ROOT/bin/umoci-$UMOCI_VERSION"
WORK="$CACHE_ROOT/build"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

SELF="$(realpath "${BASH_SOURCE[0]}")"

if [[ "${1:-}" == "--print-dir" ]]; then echo "$OUT"; exit 0; fi

mkdir -p "$OUT" "$UMOCI_BIN" "$WORK"
log() { printf '[build-images] %s\n' "$*" >&2; }
exec 9>"$CACHE_ROOT/build-images.lock"
if ! flock -n 9; then
  log "another build-images.sh is running; waiting for it"
  flock 9
fi

build_umoci() {
  [[ -x "$UMOCI_BIN/umoci" ]] && "$UMOCI_BIN/umoci" --version >/dev/null 2>&1 && return
  local t0=$SECONDS dir="$WORK/umoci-$UMOCI_VERSION" m=github.com/opencontainers/umoci
  log "building umoci v$UMOCI_VERSION"
  mkdir -p "$dir" && cd "$dir"
  if [[ ! -f go.mod ]]; then
    # umoci's go.mod has a replace directive, which `go install …@version` refuses: a wrapper
    # module carries the same replaces.
    go mod init local/umoci >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/umoci"\n' "$m" > tools.go
    local gomod
    gomod=$(go mod download -json "$m@v$UMOCI_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
    go mod edit -json "$gomod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    old, new = r["Old"], r["New"]
    print(old["Path"] + ("@" + old["Version"] if old.get("Version") else "") + "=" + new["Path"] + ("@" + new["Version"] if new.get("Version") else ""))
' | while read -r rep; do go mod edit -replace="$rep"; done
    go get "$m@v$UMOCI_VERSION"
    go mod tidy -e >/dev/null 2>&1 || true
  fi
  go build -trimpath -ldflags "-s -w -X main.version=$UMOCI_VERSION" -o "$UMOCI_BIN/umoci.tmp" "$m/cmd/umoci"
  mv "$UMOCI_BIN/umoci.tmp" "$UMOCI_BIN/umoci"
  log "umoci built in $((SECONDS - t0)) s"
}

# OCI layout with one image tagged $tag whose single layer is the directory $rootfs, then archived.
# `ctr images import --base-name <name>` names it <name>:<tag>.
package_image() {
  local rootfs="$1" tag="$2" archive="$3"
  shift 3
  local layout
  layout=$(mktemp -d "$WORK/layout.XXXXXX")
  rmdir "$layout"
  local umoci="$UMOCI_BIN/umoci"
  "$umoci" init --layout "$layout"
  "$umoci" new --image "$layout:$tag"
  "$umoci" insert --image "$layout:$tag" "$rootfs" /
  "$umoci" config --image "$layout:$tag" --os linux --architecture amd64 "$@"
  "$umoci" gc --layout "$layout"
  tar -C "$layout" -cf "$archive.tmp" .
  mv "$archive.tmp" "$archive"
  rm -rf "$layout"
}

# Archives of an image made from older inputs are never used again (each rebuilds in seconds).
prune() { find "$OUT" -maxdepth 1 -name "$2*.tar" ! -name "${1##*/}" -delete; }

key() { { cat "$SELF"; printf '%s\n' "$@"; } | sha256sum | cut -c1-12; }

build_pause() {
  local src
  src="$(go env GOMODCACHE)/k8s.io/kubernetes@v$K8S_VERSION/build/pause/linux/pause.c"
  [[ -f "$src" ]] || go mod download "k8s.io/kubernetes@v$K8S_VERSION"
  local archive
  archive="$OUT/pause-$K8S_VERSION-$(key "$K8S_VERSION" "$(sha256sum "$src")").tar"
  [[ -f "$archive" ]] && { echo "$archive"; return; }
  local t0=$SECONDS rootfs
  rootfs=$(mktemp -d "$WORK/rootfs.XXXXXX")
  gcc -Os -static -Wall -Werror -DVERSION="v$K8S_VERSION-m2" -o "$rootfs/pause" "$src"
  strip "$rootfs/pause"
  package_image "$rootfs" "$K8S_VERSION" "$archive" --config.entrypoint /pause --config.user 65535:65535
  rm -rf "$rootfs"
  prune "$archive" pause-
  log "pause image built in $((SECONDS - t0)) s"
  echo "$archive"
}

build_hello() {
  # apt-cache takes seconds to load its lists; its answer is kept until `apt-get update` changes them.
  local version stamp memo="$OUT/.busybox-static-candidate"
  stamp=$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0)
  if [[ -f "$memo" && "$(sed -n 1p "$memo")" == "$stamp" ]]; then
    version=$(sed -n 2p "$memo")
  else
    version=$(apt-cache policy busybox-static | awk '/Candidate:/{print $2}')
    printf '%s\n%s\n' "$stamp" "$version" > "$memo"
  fi
  [[ -n "$version" && "$version" != "(none)" ]] || { log "apt has no busybox-static (run apt-get update)"; exit 1; }
  local archive
  archive="$OUT/hello-$(key "$version").tar"
  [[ -f "$archive" ]] && { echo "$archive"; return; }
  local t0=$SECONDS tmp
  tmp=$(mktemp -d "$WORK/hello.XXXXXX")
  # The package is downloaded and unpacked into the image's rootfs, never installed on this machine.
  (cd "$tmp" && apt-get download -qq "busybox-static=$version" 2>/dev/null)
  dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/pkg"
  mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/www" "$tmp/rootfs/tmp"
  cp "$tmp/pkg/bin/busybox" "$tmp/rootfs/bin/busybox"
  ln -s busybox "$tmp/rootfs/bin/sh"
  printf 'm2 hello: served by busybox httpd in a pod on a real node\n' > "$tmp/rootfs/www/index.html"
  package_image "$tmp/rootfs" 1 "$archive" \
    --config.entrypoint /bin/busybox --config.entrypoint httpd --config.entrypoint -f --config.entrypoint -v \
    --config.entrypoint -p --config.entrypoint 8080 --config.entrypoint -h --config.entrypoint /www \
    --config.exposedports 8080/tcp --config.user 65534:65534
  rm -rf "$tmp"
  prune "$archive" hello-
  log "hello image (busybox-static $version) built in $((SECONDS - t0)) s"
  echo "$archive"
}

build_umoci
build_pause
build_hello
