#!/usr/bin/env bash
# checkov (IaC scanner) in its own venv, .tools/checkov-venv: its many pinned dependencies would clash with
# the app's. Any feature's tests find it through tests.tooling.require_tool("checkov").
set -euo pipefail
# shellcheck source=scripts/deps/lib.sh
. "$(dirname "$0")/lib.sh"
CHECKOV_VERSION="3.3.30"
venv="$(cd "$(dirname "$0")/../.." && pwd)/.tools/checkov-venv"
if [ -x "$venv/bin/checkov" ] && [ "$("$venv/bin/checkov" --version 2>/dev/null)" = "$CHECKOV_VERSION" ]; then
  exit 0
fi
echo "installing checkov $CHECKOV_VERSION into .tools/checkov-venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION"
