#!/usr/bin/env bash
# Debian's Chromium, driven by Playwright in the browser tests (never `playwright install`).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
apt_install chromium chromium-driver
