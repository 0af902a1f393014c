#!/usr/bin/env bash
# The OpenID Provider the sign-in tests start (npm package oidc-provider, pinned in tests/oidc/package-lock.json).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
npm_ci tests/oidc
