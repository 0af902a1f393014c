#!/usr/bin/env bash
# The OpenID Provider the sign-in tests start (npm package oidc-provider, pinned in tests/oidc/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/../../tests/oidc"
if ! command -v npm >/dev/null 2>&1; then
  echo "error: Node.js 20+ and npm are needed for tests/oidc (apt-get install -y nodejs npm)" >&2
  exit 1
fi
# npm ci installs exactly the lockfile; run it only when that install is missing or older than the lockfile
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
