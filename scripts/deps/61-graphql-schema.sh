#!/usr/bin/env bash
# GitHub's published GraphQL schema (npm package @octokit/graphql-schema, pinned in tests/graphql/package-lock.json):
# the test suite validates every query the GitHub client sends against it, and the fake upstream serves GraphQL
# from it (`make run` installs it too).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
npm_ci tests/graphql
