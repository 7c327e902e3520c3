#!/usr/bin/env bash
# Installs what Tidemark needs on a fresh machine; a second run only checks and returns.
#   uv + the Python workspace, PostgreSQL server binaries, Java 17 + Maven, the Kafka jars,
#   Chromium (the board's browser tests);
#   with --bench also the load generator wrk (Debian's package) that `make bench` drives.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
APT_UPDATED=""
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "!! need $* but apt-get is not available: install them by hand" >&2
    exit 1
  fi
  if [ -z "$APT_UPDATED" ]; then
    echo "==> apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  echo "==> apt-get install $*"
  # policy-rc.d 101: Debian's postgresql package must not start its own cluster here.
  local policy=/usr/sbin/policy-rc.d created_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" \
    >/dev/null
  if [ -n "$created_policy" ]; then $SUDO rm -f "$policy"; fi
}

if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
  echo "==> installing uv (Python package manager) from PyPI"
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
fi
UV=$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")
"$UV" sync --frozen --quiet

# PostgreSQL server binaries (the dev stack runs its own private cluster, never Debian's).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${TIDEMARK_PG_BIN:-}" ]; then
  apt_install postgresql
  # Debian's own cluster is not used; stop it if the package started it anyway.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
      $SUDO pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
    done
  fi
fi

# Java (runs the Kafka broker) and Maven (fetches its jars from Maven Central).
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [ "${#need[@]}" -gt 0 ]; then apt_install "${need[@]}"; fi

# Debian's Chromium: the board's browser tests drive it with Playwright (never
# `playwright install`, which downloads a browser build of its own).
if [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi

# The Kafka broker jars (cached in $TIDEMARK_STATE_DIR/kafka/libs; quiet when present).
"$UV" run --frozen --quiet tidemark-devstack install --quiet

if [ "${1:-}" = "--bench" ] && ! command -v wrk >/dev/null 2>&1; then apt_install wrk; fi
