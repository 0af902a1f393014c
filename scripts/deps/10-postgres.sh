#!/usr/bin/env bash
# PostgreSQL 15 server binaries: the test harness starts throwaway clusters from them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt_install postgresql postgresql-client
fi
