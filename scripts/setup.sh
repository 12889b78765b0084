#!/usr/bin/env bash
# Set up ccn-gis in .venv (created if missing). With --test, also what the test suite needs:
# the test extras and GDAL's command-line tools (Debian package gdal-bin) for the real-client tests.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install --quiet -e '.[server,test]'
  if ! command -v ogrinfo >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing gdal-bin (ogrinfo, ogr2ogr) for the real-client tests…"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdal-bin >/dev/null
    else
      echo "ogrinfo is missing: install GDAL's tools (Debian/Ubuntu: sudo apt-get install gdal-bin)" >&2
      exit 1
    fi
  fi
else
  .venv/bin/python -m pip install --quiet -e '.[server]'
fi
