"""The cache's store on its own: byte budget, age bound, one version at a time, and which databases get one."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from sqlalchemy.engine import make_url

from hyperpage.api.response_cache import ENTRY_OVERHEAD, Entry, ResponseCache
from hyperpage.db.changes import NoChanges, SqliteChanges, data_changes


def entry(size: int) -> Entry:
    return Entry(time.monotonic(), [(b"etag", b'"e"')], b"x" * size, '"e"', None)


def test_least_recently_used_entries_go_first_when_the_byte_budget_is_spent() -> None:
    cache = ResponseCache(max_bytes=3 * (1000 + ENTRY_OVERHEAD), max_age=60)
    assert cache.get(("/a", b""), 1) is None  # first sight of version 1
    for name in ("a", "b", "c"):
        cache.put((f"/{name}", b""), entry(1000), 1)
    assert cache.get(("/a", b""), 1) is not None  # a is now the most recent
    cache.put(("/d", b""), entry(1000), 1)
    assert cache.get(("/b", b""), 1) is None
    assert [cache.get((f"/{n}", b""), 1) is not None for n in "acd"] == [True, True, True]
    cache.put(("/huge", b""), entry(10_000), 1)  # larger than the whole budget: never stored
    assert cache.get(("/huge", b""), 1) is None and len(cache) == 3
    long_query = b"q=" + b"x" * 998  # the key counts too: this entry needs the room of two
    cache.put(("/e", long_query), Entry(time.monotonic(), [], b"x" * 1000, '"e"', None, len(long_query)), 1)
    assert len(cache) == 2 and cache.get(("/e", long_query), 1) is not None


def test_a_new_version_empties_the_cache_and_late_answers_of_the_old_one_are_dropped() -> None:
    cache = ResponseCache(max_bytes=1_000_000, max_age=60)
    cache.get(("/a", b""), 1)
    cache.put(("/a", b""), entry(10), 1)
    assert cache.get(("/a", b""), 2) is None and len(cache) == 0
    cache.put(("/a", b""), entry(10), 1)  # computed under version 1, finished after 2 was seen
    assert cache.get(("/a", b""), 2) is None


def test_entries_expire_after_max_age_even_without_a_change() -> None:
    cache = ResponseCache(max_bytes=1_000_000, max_age=0.05)
    cache.get(("/a", b""), 1)
    cache.put(("/a", b""), entry(10), 1)
    assert cache.get(("/a", b""), 1) is not None
    time.sleep(0.06)
    assert cache.get(("/a", b""), 1) is None


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite://"])
def test_in_memory_sqlite_has_no_change_signal_so_nothing_is_cached(url: str) -> None:
    changes = data_changes(make_url(url), None)
    assert isinstance(changes, NoChanges) and changes.version() is None


def test_a_missing_sqlite_file_means_bypass_and_is_never_created(tmp_path) -> None:
    path = tmp_path / "missing.db"
    changes = data_changes(make_url(f"sqlite+aiosqlite:///{path}"), None)
    assert isinstance(changes, SqliteChanges)
    assert changes.version() is None and changes.version() is None
    assert not path.exists()


async def test_sqlite_data_version_is_read_once_per_loop_pass_and_anew_in_the_next(tmp_path) -> None:
    path = tmp_path / "pass.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    changes = data_changes(make_url(f"sqlite+aiosqlite:///{path}"), None)
    await changes.start()
    try:
        before = changes.version()
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO t VALUES (1)")
        # the same pass: every request in it arrived before the first read, so they share it
        assert changes.version() == before
        await asyncio.sleep(0)  # a request arriving now starts in a later pass: it must see the commit
        assert changes.version() != before
    finally:
        await changes.stop()
