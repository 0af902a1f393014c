#!/usr/bin/env bash
# GitHub's published GraphQL schema (npm package @octokit/graphql-schema, pinned in tests/graphql/package-lock.json):
# the test suite validates every query the GitHub client sends against it, and the fake upstream serves GraphQL
# from it (`make run` installs it too).
set -euo pipefail
cd "$(dirname "$0")/../../tests/graphql"
if ! command -v npm >/dev/null 2>&1; then
  echo "error: Node.js 20+ and npm are needed for tests/graphql (apt-get install -y nodejs npm)" >&2
  exit 1
fi
# npm ci installs exactly the lockfile; run it only when that install is missing or older than the lockfile
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
