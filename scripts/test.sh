#!/usr/bin/env bash
# Quick start 2: set everything up and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check src api tests scripts benchmarks
.venv/bin/mypy src api
.venv/bin/python -m pytest "$@"
