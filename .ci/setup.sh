#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine (run as root):
# the package with its test extras, headless Chromium for the browser test, and
# the real triple stores the remote-store tests start (Virtuoso from Debian, the
# Oxigraph server from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e '.[test]'
# world-atlas (the map's boundaries, read at run time) and axe-core (the browser test's
# accessibility checks), pinned in package-lock.json; node_modules/ is never committed.
command -v npm >/dev/null || { [ "$(id -u)" = 0 ] && apt-get update -qq &&
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
npm ci --no-audit --no-fund --silent
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v virtuoso-t >/dev/null || missing+=(virtuoso-opensource)
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts a system-wide Virtuoso; the tests run their own on free ports.
  service virtuoso-opensource-7 stop >/dev/null 2>&1 || true
fi
bash .ci/stores.sh
