#!/usr/bin/env bash
# redis-server: the shared store of the API rate limiter; the tests start their own on 127.0.0.1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
apt_install redis-server
