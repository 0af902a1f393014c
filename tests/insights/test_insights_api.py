"""GET /api/v1/insights/dora and /cycle-time: shape, filters, 4xx on bad input, ETag and 304, the cache, teams."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hyperpage.config import ConfigError
from hyperpage.main import create_app
from tests.conftest import make_settings
from tests.insights.scenario import seed

WINDOW = {"from": "2026-11-02", "to": "2026-11-15"}


async def test_dora_and_cycle_time_answer_the_scenario(client, db_url) -> None:
    await seed(db_url)
    dora = await client.get("/api/v1/insights/dora", params=WINDOW)
    assert dora.status_code == 200, dora.text
    body = dora.json()
    assert body["window"] == {
        "start": "2026-11-02T00:00:00Z",
        "end": "2026-11-16T00:00:00Z",
        "days": 14,
        "repository": None,
        "environment": None,
        "author": None,
        "team": None,
    }
    assert body["deployment_frequency"]["deployments"] == 9 and body["deployment_frequency"]["band"] == "high"
    assert body["lead_time"]["median_seconds"] == 87000 and body["lead_time"]["unattributed"] == 1
    assert body["change_failure_rate"]["rate"] == 0.4 and body["change_failure_rate"]["band"] == "low"
    assert body["recovery"]["deployments"]["median_seconds"] == 7200
    assert [w["week"] for w in body["weekly"]] == ["2026-11-02", "2026-11-09"]
    assert {f["repository"] for f in body["failed_deployments"]} == {"acme/web"}
    assert "2023" in body["bands_source"]
    cycle = await client.get("/api/v1/insights/cycle-time", params={**WINDOW, "author": "dave"})
    assert cycle.status_code == 200, cycle.text
    assert cycle.json()["changes"] == 1 and cycle.json()["deploy"]["median_seconds"] == 79800
    staging = await client.get("/api/v1/insights/dora", params={**WINDOW, "environment": "staging"})
    assert staging.json()["deployment_frequency"]["deployments"] == 1


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"from": "2026-13-01"}, "from", "date"),
        ({"from": "2026-11-10", "to": "2026-11-01"}, "request", "`from` is after `to`"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "request", "longer than 366 days"),
        ({"to": "0001-01-01"}, "request", "must lie between"),
        ({"team": "nobody"}, "team", "unknown team 'nobody'"),
        ({"repo": "acme/web"}, "repo", "Extra inputs are not permitted"),
        ({"author": "a\x00b"}, "author", "NUL"),
    ],
)
async def test_bad_input_is_a_422_in_the_one_error_shape(client, params, field, words) -> None:
    for path in ("/api/v1/insights/dora", "/api/v1/insights/cycle-time"):
        resp = await client.get(path, params=params)
        assert resp.status_code == 422, resp.text
        error = resp.json()["error"]
        assert error["code"] == "invalid_request"
        assert words in error["message"]
        assert field in {d["field"] for d in error.get("details", [])} | {"request"}


async def test_etag_revalidation_and_the_cache_follow_the_data(client, db_url) -> None:
    first = await client.get("/api/v1/insights/dora", params=WINDOW)
    assert first.json()["deployment_frequency"]["deployments"] == 0
    assert first.json()["deployment_frequency"]["band"] is None  # no deployments known: no band, not "low"
    etag = first.headers["etag"]
    again = await client.get("/api/v1/insights/dora", params=WINDOW, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    await seed(db_url)  # a sync writes: the cached answer and its ETag are gone
    fresh = await client.get("/api/v1/insights/dora", params=WINDOW, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag
    assert fresh.json()["deployment_frequency"]["deployments"] == 9
    assert fresh.headers["cache-control"] == "private, max-age=15"


async def test_default_window_is_the_last_90_days_to_today(client) -> None:
    window = (await client.get("/api/v1/insights/cycle-time")).json()["window"]
    assert window["days"] == 90


def _teams_app(db_url: str, tmp_path: Path, text: str):
    path = tmp_path / "teams.yaml"
    path.write_text(text)
    return create_app(make_settings(db_url, hyperpage_teams_file=str(path)))


async def test_teams_file_filters_by_team_and_a_bad_file_stops_the_start(db_url, tmp_path) -> None:
    await seed(db_url)
    app = _teams_app(db_url, tmp_path, "teams:\n  core: [Alice]\n  guests:\n    - dave\n")
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        core = (await http.get("/api/v1/insights/cycle-time", params={**WINDOW, "team": "core"})).json()
        assert core["changes"] == 8 and core["window"]["team"] == "core"
        unknown = await http.get("/api/v1/insights/dora", params={**WINDOW, "team": "web"})
        assert unknown.status_code == 422 and "known teams: core, guests" in unknown.json()["error"]["message"]
    for text, words in (
        ("teams: [a, b]\n", "needs a top-level `teams:` mapping"),
        ("teams:\n  core: alice\n", "team 'core' needs a list of logins"),
        ("teams: {core: [alice]\n", "is not valid YAML"),
    ):
        with pytest.raises(ConfigError, match="HYPERPAGE_TEAMS_FILE") as exc:
            _teams_app(db_url, tmp_path, text)
        assert words in str(exc.value)
    with pytest.raises(ConfigError, match="HYPERPAGE_TEAMS_FILE: cannot read"):
        create_app(make_settings(db_url, hyperpage_teams_file=str(tmp_path / "missing.yaml")))


async def test_a_number_is_not_a_date(client) -> None:
    # pydantic alone reads "0" as 1970-01-01 (a Unix timestamp); schemathesis caught it
    resp = await client.get("/api/v1/insights/dora", params={"to": "0"})
    assert resp.status_code == 422 and "YYYY-MM-DD" in resp.json()["error"]["message"]
