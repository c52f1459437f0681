#!/usr/bin/env bash
# Installs the real SPARQL servers tests/test_remote_store.py starts: the Oxigraph
# server (PyPI `oxigraph`, the `oxigraph` CLI) and OpenLink Virtuoso (Debian
# `virtuoso-opensource`, `virtuoso-t` + `isql-vt`). Idempotent; run as root.
#   bash .ci/stores.sh            install
#   bash .ci/stores.sh serve DIR  also start both on free ports under DIR, print their URLs
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v oxigraph >/dev/null; then
  python3 -m pip install -q 'oxigraph>=0.5,<0.6'
fi
if ! command -v virtuoso-t >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    # The package asks for a dba password through debconf; the tests run their own
    # database under a tmp dir, so the system one is never used.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource >/dev/null
    # Debian starts a system-wide Virtuoso on ports 1111/8890; the tests do not need it.
    if command -v service >/dev/null; then service virtuoso-opensource-7 stop >/dev/null 2>&1 || true; fi
  else
    echo "stores.sh: not root or no apt-get: install virtuoso-opensource yourself" >&2
  fi
fi

if [ "${1:-}" = serve ]; then
  python3 -m tests.stores "${2:-var/test-stores}"
fi
