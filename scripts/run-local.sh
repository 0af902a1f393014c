#!/usr/bin/env bash
# `make run`: upgrade the SQLite schema and serve the portal on http://localhost:3000.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
"$bin/hyperpage" db upgrade
echo "Hyperpage: http://localhost:${HYPERPAGE_PORT:-3000}"
exec "$bin/hyperpage" serve
