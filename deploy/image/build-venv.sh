#!/usr/bin/env bash
# Builds the runtime virtual environment of the Tidemark image: the five services and
# tidekit with their locked dependencies, installed non-editable (the code lives in the
# venv's site-packages, so the final image stage needs nothing but the venv), without the
# dev group and without the dev stack. The Dockerfile's build stage and
# tests/delivery/test_image_venv.py both run this one script, so they cannot drift.
#
# usage: build-venv.sh <venv directory>   (run from anywhere; uses the workspace it lives in)
set -euo pipefail
VENV="${1:?usage: build-venv.sh <venv directory>}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
UV="${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}"

SERVICES=(tidemark-intake tidemark-classifier tidemark-sla-timer tidemark-notifier tidemark-escalation)
# --reinstall-package: uv caches the wheels it builds from local sources keyed on their
# pyproject.toml only; without it a venv rebuilt here could hold stale code.
package_args=(--reinstall-package tidekit)
for package in "${SERVICES[@]}"; do
  package_args+=(--package "$package" --reinstall-package "$package")
done

cd "$ROOT"
UV_PROJECT_ENVIRONMENT="$VENV" "$UV" sync --frozen --no-dev --no-editable "${package_args[@]}"
