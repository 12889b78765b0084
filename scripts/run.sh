#!/usr/bin/env bash
# Quick start 1: set everything up and run the main job on the bundled sample province.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
layers=${CCN_GIS_LAYERS:-layers/thai_binh.gpkg}
.venv/bin/ccn-gis validate --layers "$layers"
echo
.venv/bin/ccn-gis stats --layers "$layers" "$@"
