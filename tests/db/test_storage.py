"""A full disk and a read-only SQLite directory show in /api/health and /api/v1/sync, naming the cause.

Both are real: the full disk is a 40 MiB tmpfs filled to its last MiB, mounted in a private mount namespace
(unshare(1), util-linux) in which the server runs; the read-only directory is chmod 555 with the server
running as an unprivileged user (root ignores directory permissions).
"""

from __future__ import annotations

import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from hyperpage.db import schema
from tests.serverproc import HYPERPAGE, ServerProcess, unprivileged, wait_until
from tests.tooling import require_tool


def _storage(server: ServerProcess) -> tuple[dict, dict, int]:
    health = server.get("/api/health")
    sync = server.get("/api/v1/sync")
    assert health is not None and sync is not None
    assert sync.status_code == 200, sync.text  # reads still work: the data stays visible
    return health.json(), sync.json(), health.status_code


def test_a_full_disk_shows_in_health_and_sync(tmp_path) -> None:
    unshare = require_tool("unshare", hint="Debian package util-linux")
    directory = Path(tempfile.mkdtemp(prefix="hyperpage-full-"))
    db = directory / "h.db"
    prepare = (
        f"from hyperpage.db import schema; import sqlite3; schema.upgrade('sqlite:///{db}'); "
        f"sqlite3.connect('{db}').execute('PRAGMA journal_mode=WAL')"
    )
    script = " && ".join(
        [
            f"mount -t tmpfs -o size=40m tmpfs {shlex.quote(str(directory))}",
            f"{shlex.quote(sys.executable)} -c {shlex.quote(prepare)}",
            f"avail=$(df -k --output=avail {shlex.quote(str(directory))} | tail -1)",
            f"dd if=/dev/zero of={shlex.quote(str(directory / 'filler'))} bs=1024 count=$((avail - 1024)) status=none",
            f"exec {shlex.quote(HYPERPAGE)} serve",
        ]
    )
    server = ServerProcess(
        env={"DATABASE_URL": f"sqlite:///{db}", "HYPERPAGE_SCHEDULER": "false"},
        args=[unshare, "--mount", "--map-root-user", "sh", "-c", script],
    )
    server.start(tmp_path / "serve.log")
    try:
        assert server.wait_status("/livez", 200, timeout=60), server.logs()
        health, sync, status = _storage(server)
        assert status == 503 and health["status"] == "unhealthy", health
        assert health["storage"]["status"] == "full" and "disk is full" in health["storage"]["error"], health
        assert health["storage"]["free_bytes"] < 2 * 1024 * 1024
        assert sync["storage"] == health["storage"]
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_a_read_only_sqlite_directory_shows_in_health_and_sync(tmp_path) -> None:
    directory = Path(tempfile.mkdtemp(prefix="hyperpage-ro-"))
    try:
        directory.chmod(0o777)
        db = directory / "h.db"
        schema.upgrade(f"sqlite:///{db}")
        db.chmod(0o666)
        server = ServerProcess(env={"DATABASE_URL": f"sqlite:///{db}", "HYPERPAGE_SCHEDULER": "false"})
        server.args = unprivileged(server.args)
        server.start(tmp_path / "serve.log")
        try:
            assert server.wait_status("/readyz", 200, timeout=45), server.logs()
            health, sync, status = _storage(server)
            assert status == 200 and health["storage"]["status"] == "ok" and sync["storage"]["status"] == "ok"
            directory.chmod(0o555)  # the server's open connections keep reading; nothing new can be created
            assert wait_until(lambda: _storage(server)[0]["storage"]["status"] == "unwritable", timeout=5)
            health, sync, status = _storage(server)
            assert status == 503 and health["status"] == "unhealthy"
            assert "Permission denied" in health["storage"]["error"] and str(directory) in health["storage"]["error"]
            assert sync["storage"]["status"] == "unwritable" and "Permission denied" in sync["storage"]["error"]
        finally:
            server.stop()
    finally:
        directory.chmod(0o755)
        shutil.rmtree(directory, ignore_errors=True)
