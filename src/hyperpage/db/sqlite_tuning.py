"""SQLite's process-wide memory statistics, off: a lock every SQLite allocation takes, for figures we never read.

SQLite counts each allocation it makes under one process-wide mutex (SQLITE_CONFIG_MEMSTATUS, on by default), for
sqlite3_memory_used() and the heap limits, neither of which Hyperpage uses. Threads that read at once take turns on
that mutex at every allocation, and SQL functions allocate per value (json_each, group_concat). Measured on the
1M-row generic bench file, the migration's planning query over every chunk of `events`:

| | wall | CPU (user + system) |
|---|---|---|
| one thread, statistics on (SQLite's default) | 4.36 s | 4.35 s |
| two threads, statistics on | 3.86 s | 7.33 s (2.1 s of it in the kernel: the mutex's futex) |
| one thread, statistics off | 3.65 s | 3.64 s |
| two threads, statistics off | 1.80 s | 3.46 s |

The setting can only change while SQLite is shut down (https://sqlite.org/c3ref/config.html: "sqlite3_config()
... must be invoked prior to library initialization ... or after shutdown"), and Python's sqlite3 module initialises
SQLite when imported. So SQLite is shut down and started again, which is safe only while nothing of it is in use
(https://sqlite.org/c3ref/initialize.html: every connection must be closed first): done only when the calling
thread is the process's only one and SQLite holds no memory at all (no connection, no statement). Entry points call
this first thing; in a process that already uses SQLite (a test run calling the CLI in process) it does nothing.
Python's sqlite3 module has no call for it, hence ctypes on the library the module itself loaded (read from
/proc/self/maps); where there is none (a statically linked SQLite, a system without /proc) nothing changes.
"""

from __future__ import annotations

import ctypes
import sqlite3
import threading

SQLITE_CONFIG_MEMSTATUS = 9  # sqlite3.h
_off = False  # set once the statistics are off in this process: memory_used() reads 0 from then on


def loaded_library() -> ctypes.CDLL | None:
    """The SQLite shared library Python's sqlite3 module runs on (the same instance: dlopen of a loaded file)."""
    assert sqlite3.sqlite_version  # the module (and its library) loaded before the process maps are read
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.rstrip().rpartition(" ")[2] for line in maps if "/libsqlite3" in line}
    except OSError:
        return None
    if len(paths) != 1:
        return None
    lib = ctypes.CDLL(paths.pop())
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return lib


def statistics_off() -> bool:
    """Turn SQLite's memory statistics off for this process, when it is safe to; whether they are off now."""
    global _off
    if _off:
        return True
    if threading.active_count() != 1:
        return False
    lib = loaded_library()
    if lib is None or lib.sqlite3_memory_used() != 0:
        return False
    if lib.sqlite3_shutdown() != sqlite3.SQLITE_OK:
        return False
    configured = lib.sqlite3_config(SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == sqlite3.SQLITE_OK
    started = lib.sqlite3_initialize() == sqlite3.SQLITE_OK  # else the first connection initialises it
    _off = bool(configured and started)
    return _off
