#!/usr/bin/env bash
# pgBackRest: WAL archiving and point-in-time restore, used by the backup drill in tests/backup/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
apt_install pgbackrest
