#!/usr/bin/env bash
# Builds the pinned helm client once into the state folder and prints its path.
# No Docker engine or cluster is needed: the chart is linted and rendered offline.
set -euo pipefail
HELM_VERSION="v3.22.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE_DIR="${TIDEMARK_STATE_DIR:-$ROOT/.tidemark}"
BIN_DIR="$STATE_DIR/bin"
HELM="$BIN_DIR/helm-$HELM_VERSION"
if [[ ! -x "$HELM" ]]; then
  mkdir -p "$BIN_DIR"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  GOBIN="$tmp" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$tmp/helm" "$HELM"
fi
echo "$HELM"
