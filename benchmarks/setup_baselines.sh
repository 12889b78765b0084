#!/usr/bin/env bash
# Set up the environment of the baselines, apart from the project's .venv:
#   benchmarks/.venv-baselines  Debian's python3 (its sqlite3 loads extensions, which
#                               pygeoapi's GeoPackage provider needs) with rasterstats,
#                               pygeoapi and uvicorn;
#   benchmarks/.profile-lib     pyinstrument, put on PYTHONPATH only when profiling.
# Debian packages: python3-venv, libsqlite3-mod-spatialite, gdal-bin (ogr2ogr), wrk.
# Run as root (or with the packages already installed). Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

need=()
for pkg in python3-venv libsqlite3-mod-spatialite gdal-bin wrk; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
    else
        echo "setup_baselines: install the Debian packages ${need[*]} (as root)" >&2
        exit 1
    fi
fi

venv="$here/.venv-baselines"
if [[ ! -x "$venv/bin/python" ]]; then
    /usr/bin/python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "rasterstats>=0.19" "pygeoapi>=0.18" "uvicorn>=0.29" "starlette>=0.36"
"$venv/bin/python" - <<'PY'
import sqlite3
con = sqlite3.connect(":memory:")
con.enable_load_extension(True)
con.load_extension("mod_spatialite")
print("baselines: sqlite3 loads mod_spatialite", con.execute("select spatialite_version()").fetchone()[0])
PY

if [[ ! -d "$here/.profile-lib/pyinstrument" ]]; then
    "$root/.venv/bin/python" -m pip install -q --target "$here/.profile-lib" "pyinstrument>=4.6" \
        || echo "setup_baselines: pyinstrument not installed; profiles fall back to cProfile" >&2
fi
echo "baselines: ready in $venv"
