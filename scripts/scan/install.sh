#!/usr/bin/env bash
# Installs the security scanners scripts/scan runs, pinned and cached outside the repo, keyed by
# version (like build-k8s.sh): checkov from PyPI into its own virtualenv, kube-score from the Go
# module proxy. cfn-lint (pip) and faketime (Debian) are .ci/run's, as for the packaging test.
#   bash scripts/scan/install.sh                install what is missing
#   bash scripts/scan/install.sh --print-paths  print tool=path lines (scripts/scan/tools.ts reads them)
set -euo pipefail

CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
KUBE_SCORE_VERSION="${KUBE_SCORE_VERSION:-1.20.0}"
CACHE_ROOT="${M2_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/m2-eks-pipeline}"
# A virtualenv, not the user base cfn-lint and awscli live in: checkov 3.3.30 pins boto3/botocore
# 1.35 and networkx 2.6, and installing it beside them downgrades the botocore awscli and moto need.
CHECKOV_DIR="$CACHE_ROOT/checkov-$CHECKOV_VERSION"
KUBE_SCORE_DIR="$CACHE_ROOT/bin/kube-score-$KUBE_SCORE_VERSION"

if [[ "${1:-}" == "--print-paths" ]]; then
  printf 'checkov=%s\nkube-score=%s\n' "$CHECKOV_DIR/bin/checkov" "$KUBE_SCORE_DIR/kube-score"
  exit 0
fi

log() { printf '[scan/install] %s\n' "$*" >&2; }
mkdir -p "$CACHE_ROOT/bin"
# Two runs (CI and a shell) wait for each other instead of writing one virtualenv twice.
exec 9>"$CACHE_ROOT/scanners.lock"
flock 9

# The marker is written last: a run that died halfway leaves no marker and is redone.
if [[ -f "$CHECKOV_DIR/.installed" ]]; then
  log "checkov $CHECKOV_VERSION cached"
else
  log "installing checkov $CHECKOV_VERSION (PyPI, into $CHECKOV_DIR)"
  rm -rf "$CHECKOV_DIR"
  python3 -m venv "$CHECKOV_DIR"
  "$CHECKOV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  "$CHECKOV_DIR/bin/checkov" --version | grep -qx "$CHECKOV_VERSION"
  touch "$CHECKOV_DIR/.installed"
fi

if [[ -x "$KUBE_SCORE_DIR/kube-score" ]]; then
  log "kube-score $KUBE_SCORE_VERSION cached"
else
  log "building kube-score $KUBE_SCORE_VERSION (Go module proxy)"
  mkdir -p "$KUBE_SCORE_DIR.tmp"
  GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN="$KUBE_SCORE_DIR.tmp" \
    go install "github.com/zegl/kube-score/cmd/kube-score@v$KUBE_SCORE_VERSION"
  rm -rf "$KUBE_SCORE_DIR" && mv "$KUBE_SCORE_DIR.tmp" "$KUBE_SCORE_DIR"
fi
