#!/usr/bin/env bash
# Install the system tools the test suite and benchmarks need. Each scripts/deps/NN-*.sh is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
for script in scripts/deps/[0-9]*.sh; do
  bash "$script"
done
