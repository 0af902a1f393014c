#!/usr/bin/env bash
# pgloader: the reference the migration benchmark (bench/bench_migrate.py) compares `hyperpage db migrate` with.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
apt_install pgloader time
