#!/usr/bin/env bash
# A CycloneDX SBOM (JSON) of the image's runtime venv: builds that venv with the very
# script the Dockerfile uses (build-venv.sh) and lists what is installed in it with
# `cyclonedx-py environment` (offline: it reads the venv's package metadata).
# tests/delivery/test_sbom.py checks it lists every locked runtime package.
#
# usage: sbom.sh [output file, default dist/sbom.cdx.json] [venv dir, default dist/image-venv]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
UV="${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}"
OUT="$(realpath -m "${1:-$ROOT/dist/sbom.cdx.json}")"
VENV="$(realpath -m "${2:-$ROOT/dist/image-venv}")"

bash "$ROOT/deploy/image/build-venv.sh" "$VENV" >&2
mkdir -p "$(dirname "$OUT")"
cd "$ROOT"
# SOURCE_DATE_EPOCH unset: --output-reproducible leaves out the timestamp and serial.
"$UV" run --frozen cyclonedx-py environment --output-reproducible --of JSON \
  --pyproject "$ROOT/pyproject.toml" -o "$OUT" "$VENV/bin/python"
echo "$OUT"
