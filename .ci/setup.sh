#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine (run as root):
# the package with its test extras, headless Chromium for the browser test, and
# the real triple stores the remote-store tests start.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e '.[test]'
if [ "$(id -u)" = 0 ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if [ -f .ci/stores.sh ]; then bash .ci/stores.sh; fi
