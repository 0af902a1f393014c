#!/usr/bin/env bash
# Tools for the Terraform checks and scripts/deploy-terraform.sh: shellcheck and curl (apt), the AWS CLI when
# missing (private venv), and a loud check that the machine image still ships terraform (with its offline
# provider mirror) and kubectl, which no registry reachable here supplies.
set -euo pipefail
# shellcheck source=scripts/deps/lib.sh
. "$(dirname "$0")/lib.sh"
apt_install shellcheck curl
if ! command -v terraform >/dev/null 2>&1; then
  echo "error: terraform is not installed; it is part of the machine image (see docs/operations.md)" >&2
  exit 1
fi
if ! command -v kubectl >/dev/null 2>&1; then
  echo "error: kubectl is not installed; it is part of the machine image" >&2
  exit 1
fi
# The deploy-script test drives the real AWS CLI against moto; install it privately when the image lacks it.
if ! command -v aws >/dev/null 2>&1; then
  venv="$(cd "$(dirname "$0")/../.." && pwd)/.tools/awscli-venv"
  if [ ! -x "$venv/bin/aws" ]; then
    echo "installing the AWS CLI into .tools/awscli-venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "awscli==1.45.11"
  fi
fi
