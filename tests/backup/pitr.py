"""A PostgreSQL cluster archiving its WAL through pgBackRest to a local repository, for recovery drills.

Used by the point-in-time drill in test_pitr.py and by bench/bench_backup.py (RPO and RTO figures). Every
pgBackRest command runs as the postgres user, which owns the repository, the logs and the data directories.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.pg import PgCluster, _as_postgres
from tests.tooling import free_port, require_tool

STANZA = "hyperpage"


def _chown_to_postgres(*paths: Path) -> None:
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for path in paths:
            os.chown(path, pw.pw_uid, pw.pw_gid)


@dataclass
class ArchivedCluster:
    cluster: PgCluster
    root: Path
    conf: Path
    restored: list[PgCluster] = field(default_factory=list)

    @classmethod
    def start(cls, *, archive_timeout_s: int) -> ArchivedCluster:
        require_tool("pgbackrest", hint="scripts/deps/50-pgbackrest.sh")
        root = Path(tempfile.mkdtemp(prefix="hyperpage-pgbackrest-"))
        for sub in ("repo", "log", "lock", "spool"):
            (root / sub).mkdir()
        root.chmod(0o755)
        conf = root / "pgbackrest.conf"
        conf.touch()
        _chown_to_postgres(root, conf, *(root / sub for sub in ("repo", "log", "lock", "spool")))
        # Until the config names the cluster, archive-push fails and PostgreSQL keeps the WAL and retries.
        archive = f"pgbackrest --config={conf} --stanza={STANZA} archive-push %p"
        cluster = PgCluster.start(
            extra_conf={
                "wal_level": "replica",
                "archive_mode": "on",
                "archive_command": archive,
                "archive_timeout": f"{archive_timeout_s}s",
                "max_wal_senders": "3",
            }
        )
        sockdir = cluster.datadir.parent / "sock"  # type: ignore[union-attr]
        conf.write_text(
            "[global]\n"
            f"repo1-path={root / 'repo'}\nrepo1-retention-full=2\nlog-path={root / 'log'}\n"
            f"lock-path={root / 'lock'}\nspool-path={root / 'spool'}\nstart-fast=y\ncompress-type=lz4\n"
            "log-level-console=warn\nlog-level-file=info\n"
            f"[{STANZA}]\npg1-path={cluster.datadir}\npg1-port={cluster.port}\npg1-socket-path={sockdir}\n"
            "pg1-user=postgres\n"
        )
        drill = cls(cluster, root, conf)
        try:
            drill.pgbackrest("stanza-create")
            drill.pgbackrest("check")  # proves archive_command works end to end
        except BaseException:
            drill.destroy()
            raise
        return drill

    def pgbackrest(self, *args: str) -> str:
        proc = subprocess.run(
            _as_postgres(["pgbackrest", f"--config={self.conf}", f"--stanza={STANZA}", *args]),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"pgbackrest {' '.join(args)} failed ({proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
        return proc.stdout

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.cluster.url(database), autocommit=True)

    def restore_to_time(self, target: str) -> PgCluster:
        """Restore the newest backup plus archived WAL up to target into a new data dir, started and promoted."""
        base = Path(tempfile.mkdtemp(prefix="hyperpage-pitr-"))
        base.chmod(0o755)
        datadir = base / "data"
        datadir.mkdir(mode=0o700)
        _chown_to_postgres(base, datadir)
        self.pgbackrest(
            f"--pg1-path={datadir}", "--type=time", f"--target={target}", "--target-action=promote", "restore"
        )
        port = free_port()
        with open(datadir / "postgresql.conf", "a") as fh:
            # The copy must not archive into the original's stanza nor clash with its port.
            fh.write(f"port = {port}\narchive_mode = 'off'\nunix_socket_directories = '{base}'\n")
        restored = PgCluster(port=port, datadir=datadir, _owned_dir=base)
        self.restored.append(restored)
        restored.start_server()
        deadline = time.monotonic() + 120
        with psycopg.connect(restored.url(), autocommit=True) as conn:
            while conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:  # type: ignore[index]
                if time.monotonic() > deadline:
                    raise RuntimeError("the restored cluster did not finish recovery in 120 s")
                time.sleep(0.2)
        return restored

    def destroy(self) -> None:
        for cluster in [*self.restored, self.cluster]:
            cluster.destroy()
        shutil.rmtree(self.root, ignore_errors=True)
