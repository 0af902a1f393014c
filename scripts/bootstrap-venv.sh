#!/usr/bin/env bash
# Create the project virtualenv; on a fresh Debian the venv module may need python3-venv first.
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "error: Hyperpage needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
  exit 1
fi
if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' 2>/dev/null; then
  # shellcheck source=scripts/deps/lib.sh
  . "$(dirname "$0")/deps/lib.sh"
  apt_install python3-venv
fi
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
