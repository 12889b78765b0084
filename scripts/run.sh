#!/usr/bin/env bash
# Quick start 1: set everything up, check the sample province, print its figures and serve it.
# Open the address it prints in a browser, or add it to QGIS as an "OGC API – Features" connection.
# Environment: CCN_GIS_LAYERS (another GeoPackage), HOST (default 127.0.0.1), PORT (default 8000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
layers=${CCN_GIS_LAYERS:-layers/thai_binh.gpkg}
.venv/bin/ccn-gis validate --layers "$layers"
echo
.venv/bin/ccn-gis stats --layers "$layers"
echo
exec .venv/bin/ccn-gis serve --layers "$layers" --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
