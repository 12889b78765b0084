#!/usr/bin/env bash
# Quick start 2: set everything up and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check src tests scripts
.venv/bin/mypy src
.venv/bin/python -m pytest "$@"
