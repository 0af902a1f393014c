"""Throwaway PostgreSQL clusters for tests, started from the local server binaries."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.tooling import free_port


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL server binary {name!r} not found: install the postgresql package (scripts/deps/10-postgres.sh)"
        )
    return candidates[-1]


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: run the server tools as the postgres user then.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PgCluster:
    """A PostgreSQL server owned by the test run (or an external one given by URL)."""

    host: str = "127.0.0.1"
    port: int = 0
    user: str = "postgres"
    datadir: Path | None = None
    external_url: str | None = None
    _owned_dir: Path | None = field(default=None, repr=False)

    @classmethod
    def start(cls, *, extra_conf: dict[str, str] | None = None) -> PgCluster:
        base = Path(tempfile.mkdtemp(prefix="hyperpage-pg-"))
        base.chmod(0o755)
        datadir, sockdir = base / "data", base / "sock"
        sockdir.mkdir()
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for path in (base, sockdir):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        subprocess.run(
            _as_postgres(
                [
                    _bin("initdb"),
                    "-D",
                    str(datadir),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--locale=C",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        cluster = cls(port=free_port(), datadir=datadir, _owned_dir=base)
        conf = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(sockdir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "300",
            **(extra_conf or {}),
        }
        with open(datadir / "postgresql.conf", "a") as fh:
            fh.write(f"port = {cluster.port}\n")
            for key, value in conf.items():
                fh.write(f"{key} = '{value}'\n")
        cluster.start_server()
        return cluster

    def start_server(self) -> None:
        assert self.datadir is not None
        subprocess.run(
            _as_postgres(
                [
                    _bin("pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.datadir.parent / "log"),
                    "-w",
                    "-t",
                    "30",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )

    def stop_server(self, mode: str = "fast") -> None:
        assert self.datadir is not None
        subprocess.run(
            _as_postgres([_bin("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"]),
            check=True,
            capture_output=True,
            text=True,
        )

    def destroy(self) -> None:
        if self._owned_dir is None:
            return
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            self.stop_server("immediate")
        shutil.rmtree(self._owned_dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        if self.external_url:
            return _swap_db(self.external_url, database)
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, *, template: str | None = None, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            tmpl = f" TEMPLATE {template}" if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _swap_db(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)
