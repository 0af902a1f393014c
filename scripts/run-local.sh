#!/usr/bin/env bash
# `make run`: the portal on SQLite with the in-process sync on http://localhost:3000.
#
# By default it also starts the built-in fake upstream (`hyperpage demo upstream`) and points the portal at it,
# so a new user sees data arrive through the real sync path (GitHub, GitLab and Jira-shaped APIs with paging,
# ETags and quotas). With HYPERPAGE_DEMO=0 the fake is not started and your own ENABLE_*/token variables are
# used instead (README: "Real tokens").
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
mkdir -p data

if [ "${HYPERPAGE_DEMO:-1}" != "0" ]; then
  # The fake serves GitHub GraphQL from GitHub's published schema (npm @octokit/graphql-schema); without npm
  # it still starts, and says GraphQL is off in data/demo-upstream.log.
  if command -v npm >/dev/null 2>&1; then
    bash scripts/deps/61-graphql-schema.sh || echo "warning: GitHub's GraphQL schema not installed; the demo has no pull-request details" >&2
  fi
  port="${DEMO_UPSTREAM_PORT:-$("$bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  "$bin/hyperpage" demo upstream --port "$port" >data/demo-upstream.log 2>&1 &
  fake=$!
  trap 'kill "$fake" 2>/dev/null || true; wait "$fake" 2>/dev/null || true' EXIT
  base="http://127.0.0.1:$port"
  "$bin/python" - "$base" <<'PY'
import sys, time, httpx
for _ in range(200):
    try:
        if httpx.get(f"{sys.argv[1]}/_fake/world", timeout=1).status_code == 200:
            sys.exit(0)
    except httpx.TransportError:
        time.sleep(0.1)
sys.exit("the demo upstream did not start; see data/demo-upstream.log")
PY
  # The fake's own public demo credentials (they open nothing but the fake).
  eval "$("$bin/python" -c 'from hyperpage.demo import config as c; print(
      f"export GITHUB_TOKEN={c.DEMO_GITHUB_TOKEN} GITLAB_TOKEN={c.DEMO_GITLAB_TOKEN} "
      f"JIRA_EMAIL={c.DEMO_JIRA_EMAIL} JIRA_API_TOKEN={c.DEMO_JIRA_API_TOKEN}")')"
  export ENABLE_GITHUB=true GITHUB_API_URL="$base/github" GITHUB_REPOS=""
  export ENABLE_GITLAB=true GITLAB_WEB_URL="$base/gitlab" GITLAB_PROJECTS=""
  export ENABLE_JIRA=true JIRA_WEB_URL="$base/jira" JIRA_DEPLOYMENT=cloud JIRA_JQL=""
  # Demo data lives in its own file, so switching to real tokens later starts from a clean database.
  export DATABASE_URL="${DATABASE_URL:-sqlite:///./data/demo.db}"
  echo "Demo upstream: $base (log: data/demo-upstream.log)"
fi

export HYPERPAGE_SCHEDULER="${HYPERPAGE_SCHEDULER:-true}"
"$bin/hyperpage" db upgrade
echo "Hyperpage: http://localhost:${HYPERPAGE_PORT:-3000}"
"$bin/hyperpage" serve
