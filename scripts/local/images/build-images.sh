#!/usr/bin/env bash
# Builds the container images the real nodes run, as OCI image archives, with umoci (built from the
# Go module proxy): no registry is reachable here, so images are made on this machine and imported
# into each node's containerd (pods use them with imagePullPolicy: Never).
#   pause   the pod sandbox image: Kubernetes' own pause.c (from the k8s.io/kubernetes module),
#           compiled static with gcc
#   hello   busybox from Debian's busybox-static package, serving one page with `httpd` on :8080;
#           the smallest image that proves a pod on a real node answers on its pod IP
#   magento the release images: a Debian bookworm rootfs (mmdebstrap: nginx, php8.2-fpm/cli/mysql/curl,
#           the MariaDB client), the Magento stand-in (../standin) and one small layer per release tag
#           writing app/etc/release.json; one archive holding every tag (localhost/m2/magento:<tag>)
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

# Debian candidate versions of packages, remembered until apt's lists change (apt-cache takes seconds).
candidates() {
  local name="$1" stamp memo
  shift
  memo="$OUT/.$name-candidates"
  stamp=$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0)
  if [[ -f "$memo" && "$(sed -n 1p "$memo")" == "$stamp $*" ]]; then
    sed -n '2,$p' "$memo"
    return
  fi
  local versions
  versions=$(apt-cache policy "$@" | awk '/^[^ ]/{p=$1} /Candidate:/{print p, $2}')
  printf '%s\n%s\n' "$stamp $*" "$versions" > "$memo"
  echo "$versions"
}

MAGENTO_PACKAGES=(nginx php8.2-fpm php8.2-cli php8.2-mysql php8.2-curl mariadb-client-core ca-certificates)
MAGENTO_TAGS=(2.4.7-p3 2.4.8 2.4.8-storefront-500 2.4.8-crashloop 2.4.8-never-ready 2.4.8-job-fail 2.4.8-drop-column 2.4.8-cron-fail)
STANDIN="$(dirname "$SELF")/../standin"

# The release rootfs as an OCI layout (tag `rootfs`, one layer), cached in $WORK by the candidate
# versions of its packages: rebuilt only when Debian's lists move. mmdebstrap (Debian package) runs apt
# against this machine's own sources; docs, man pages and translations are left out.
magento_base() {
  local versions rootkey base tmp t0=$SECONDS
  command -v mmdebstrap >/dev/null || { log "installing mmdebstrap (Debian package)"; apt-get install -y -qq --no-install-recommends mmdebstrap >&2; }
  versions=$(candidates magento "${MAGENTO_PACKAGES[@]}")
  grep -q '(none)' <<<"$versions" && { log "apt lacks a package of: ${MAGENTO_PACKAGES[*]} (run apt-get update)"; exit 1; }
  rootkey=$(printf '%s\n' "${MAGENTO_PACKAGES[@]}" "$versions" "$(declare -f magento_base)" | sha256sum | cut -c1-12)
  base="$WORK/magento-base-$rootkey"
  if [[ ! -f "$base/.complete" ]]; then
    rm -rf "$base"
    tmp=$(mktemp -d "$WORK/magento-rootfs.XXXXXX")
    log "building the release rootfs with mmdebstrap (${MAGENTO_PACKAGES[*]})"
    local sources=/etc/apt/sources.list.d/debian.sources
    [[ -f "$sources" ]] || sources=/etc/apt/sources.list
    local ex=() d
    for d in doc man info locale; do ex+=(--dpkgopt="path-exclude=/usr/share/$d/*"); done
    mmdebstrap --quiet --variant=essential --include="$(IFS=,; echo "${MAGENTO_PACKAGES[*]}")" \
      --aptopt='APT::Install-Recommends "false"' "${ex[@]}" --dpkgopt='path-include=/usr/share/locale/locale.alias' \
      bookworm "$tmp/rootfs" "$sources" >&2
    # Nothing in a pod writes here (the root filesystem is read-only): apt's lists and caches go.
    rm -rf "$tmp"/rootfs/var/lib/apt/lists/* "$tmp"/rootfs/var/cache/apt/* "$tmp"/rootfs/var/log/*
    local umoci="$UMOCI_BIN/umoci"
    "$umoci" init --layout "$base"
    "$umoci" new --image "$base:rootfs"
    "$umoci" insert --image "$base:rootfs" "$tmp/rootfs" /
    rm -rf "$tmp"
    touch "$base/.complete"
    log "release rootfs built in $((SECONDS - t0)) s"
  fi
  echo "$base"
}

# Stand-in code (one layer) and one layer per tag over the cached rootfs, archived with every tag.
build_magento() {
  local base codekey archive
  base=$(magento_base)
  codekey=$(tar -C "$STANDIN" --sort=name --mtime=@0 --owner=0 --group=0 -cf - . | sha256sum | cut -c1-12)
  archive="$OUT/magento-$(key "${base##*/}" "$codekey" "${MAGENTO_TAGS[@]}").tar"
  [[ -f "$archive" ]] && { echo "$archive"; return; }
  local t0=$SECONDS tmp umoci="$UMOCI_BIN/umoci"
  tmp=$(mktemp -d "$WORK/magento.XXXXXX")
  cp -a "$base" "$tmp/layout"
  local layout="$tmp/layout" code="$tmp/code/var/www/html"
  mkdir -p "$code" "$tmp/code/usr/local/sbin"
  cp -a "$STANDIN"/bin "$STANDIN"/app "$STANDIN"/pub "$STANDIN"/nginx.conf.sample "$code"/
  install -m 0755 "$STANDIN/sbin/php-fpm" "$tmp/code/usr/local/sbin/php-fpm"
  mkdir -p "$code/var" "$code/generated"
  chown -R 0:0 "$tmp/code"
  chown 33:33 "$code/var"
  "$umoci" insert --image "$layout:rootfs" "$tmp/code" /
  local tag rel
  for tag in "${MAGENTO_TAGS[@]}"; do
    rel="$tmp/release-$tag"
    mkdir -p "$rel/var/www/html/app/etc"
    printf '{"tag":"%s"}\n' "$tag" > "$rel/var/www/html/app/etc/release.json"
    "$umoci" tag --image "$layout:rootfs" "$tag"
    "$umoci" insert --image "$layout:$tag" "$rel" /
    "$umoci" config --image "$layout:$tag" --os linux --architecture amd64 \
      --config.user 33:33 --config.workingdir /var/www/html \
      --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --config.cmd php --config.cmd bin/magento --config.cmd m2:release \
      --config.exposedports 8080/tcp --config.label "org.opencontainers.image.version=$tag"
  done
  "$umoci" rm --image "$layout:rootfs"
  "$umoci" gc --layout "$layout"
  tar -C "$layout" -cf "$archive.tmp" .
  mv "$archive.tmp" "$archive"
  rm -rf "$tmp"
  prune "$archive" magento-
  log "magento images (${MAGENTO_TAGS[*]}) built in $((SECONDS - t0)) s"
  echo "$archive"
}

build_umoci
build_pause
build_hello
# Only with the real nodes' switch: the release images need mmdebstrap and minutes on a cold cache.
if [[ "${M2_REAL_NODES:-}" == "1" || "${M2_BUILD_MAGENTO:-}" == "1" ]]; then build_magento; fi
