"""GET /api/v1/rate-limits: latest sample per (connection, resource), levels, history window."""

from __future__ import annotations

from datetime import timedelta

from tests import factories as f


async def test_current_status_uses_the_latest_sample_and_levels(client, db_url) -> None:
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        gl = await f.add_connection(s, tool="gitlab", name="gl")
        await f.add_rate_limit_sample(
            s, connection=gh, resource="core", remaining=100, observed_at=now - timedelta(hours=2)
        )
        await f.add_rate_limit_sample(
            s, connection=gh, resource="core", remaining=1000, observed_at=now - timedelta(minutes=1)
        )  # 80 % used
        await f.add_rate_limit_sample(
            s, connection=gh, resource="search", limit=30, remaining=2, observed_at=now
        )  # 93.3 %
        await f.add_rate_limit_sample(
            s, connection=gl, resource="global", limit=2000, remaining=1990, observed_at=now - timedelta(hours=30)
        )  # outside 24 h history
    body = (await client.get("/api/v1/rate-limits")).json()
    current = {(c["connection"], c["resource"]): c for c in body["current"]}
    assert set(current) == {("gh", "core"), ("gh", "search"), ("gl", "global")}
    assert current[("gh", "core")]["remaining"] == 1000 and current[("gh", "core")]["level"] == "warning"
    assert current[("gh", "core")]["usage_percent"] == 80.0 and current[("gh", "core")]["used"] == 4000
    assert current[("gh", "search")]["level"] == "critical"
    assert current[("gl", "global")]["level"] == "normal"
    series = {(h["connection"], h["resource"]): h["points"] for h in body["history"]}
    assert [p["remaining"] for p in series[("gh", "core")]] == [100, 1000]  # oldest first
    assert ("gl", "global") not in series
    wide = (await client.get("/api/v1/rate-limits", params={"hours": 48, "tool": "gitlab"})).json()
    assert [h["resource"] for h in wide["history"]] == ["global"] and len(wide["current"]) == 1
    assert (await client.get("/api/v1/rate-limits", params={"hours": 0})).status_code == 422
