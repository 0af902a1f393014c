"""Running the PostgreSQL client tools (pg_dump, pg_restore) for a database URL without exposing secrets.

The connection goes to the tools through libpq environment variables, so the password never appears on a
command line (visible in `ps`) or in an error message; tool output is redacted before it is shown.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Sequence

from sqlalchemy.engine import URL, Connection

from hyperpage.backup.destinations import BackupError
from hyperpage.config import sync_url
from hyperpage.logging import redact_text

_QUERY_TO_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
}


def tool(name: str) -> str:
    """Path of a PostgreSQL client tool, preferring the newest installed major version."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major)
    if candidates:
        return candidates[-1]
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client)")
    return found


def _major(path: str) -> int:
    try:
        return int(path.split("/")[-3])
    except ValueError:
        return 0


def libpq_env(url: str | URL) -> dict[str, str]:
    """Environment for a libpq tool connecting to url (password included, never on argv)."""
    parsed = sync_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    pairs = {
        "PGHOST": parsed.host,
        "PGPORT": parsed.port,
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    env.update({k: str(v) for k, v in pairs.items() if v is not None})
    for key, value in parsed.query.items():
        if key in _QUERY_TO_ENV:
            env[_QUERY_TO_ENV[key]] = str(value if isinstance(value, str) else value[0])
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return env


def run(args: Sequence[str], url: str | URL, *, what: str) -> subprocess.CompletedProcess[str]:
    """Run a client tool against url; raise BackupError with its redacted stderr when it fails."""
    proc = subprocess.run(list(args), env=libpq_env(url), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(f"{what} failed (exit {proc.returncode}): {last_lines(proc.stderr)}")
    return proc


def last_lines(text: str, n: int = 5) -> str:
    lines = [line for line in redact_text(text).splitlines() if line.strip()]
    return " | ".join(lines[-n:]) or "no output"


def server_version(conn: Connection) -> str | None:
    from sqlalchemy import text

    version: str | None = conn.execute(text("SHOW server_version")).scalar()
    return version
