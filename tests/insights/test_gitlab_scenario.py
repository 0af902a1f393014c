"""The GitLab world of tests/insights/gitlab_scenario.py, synced through the real GitLab and Jira jobs, gives the
numbers worked out below by hand, on SQLite and PostgreSQL. Durations are seconds; percentiles nearest-rank."""

from __future__ import annotations

import httpx

from hyperpage.config import load_settings
from hyperpage.db.session import create_engine
from hyperpage.insights import service
from hyperpage.insights.schemas import InsightsQuery
from tests.insights import gitlab_scenario
from tests.insights.scenario import stages
from tests.sync.harness import harness

H = 3600


async def _sync(db_url: str) -> list[httpx.Request]:
    calls: list[httpx.Request] = []
    more = {
        "enable_gitlab": True,
        "gitlab_token": "glpat-scenario0token1value",
        "gitlab_web_url": "https://gitlab.test",
        "gitlab_projects": "acme/shop",
        "enable_jira": True,
        "jira_web_url": "https://jira.test",
        "jira_email": "ops@example.com",
        "jira_api_token": "jira-scenario-token",
        "sync_insights": True,
    }
    async with harness(db_url, httpx.MockTransport(gitlab_scenario.handle(calls)), **more) as h:
        for tool, resource in (
            ("gitlab", "pull_requests"),
            ("gitlab", "pull_request_details"),
            ("gitlab", "deployments"),
            ("gitlab", "incidents"),
            ("jira", "incidents"),
        ):
            reports = [r for r in await h.scheduler.run_cycle(tool=tool, resource=resource) if r.resource == resource]
            assert reports and all(r.ok for r in reports), [r.error for r in reports]
    return calls


async def test_gitlab_scenario_dora_and_cycle_time(db_url: str) -> None:
    calls = await _sync(db_url)
    # D4 redeploys D3's sha: no compare is asked for it (and none for the first of each environment)
    assert sum(1 for c in calls if c.url.path.endswith("/repository/compare")) == 4
    settings = load_settings(database_url=db_url)
    engine = create_engine(settings)
    query = InsightsQuery.model_validate({"from": "2026-11-02", "to": "2026-11-08"})
    try:
        dora = await service.dora(engine, query=query, settings=settings, teams={})
        cycle = await service.cycle_time(engine, query=query, settings=settings, teams={})
    finally:
        await engine.dispose()

    # Deployment frequency: successful production deployments D1 D2 D4 D5 D6 (D3 failed; S1's tier is staging)
    assert dora.deployment_frequency.deployments == 5

    # Lead time, first commit -> the first successful production deployment whose range holds the merge commit:
    #   !1 Nov 2 08:00 (the older of its two commits) -> D2 15:10 = 7h10 = 25800
    #   !2 Nov 3 09:00 -> D3 failed, D4 (the retry) 18:10 = 9h10 = 33000 (its squash commit m2 is what landed)
    #   !3 Nov 4 08:00 -> D5 11:10 = 3h10 = 11400
    #   !4 Nov 5 08:00 -> D6 10:10 = 2h10 = 7800
    # sorted 7800 11400 25800 33000: median rank 2, p75 rank 3, p90 rank 4
    lt = dora.lead_time
    assert (lt.count, lt.median_seconds, lt.p75_seconds, lt.p90_seconds) == (4, 11400, 25800, 33000)

    # Change failure rate over the 6 finished production deployments: D2 (GitLab incident #9 3h later, before D3),
    # D3 (status failed), D5 (!4 reverts !3, which D5 delivered), D6 (Jira OPS-5 opened 9h50 after it: a Jira
    # incident has no repository, so it counts against the production deployments of every repository) -> 4/6
    cfr = dora.change_failure_rate
    assert (cfr.deployments, cfr.failed) == (6, 4) and abs(cfr.rate - 4 / 6) < 1e-9
    assert cfr.causes == {"status": 1, "rollback": 0, "revert": 1, "incident": 2}

    # Recovery, failed deployment finished -> next successful production deployment finished:
    #   D2 Nov 2 15:10 -> D4 Nov 3 18:10 = 27h = 97200; D3 16:10 -> D4 18:10 = 7200; D5 Nov 4 11:10 -> D6 Nov 5
    #   10:10 = 23h = 82800; D6: none yet (unrecovered). sorted 7200 82800 97200: ranks 2, 3, 3.
    # Incidents opened -> resolved: #9 2h (closed_at), OPS-5 3h (statuscategorychangedate: no resolutiondate).
    rec = dora.recovery
    d = rec.deployments
    assert (d.count, d.median_seconds, d.p75_seconds, d.p90_seconds, rec.unrecovered) == (3, 82800, 97200, 97200, 1)
    assert (rec.incidents.count, rec.incidents.median_seconds, rec.incidents.p90_seconds) == (2, 2 * H, 3 * H)
    assert rec.unresolved == 0

    #        coding  pickup  review  deploy
    #   !1   10800    3600    3600    7800   (ready note 11:00; bob's approval 12:00 after the bot and alice)
    #   !2    3600    3600   10800   15000   (never a draft: ready = opened; carol's comment is the first review)
    #   !3    3600      -       -     4200   (no review: ready 09:00 -> merged 10:00 = 3600 without review)
    #   !4    1800     900     900    4200
    # coding 1800 3600 3600 10800 -> ranks 2, 3, 4; pickup and review (3 each) -> ranks 2, 3, 3;
    # deploy 4200 4200 7800 15000 -> ranks 2, 3, 4
    assert (cycle.changes, cycle.reviewed, cycle.merged_without_review, cycle.undeployed) == (4, 3, 1, 0)
    assert stages(cycle) == {
        "coding": (4, 3600, 3600, 10800),
        "pickup": (3, 3600, 3600, 3600),
        "review": (3, 3600, 10800, 10800),
        "deploy": (4, 4200, 7800, 15000),
    }
    assert (cycle.ready_to_merge_without_review.count, cycle.ready_to_merge_without_review.median_seconds) == (1, H)
