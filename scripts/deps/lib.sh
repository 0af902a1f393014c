#!/usr/bin/env bash
# Shared helpers for scripts/deps/*.sh: install Debian packages only when missing.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${missing[*]} (run as root or: sudo apt-get install -y ${missing[*]})" >&2
    return 1
  fi
  if [ ! -f /tmp/.hyperpage-apt-updated ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    touch /tmp/.hyperpage-apt-updated
  fi
  echo "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm_ci DIR: install exactly DIR's package-lock.json (npm ci), only when that install is missing or older than
# the lockfile (DIR relative to the repository root, where the scripts run).
npm_ci() {
  local dir="$1"
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: Node.js 20+ and npm are needed for $dir (apt-get install -y nodejs npm)" >&2
    return 1
  fi
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
