"""hyperpage_memory_limit_bytes: the container's cgroup memory limit, or the host's memory without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperpage.metrics import MEMORY_LIMIT, memory_limit_bytes

GIB = 2**30


@pytest.fixture
def meminfo(tmp_path: Path) -> Path:
    path = tmp_path / "meminfo"
    path.write_text("MemTotal:       16318524 kB\nMemFree:         1000000 kB\n")
    return path


HOST = 16318524 * 1024


def test_cgroup_v2_limit(tmp_path: Path, meminfo: Path) -> None:
    (tmp_path / "memory.max").write_text(f"{8 * GIB}\n")
    assert memory_limit_bytes(tmp_path, meminfo) == 8 * GIB


def test_cgroup_v2_without_limit_is_the_host_memory(tmp_path: Path, meminfo: Path) -> None:
    (tmp_path / "memory.max").write_text("max\n")
    assert memory_limit_bytes(tmp_path, meminfo) == HOST


def test_cgroup_v1_limit_and_its_unlimited_value(tmp_path: Path, meminfo: Path) -> None:
    (tmp_path / "memory").mkdir()
    limit = tmp_path / "memory" / "memory.limit_in_bytes"
    limit.write_text(f"{GIB}\n")
    assert memory_limit_bytes(tmp_path, meminfo) == GIB
    limit.write_text("9223372036854771712\n")  # v1's "no limit"
    assert memory_limit_bytes(tmp_path, meminfo) == HOST


def test_no_cgroup_files_is_the_host_memory(tmp_path: Path, meminfo: Path) -> None:
    assert memory_limit_bytes(tmp_path / "absent", meminfo) == HOST


def test_the_gauge_holds_this_process_limit() -> None:
    value = MEMORY_LIMIT._value.get()
    assert value == memory_limit_bytes() and value > 0
