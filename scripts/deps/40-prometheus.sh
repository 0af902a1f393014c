#!/usr/bin/env bash
# promtool, amtool and a prometheus server binary for the alerting-rule tests (tests/deploy/monitoring).
# The Debian packages also ship systemd services; nothing here starts them: the tests run their own
# Prometheus on 127.0.0.1 with a throwaway storage dir.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
apt_install prometheus prometheus-alertmanager
