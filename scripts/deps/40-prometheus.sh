#!/usr/bin/env bash
# promtool, amtool, a Prometheus and an Alertmanager server binary, and postgres_exporter, for the
# monitoring tests (tests/deploy/monitoring). The Debian packages also ship services; nothing here starts
# them: the tests run their own servers on 127.0.0.1 with throwaway storage.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
apt_install prometheus prometheus-alertmanager prometheus-postgres-exporter
