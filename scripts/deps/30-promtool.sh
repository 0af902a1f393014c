#!/usr/bin/env bash
# promtool (from Debian's prometheus package) checks the app's metrics exposition and the alert rules.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null 2>&1 || apt_install prometheus
