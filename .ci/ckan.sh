#!/usr/bin/env bash
# The CKAN harvest check, in its own environment: CKAN pins many packages of its own, so it
# gets a separate venv (.venv-ckan, gitignored) with ckan + ckanext-dcat + pytest + requests
# + this project, and runs tests/ckan only. Reuses the venv when it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CKAN_VENV:-.venv-ckan}"
CKAN_VERSION="${CKAN_VERSION:-2.12.0}"
CKANEXT_DCAT_VERSION="${CKANEXT_DCAT_VERSION:-2.4.4}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
# ckan's own dependencies are its "requirements" extra; the DCAT parser needs them to import.
"$VENV/bin/python" -m pip install -q "ckan[requirements]==$CKAN_VERSION" \
  "ckanext-dcat==$CKANEXT_DCAT_VERSION" pytest requests
"$VENV/bin/python" -m pip install -q -e .
# CKAN registers pytest plugins that need a CKAN site and test-only packages: not wanted here.
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -p no:ckan -p no:ckan_fixtures tests/ckan
