#!/usr/bin/env bash
# wrk: the HTTP load generator used by `make bench`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
apt_install wrk
