#!/usr/bin/env bash
# checkov: static policy checks of the rendered Kubernetes manifests, the Dockerfile and Terraform.
# Its own venv: its dependencies are heavy and must not shape the app's pins.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .tools/checkov-venv/bin/checkov ]; then
  python3 -m venv .tools/checkov-venv && .tools/checkov-venv/bin/pip install -q checkov
fi
