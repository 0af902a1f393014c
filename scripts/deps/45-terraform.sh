#!/usr/bin/env bash
# Tools for the Terraform checks and scripts/deploy-terraform.sh: shellcheck and curl (apt), and a loud check that
# the machine image still ships terraform (with its offline provider mirror), which no registry here supplies.
set -euo pipefail
# shellcheck source=scripts/deps/lib.sh
. "$(dirname "$0")/lib.sh"
apt_install shellcheck curl
if ! command -v terraform >/dev/null 2>&1; then
  echo "error: terraform is not installed; it is part of the machine image (see docs/operations.md)" >&2
  exit 1
fi
