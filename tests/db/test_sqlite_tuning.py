"""SQLite's memory statistics off (db/sqlite_tuning.py), each case in a fresh Python process: the setting is
process-wide and the pytest process has SQLite connections open.

What is observable: with the statistics on (SQLite's default), sqlite3_memory_used() counts what an open connection
holds; with them off it stays 0 (https://sqlite.org/c3ref/c_config_covering_index_scan.html#sqliteconfigmemstatus:
"When disabled ... sqlite3_memory_used() ... become[s] non-operational").
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import sqlite3, threading
from hyperpage.db.sqlite_tuning import loaded_library, statistics_off

def used_with_a_connection_open():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (json_object('a', 1))")
    assert conn.execute("SELECT x FROM t").fetchone() == ('{"a":1}',)
    used = loaded_library().sqlite3_memory_used()
    conn.close()
    return used
"""


def run(code: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.fixture(autouse=True)
def _linux_sqlite() -> None:
    if sys.platform != "linux":  # the library is found through /proc/self/maps
        pytest.fail("these tests need Linux (/proc/self/maps)")


def test_statistics_are_on_by_default() -> None:
    """The baseline the other tests stand on: without the call, an open connection's memory is counted."""
    (used,) = run("print(used_with_a_connection_open())")
    assert int(used) > 0


def test_a_fresh_process_turns_them_off_and_sqlite_still_works() -> None:
    off, used, again = run("print(statistics_off(), used_with_a_connection_open(), statistics_off())")
    assert (off, used, again) == ("True", "0", "True")


def test_nothing_changes_while_a_connection_is_open() -> None:
    """Shutting SQLite down under an open connection is undefined behaviour: the call must leave it alone."""
    off, used, works = run("""
        held = sqlite3.connect(":memory:")
        held.execute("CREATE TABLE t (x)")
        print(statistics_off(), used_with_a_connection_open(), held.execute("SELECT count(*) FROM t").fetchone()[0])
    """)
    assert (off, int(used) > 0, works) == ("False", True, "0")


def test_nothing_changes_while_another_thread_runs() -> None:
    """Another thread could open a connection between the check and the shutdown."""
    off, used = run("""
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait)
        worker.start()
        print(statistics_off(), used_with_a_connection_open())
        stop.set()
        worker.join()
    """)
    assert (off, int(used) > 0) == ("False", True)


@pytest.mark.parametrize(
    "entry",
    [
        "from hyperpage import cli\ncli.main()",
        "import os\nfrom hyperpage.migrate import copy\ncopy._init_worker(None, os.getppid())",
    ],
    ids=["cli-callback", "migration-worker"],
)
def test_the_entry_points_turn_them_off(entry: str) -> None:
    """The CLI's root callback (every command) and a migration worker's initialiser (a spawned process runs no
    CLI) call it before anything opens a database."""
    assert run(entry + "\nprint(used_with_a_connection_open())") == ["0"]
