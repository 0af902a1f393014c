"""Hostile fuzzing of every route of a real server on SQLite and PostgreSQL: no answer is a 5xx.

schemathesis generates schema-valid and schema-violating requests from the app's /openapi.json; every case
then has some of its query, path and body values swapped for what broke the databases before
(validation.py): strings holding NUL, integers beyond 64 bits, instants that overflow in UTC, and
cursors carrying those. The development profile (no sign-in); admin routes get the admin token so their
bodies are parsed. Bounded: a fixed seed and EXAMPLES cases per operation and engine.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hyperpage.db import schema
from tests.pg import PgCluster
from tests.portal_server import seed
from tests.serverproc import ServerProcess

EXAMPLES = 15
ADMIN = "fuzz-admin-token-0123456789abcdef"
SERVER_ENV = {
    "HYPERPAGE_RATE_LIMIT_PER_HOUR": "100000000",
    "HYPERPAGE_ADMIN_TOKEN": ADMIN,
    "HYPERPAGE_ENV": "development",
}

NUL_TEXT = st.one_of(
    st.sampled_from(["\x00", "a\x00b", "\x00" * 40, "%00", "q\x00 \x00"]),
    st.text(max_size=12).map(lambda s: s + "\x00"),
)
HUGE_INTS = st.one_of(
    st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 2**63 - 1, 0, -1]),
    st.integers(min_value=2**63, max_value=2**90),
)
EXTREME_DATES = st.sampled_from(
    [
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59.999999-23:59",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59+14:00",
        "2026-02-30T00:00:00Z",
        "10000-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2026-11-01T12:00:00\x00Z",
    ]
)


def _cursor(sort: str, value: Any, row_id: Any) -> str:
    raw = json.dumps({"s": sort, "v": value, "i": row_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CURSORS = st.builds(
    _cursor,
    st.sampled_from(["-updated_at", "updated_at", "-created_at", "created_at"]),
    st.one_of(EXTREME_DATES, NUL_TEXT, HUGE_INTS),
    st.one_of(HUGE_INTS, NUL_TEXT, st.none()),
)
ANY_HOSTILE = st.one_of(NUL_TEXT, HUGE_INTS, EXTREME_DATES, CURSORS)


def _hostile_value(key: str, value: Any) -> st.SearchStrategy[Any]:
    if key == "cursor":
        return CURSORS
    if key.endswith("_since") or key.endswith("_at"):
        return EXTREME_DATES
    if isinstance(value, bool):
        return ANY_HOSTILE
    if isinstance(value, int):
        return HUGE_INTS
    if isinstance(value, str):
        return st.one_of(NUL_TEXT, EXTREME_DATES)
    return ANY_HOSTILE


@st.composite
def _hostile(draw: st.DrawFn, case: Any) -> Any:
    for container in (case.query, case.path_parameters, case.body):
        if not isinstance(container, dict):
            continue
        for key in list(container):
            if draw(st.integers(0, 2)) == 0:  # keep about a third of the values as generated
                continue
            container[key] = draw(_hostile_value(key, container[key]))
    return case


def _seeded_server(engine: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    cluster: PgCluster | None = None
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        name = cluster.create_database()
        url = cluster.url(name)
    schema.upgrade(url)
    asyncio.run(seed(url))
    server = ServerProcess(
        env={"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "HYPERPAGE_SCHEDULER": "false", **SERVER_ENV}
    )
    server.start(tmp_path / "fuzz.log")
    try:
        assert server.wait_status("/readyz", 200, timeout=60), server.logs()
        yield server
    finally:
        server.stop()
        if cluster is not None:
            cluster.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzz_server(request: pytest.FixtureRequest, tmp_path) -> Iterator[ServerProcess]:
    yield from _seeded_server(request.param, tmp_path, request)


def test_hostile_fuzzing_finds_no_server_error(fuzz_server: ServerProcess) -> None:
    api = schemathesis.openapi.from_url(fuzz_server.base_url + "/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]
    server_errors: list[str] = []
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
            operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
        ).flatmap(_hostile)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def run(case: Any) -> None:
            response = case.call(
                base_url=fuzz_server.base_url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10
            )
            if response.status_code >= 500:
                server_errors.append(
                    f"{response.status_code} {case.method} {case.formatted_path} "
                    f"query={case.query!r} body={case.body!r}: {response.text[:200]}"
                )

        run()
    assert not server_errors, "\n".join(server_errors[:20])
    assert " 500" not in fuzz_server.logs() and "unhandled_error" not in fuzz_server.logs()
