"""The hand-computed scenario (tests/insights/scenario.py) gives exactly the numbers worked out below, on SQLite
and PostgreSQL. Durations are seconds; percentiles are nearest-rank (rank ceil(p/100 * n) of the sorted values)."""

from __future__ import annotations

from datetime import date

from hyperpage.config import load_settings
from hyperpage.db.session import create_engine
from hyperpage.insights import service
from hyperpage.insights.schemas import InsightsQuery
from tests.insights.scenario import seed, stages

H = 3600
WINDOW = {"from": "2026-11-02", "to": "2026-11-15"}  # 14 days, ISO weeks of Nov 2 and Nov 9


async def _reports(db_url: str, teams=None, **params):
    settings = load_settings(database_url=db_url)
    engine = create_engine(settings)
    query = InsightsQuery.model_validate({**WINDOW, **params})
    try:
        dora = await service.dora(engine, query=query, settings=settings, teams=teams or {})
        cycle = await service.cycle_time(engine, query=query, settings=settings, teams=teams or {})
    finally:
        await engine.dispose()
    return dora, cycle


async def test_dora_four_keys_of_the_scenario(db_url) -> None:
    ids = await seed(db_url)
    dora, _ = await _reports(db_url)

    # Deployment frequency: successful production deployments finished in the window, all but D4 -> 9 of 10
    # (the staging S1 is not production). 9 / 14 days = 0.642857/day = 4.5/week. Deployment days (DevLake):
    # Nov 2, 3, 4, 5, 9 (D6 and D7), 10, 11, 13 = 8; 8 / 14 * 7 = 4.0 a week. 0.64/day >= 1/7 -> high.
    df = dora.deployment_frequency
    assert (df.deployments, df.deployment_days) == (9, 8)
    assert abs(df.per_day - 9 / 14) < 1e-9 and abs(df.per_week - 4.5) < 1e-9
    assert abs(df.deployment_days_per_week - 4.0) < 1e-9
    assert df.band == "high"

    # Lead time (first commit -> finished_at of the deployment that delivered the merge commit):
    #   P1 Nov 2 10:00 -> D2 Nov 3 09:10 = 23h10 = 83400     P5 Nov 9 12:00 -> D8 Nov 10 09:10 = 21h10 = 76200
    #   P2 Nov 3 09:00 -> D3 Nov 4 09:10 = 24h10 = 87000     P6 Nov 11 07:00 -> D9 Nov 11 09:10 = 2h10 = 7800
    #   P3 Nov 4 08:00 -> D5 Nov 5 11:10 = 27h10 = 97800     P8 Nov 12 09:00 -> D10 Nov 13 09:10 = 24h10 = 87000
    #   (D4 brought m3 but failed; D5, the retry, delivered it)
    #   P4 Nov 6 10:00 -> D6 Nov 9 09:10 = 71h10 = 256200   (not D8, which brought m4 again after the rollback)
    # sorted: 7800 76200 83400 87000 87000 97800 256200 (n=7): median rank 4, p75 rank 6, p90 rank 7.
    # P0 was merged before D1, whose range is unknown: unattributed. P7 was merged after D10: awaiting.
    lt = dora.lead_time
    assert (lt.count, lt.median_seconds, lt.p75_seconds, lt.p90_seconds) == (7, 87000, 97800, 256200)
    assert (lt.unattributed, lt.awaiting_deployment, lt.incomplete) == (1, 1, 0)
    assert lt.band == "high"  # 24h10 is past one day, under one week

    # Change failure rate: 10 finished production deployments; failed: D3 (I1 3 h after it, before D4 started),
    # D4 (status), D6 (D7 put s4 back), D8 (P6 reverts P5, which D8 delivered) -> 4 / 10 = 0.4 -> low (> 15 %).
    # D9 is not failed: I2 opened 27 h after it, outside the 24 h window.
    cfr = dora.change_failure_rate
    assert (cfr.deployments, cfr.failed, cfr.rate) == (10, 4, 0.4)
    assert cfr.causes == {"status": 1, "rollback": 1, "revert": 1, "incident": 1}
    assert cfr.band == "low"
    assert [(d.id, d.causes) for d in dora.failed_deployments] == [
        (ids["D3"], ["incident"]),
        (ids["D4"], ["status"]),
        (ids["D6"], ["rollback"]),
        (ids["D8"], ["revert"]),
    ]

    # Recovery, failed deployment finished -> next successful deployment of production finished:
    #   D3 Nov 4 09:10 -> D5 Nov 5 11:10 = 26 h = 93600    D6 Nov 9 09:10 -> D7 10:05 = 55 min = 3300
    #   D4 Nov 5 09:10 -> D5 Nov 5 11:10 = 2 h = 7200      D8 Nov 10 09:10 -> D9 Nov 11 09:10 = 24 h = 86400
    # sorted 3300 7200 86400 93600: median rank 2 = 7200 (2 h < 1 day -> high), p75 rank 3, p90 rank 4.
    # Incidents opened -> resolved: I1 3 h, I2 8 h; I3 (acme/api) is still open.
    rec = dora.recovery
    d = rec.deployments
    assert (d.count, d.median_seconds, d.p75_seconds, d.p90_seconds, rec.unrecovered) == (4, 7200, 86400, 93600, 0)
    assert (rec.incidents.count, rec.incidents.median_seconds, rec.incidents.p90_seconds) == (2, 3 * H, 8 * H)
    assert rec.unresolved == 1
    assert rec.band == "high"

    # Weekly: week of Nov 2 has D1 D2 D3 D5 (4 days) and D1-D5 finished, D3 D4 failed; lead times of changes
    # merged that week 83400 87000 97800 256200 -> median rank 2 = 87000. Week of Nov 9: D6 D7 D8 D9 D10 on
    # Nov 9, 10, 11, 13; D6 D8 failed; lead times 76200 7800 87000 -> sorted, rank 2 = 76200.
    weeks = [
        (w.week, w.deployments, w.deployment_days, w.finished, w.failed, w.lead_time_median_seconds)
        for w in dora.weekly
    ]
    assert weeks == [(date(2026, 11, 2), 4, 4, 5, 2, 87000), (date(2026, 11, 9), 5, 4, 5, 2, 76200)]


async def test_cycle_time_of_the_scenario(db_url) -> None:
    await seed(db_url)
    _, cycle = await _reports(db_url)
    #        coding  pickup  review  deploy
    #   P0   75600    1800    1800      -     (not delivered)
    #   P1    7200    7200    7200   61800
    #   P2    3600    3600    7200   72600    (first review 11:00 by carol: the bot at 10:30, the author at 10:45)
    #   P3    3600      -       -    72600    (no review: ready 09:00 -> merged 15:00 = 21600 "without review")
    #   P4    3600   14400    7200  231000
    #   P5    3600    3600    7200   61800
    #   P6       0    1800    1800    4200    (never a draft: ready = created = first commit 07:00)
    #   P7    1800    1800    3600      -     (not delivered yet)
    #   P8    1800    1800    3600   79800
    # coding (9): 0 1800 1800 3600 3600 3600 3600 7200 75600 -> ranks 5, 7, 9
    # pickup (8): 1800 1800 1800 1800 3600 3600 7200 14400   -> ranks 4, 6, 8
    # review (8): 1800 1800 3600 3600 7200 7200 7200 7200    -> ranks 4, 6, 8
    # deploy (7): 4200 61800 61800 72600 72600 79800 231000  -> ranks 4, 6, 7
    assert (cycle.changes, cycle.reviewed, cycle.merged_without_review, cycle.undeployed) == (9, 8, 1, 2)
    assert stages(cycle) == {
        "coding": (9, 3600, 3600, 75600),
        "pickup": (8, 1800, 3600, 14400),
        "review": (8, 3600, 7200, 7200),
        "deploy": (7, 72600, 79800, 231000),
    }
    assert (cycle.ready_to_merge_without_review.count, cycle.ready_to_merge_without_review.median_seconds) == (1, 21600)
    # week of Nov 2: P0-P4; coding 75600 7200 3600 3600 3600 -> sorted rank 3 = 3600; deploy 61800 72600 72600
    # 231000 -> rank 2 = 72600. Week of Nov 9: P5-P8; pickup 3600 1800 1800 1800 -> rank 2 = 1800.
    first, second = cycle.weekly
    assert (first.changes, first.coding_median_seconds, first.deploy_median_seconds) == (5, 3600, 72600)
    assert (second.changes, second.pickup_median_seconds) == (4, 1800)


async def test_filters_narrow_the_scenario(db_url) -> None:
    await seed(db_url)
    # team from HYPERPAGE_TEAMS_FILE (logins compare case-insensitively): alice's changes only. Delivered lead
    # times 83400 87000 97800 256200 76200 7800 -> sorted, n=6, median rank 3 = 83400.
    dora, cycle = await _reports(db_url, teams={"core": frozenset({"alice"})}, team="core")
    assert (dora.lead_time.count, dora.lead_time.median_seconds, cycle.changes) == (6, 83400, 8)
    assert dora.change_failure_rate.deployments == 10  # deployments are per repository, not per author
    dora, cycle = await _reports(db_url, author="DAVE")
    assert (dora.lead_time.count, dora.lead_time.median_seconds, cycle.changes) == (1, 87000, 1)
    # staging: S1 only, succeeded; production incidents do not count against it
    dora, _ = await _reports(db_url, environment="staging")
    assert (dora.deployment_frequency.deployments, dora.change_failure_rate.failed) == (1, 0)
    assert dora.recovery.incidents.count == 0
    # acme/web: I3 (acme/api) leaves the incident figures
    dora, _ = await _reports(db_url, repository="acme/web")
    assert (dora.recovery.incidents.count, dora.recovery.unresolved) == (2, 0)
    assert dora.change_failure_rate.failed == 4
    dora, cycle = await _reports(db_url, repository="acme/none")
    assert (dora.deployment_frequency.deployments, cycle.changes, dora.deployment_frequency.band) == (0, 0, None)
    # a window of its own: only Nov 9-15, D6-D10; D6 and D8 failed -> 2 / 5
    dora, _ = await _reports(db_url, **{"from": "2026-11-09"})
    assert (dora.change_failure_rate.deployments, dora.change_failure_rate.failed) == (5, 2)
