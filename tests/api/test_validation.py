"""Input that is well-formed but that the databases cannot take is a 422/400 in the error shape, never a 500.

Each case below was a 500 on PostgreSQL, on SQLite or on both before api/validation.py: asyncpg refuses NUL
in text ("invalid byte sequence for encoding UTF8: 0x00"), both drivers overflow on integers beyond 64 bits
and on instants that leave datetime's range when converted to UTC.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from hyperpage.main import create_app
from hyperpage.rate_limits.schemas import RateLimitQuery
from hyperpage.reviews.schemas import ReviewQuery
from hyperpage.status.schemas import SyncTrigger
from tests import factories as f
from tests.conftest import make_settings

TOKEN = "validation-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
BEYOND_INT64 = "9223372036854775808"


def _cursor(sort: str, value: object, row_id: object) -> str:
    raw = json.dumps({"s": sort, "v": value, "i": row_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
async def admin_client(db_url: str):
    app = create_app(make_settings(db_url, hyperpage_admin_token=TOKEN))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        async with f.db_session(db_url) as s:
            gh = await f.add_connection(s, tool="github", name="gh")
            gl = await f.add_connection(s, tool="gitlab", name="gl")
            await f.add_pull_request(s, connection=gh, title="one")
            for conn in (gh, gl):
                await f.add_sync_state(s, connection=conn, resource="pull_requests")
        yield http


def _assert_client_error(resp: httpx.Response, status: int, field: str) -> None:
    assert resp.status_code == status, resp.text[:500]
    error = resp.json()["error"]
    assert error["code"] in ("invalid_request", "invalid_cursor")
    assert field in error["message"]


UNSTORABLE_QUERIES = [
    ("/api/v1/reviews?q=%00", "q"),
    ("/api/v1/reviews?author=a%00b", "author"),
    ("/api/v1/reviews?reviewer=%00", "reviewer"),
    ("/api/v1/reviews?label=%00", "label"),
    ("/api/v1/reviews?repository=%00", "repository"),
    ("/api/v1/pipelines?ref=%00", "ref"),
    ("/api/v1/issues?assignee=%00&q=x", "assignee"),
    ("/api/v1/rate-limits?resource=%00", "resource"),
    ("/api/tools/ci-cd/pipelines?status=%00", "status"),
    (f"/api/v1/reviews?connection={BEYOND_INT64}", "connection"),
    (f"/api/v1/issues?connection={BEYOND_INT64}0000", "connection"),
    (f"/api/v1/rate-limits?connection={BEYOND_INT64}", "connection"),
    ("/api/v1/reviews?updated_since=9999-12-31T23:59:59-01:00", "updated_since"),
    ("/api/v1/pipelines?updated_since=0001-01-01T00:00:00%2B01:00", "updated_since"),
]
HOSTILE_CURSORS = [
    _cursor("-updated_at", "2026-01-01T00:00:00+00:00", 2**63),
    _cursor("-updated_at", "2026-01-01T00:00:00+00:00", -(2**64)),
    _cursor("-updated_at", "9999-12-31T23:59:59-01:00", 1),
    _cursor("-updated_at", "0001-01-01T00:00:00+05:00", 1),
]
UNSTORABLE_BODIES = [
    ({"connection": int(BEYOND_INT64)}, "connection"),
    ({"job": 2**70}, "job"),
    ({"job": -(2**64)}, "job"),
]


async def test_unstorable_query_values_cursors_and_admin_bodies_are_4xx(admin_client) -> None:
    for path, field in UNSTORABLE_QUERIES:
        _assert_client_error(await admin_client.get(path), 422, field)
    for cursor in HOSTILE_CURSORS:  # out-of-range id or date
        for path in ("/api/v1/reviews", "/api/v1/pipelines", "/api/v1/issues"):
            _assert_client_error(await admin_client.get(path, params={"cursor": cursor}), 400, "cursor")
    for body, field in UNSTORABLE_BODIES:
        _assert_client_error(await admin_client.post("/api/v1/sync/trigger", json=body, headers=ADMIN), 422, field)


def test_every_field_of_every_request_model_is_checked_including_subclass_fields() -> None:
    # "\ud800" is valid JSON text (a body can carry it) but has no UTF-8 encoding for either driver
    for model, values in (
        (ReviewQuery, {"q": "\ud800"}),
        (ReviewQuery, {"reviewer": "x\x00"}),
        (RateLimitQuery, {"resource": "\udfff"}),
        (SyncTrigger, {"job": 2**63}),
    ):
        with pytest.raises(ValidationError):
            model(**values)
    assert ReviewQuery(updated_since="2026-01-01T01:00:00+01:00").since_utc() == datetime(2026, 1, 1, tzinfo=UTC)


async def test_the_documented_tool_filter_of_the_sync_trigger_works(admin_client) -> None:
    resp = await admin_client.post("/api/v1/sync/trigger", json={"tool": "github"}, headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert resp.json()["due_now"] == 1  # the github job, not the gitlab one
    all_jobs = await admin_client.post("/api/v1/sync/trigger", json={}, headers=ADMIN)
    assert all_jobs.json()["due_now"] == 2
    wrong = await admin_client.post("/api/v1/sync/trigger", json={"tool": "svn"}, headers=ADMIN)
    assert wrong.status_code == 422


async def test_the_overview_page_refuses_unstorable_filters_with_400(admin_client) -> None:
    for query in ("q=%00", "ia=%00", f"rc={_cursor('-updated_at', '2026-01-01T00:00:00+00:00', 2**64)}"):
        resp = await admin_client.get(f"/?{query}")
        assert resp.status_code == 400, (query, resp.text[:300])


async def test_values_within_range_still_work(admin_client) -> None:
    ok = await admin_client.get(
        "/api/v1/reviews",
        params={"connection": "9223372036854775807", "updated_since": "9999-12-31T22:00:00-01:00", "q": "résumé ✓"},
    )
    assert ok.status_code == 200 and ok.json()["items"] == []
    first = (await admin_client.get("/api/v1/reviews", params={"q": "one"})).json()
    assert [item["title"] for item in first["items"]] == ["one"]
