#!/usr/bin/env bash
# Set up ccn-gis in .venv (created if missing). With --test, also what the test suite needs:
# the test extras, GDAL's command-line tools (gdal-bin) and Chromium (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install --quiet -e '.[server,test,notebooks]'
  # GDAL's tools and Chromium are the real clients of the test suite (Debian packages).
  missing=()
  command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing ${missing[*]} for the real-client tests…"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "Missing ${missing[*]}: install them (Debian/Ubuntu: sudo apt-get install ${missing[*]})" >&2
      exit 1
    fi
  fi
else
  .venv/bin/python -m pip install --quiet -e '.[server]'
fi
