"""Each flaw users report in DevLake or Middleware, on a small world: the peer's rule (a few lines, written here
as the issue describes it) gives a wrong figure, ours gives the right one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hyperpage.insights import metrics
from hyperpage.insights.cycle import cycle_time, stage_rows
from hyperpage.insights.rows import ChangeRow, DeploymentRow, IncidentRow

START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def deployment(n: int, at: datetime, *, status="SUCCESS", sha=None, commits=(), known=True) -> DeploymentRow:
    return DeploymentRow(
        id=n,
        repository_id=1,
        environment="production",
        production=True,
        sha=sha or f"s{n}",
        status=status,
        created_at=at,
        finished_at=at + timedelta(minutes=10),
        commits_known=known,
        commits=frozenset(commits),
    )


def change(n: int, *, first_commit, merged, sha, ready=None, review=None, **extra) -> ChangeRow:
    return ChangeRow(
        id=n,
        repository_id=1,
        number=n,
        author="alice",
        created_at=ready or first_commit,
        merged_at=merged,
        first_commit_at=first_commit,
        ready_for_review_at=ready,
        first_review_at=review,
        merge_commit_sha=sha,
        **extra,
    )


def incident(n: int, opened: datetime, resolved: datetime | None = None) -> IncidentRow:
    return IncidentRow(id=n, repository_id=1, environment=None, opened_at=opened, resolved_at=resolved)


def rate(deployments, changes=(), incidents=()) -> float:
    verdicts = metrics.judge(
        deployments, list(changes), list(incidents), start=START, end=END, incident_window=timedelta(hours=24)
    )
    return sum(v.failed for v in verdicts) / len(verdicts)


def test_devlake_8150_an_incident_weeks_later_does_not_fail_the_last_deployment() -> None:
    # apache/devlake#8150: each incident is pinned to the latest deployment before it, with no time window
    deployments = [deployment(1, START + DAY)]
    incidents = [incident(1, START + 20 * DAY)]
    devlake = len({max((d for d in deployments if d.finished_at <= i.opened_at), key=lambda d: d.created_at).id
                   for i in incidents}) / len(deployments)  # fmt: skip
    assert devlake == 1.0
    assert rate(deployments, incidents=incidents) == 0.0  # 19 days is far outside the 24 h window


def test_devlake_8890_the_rate_counts_failed_deployments_not_incidents() -> None:
    # before apache/devlake PR #8890: incidents / deployments. Three incidents after one bad deployment of two.
    deployments = [deployment(1, START + DAY), deployment(2, START + 3 * DAY)]
    incidents = [incident(n, START + DAY + timedelta(hours=n)) for n in (1, 2, 3)]
    assert len(incidents) / len(deployments) == 1.5  # "150 %": not a rate of anything
    assert rate(deployments, incidents=incidents) == 0.5  # one failed deployment of two


def test_devlake_7193_8249_changes_before_the_first_known_deployment_are_left_out() -> None:
    # apache/devlake#7193, #8249: every commit before the first recorded deployment is attributed to it
    first = deployment(1, START + DAY, known=False)  # the sync's first deployment: no previous one to compare
    old = change(1, first_commit=START - 180 * DAY, merged=START - 179 * DAY, sha="m1")
    devlake_lead = first.finished_at - old.first_commit_at
    assert devlake_lead > timedelta(days=180)  # a six-month "lead time" that nobody waited
    delivered = metrics.deliveries(metrics.streams([first]))
    ours = metrics.lead_times([old], [first], delivered)
    assert (ours.summary.count, ours.unattributed) == (0, 1)


def test_middleware_revert_only_incidents_an_incident_without_a_revert_fails_the_deployment() -> None:
    # Middleware's open-source edition: only revert PRs are incidents
    deployments = [deployment(1, START + DAY), deployment(2, START + 5 * DAY)]
    incidents = [incident(1, START + DAY + timedelta(hours=2), START + DAY + timedelta(hours=3))]
    changes: list[ChangeRow] = []
    middleware = sum(1 for c in changes if c.reverts_number or c.reverts_sha) / len(deployments)
    assert middleware == 0.0
    assert rate(deployments, incidents=incidents) == 0.5
    # ...and a revert without an incident fails the deployment that brought the reverted change too
    bad = change(1, first_commit=START, merged=START + timedelta(hours=12), sha="m1")
    revert = change(2, first_commit=START + 2 * DAY, merged=START + 2 * DAY, sha="m2", reverts_number=1)
    deployments = [
        deployment(1, START + DAY, commits={"m1"}),
        deployment(2, START + 3 * DAY, commits={"m2"}),
    ]
    assert rate(deployments, changes=[bad, revert]) == 0.5


def test_middleware_a_merge_is_not_a_deployment() -> None:
    # Middleware takes a PR merge as a deployment by default: three merges look like three deployments, and the
    # days the changes then waited for the one real deployment vanish from the lead time
    changes = [
        change(n, first_commit=START + n * timedelta(hours=1), merged=START + DAY + n * timedelta(hours=1), sha=f"m{n}")
        for n in (1, 2, 3)
    ]
    deployments = [deployment(1, START - DAY, known=False), deployment(2, START + 4 * DAY, commits={"m1", "m2", "m3"})]
    middleware_deployments = len(changes)
    middleware_lead = sorted(c.merged_at - c.first_commit_at for c in changes)[1]
    assert (middleware_deployments, middleware_lead) == (3, DAY)
    assert metrics.frequency(deployments, start=START, end=END).deployments == 1
    ours = metrics.lead_times(changes, deployments, metrics.deliveries(metrics.streams(deployments)))
    assert (
        ours.summary.median == (START + 4 * DAY + timedelta(minutes=10) - (START + timedelta(hours=2))).total_seconds()
    )


def test_middleware_696_a_change_without_review_keeps_its_ready_to_merge_time() -> None:
    # middlewarehq/middleware#696: with no review events the PR's time from ready to merge is lost
    pr = change(1, first_commit=START, ready=START + timedelta(hours=1), merged=START + timedelta(hours=6), sha="m1")
    # Middleware's stages: first commit -> open, open -> first response, first response -> approval (rework),
    # approval -> merge. Without a review the last three have no start, so the PR's cycle is its first hour only.
    middleware = {"first_commit_to_open": 3600.0, "first_response": None, "rework": None, "merge": None}
    assert sum(v for v in middleware.values() if v is not None) == 3600
    ours = cycle_time(stage_rows([pr], {}))
    assert (ours.unreviewed, ours.pickup.count, ours.review.count) == (1, 0, 0)
    assert ours.merged_without_review.median == 5 * 3600  # ready -> merge, reported on its own
    assert ours.coding.median + ours.merged_without_review.median == 6 * 3600  # first commit -> merge, all of it
    assert ours.coding.median == 3600


async def test_devlake_3609_5743_7435_deployments_come_from_the_deployments_api_not_job_names(db_url) -> None:
    # DevLake guesses deployments from CI job names matching a regex (#3609, #5743); users ask for GitHub's
    # Deployments API and its environments instead (#7435, #5178). A workflow called "deploy-production" is a
    # pipeline to us, not a deployment; the deployment to the `production-eu` environment is one.
    from hyperpage.config import load_settings
    from hyperpage.db.session import create_engine
    from hyperpage.insights import service
    from hyperpage.insights.models import Deployment
    from hyperpage.insights.schemas import InsightsQuery
    from tests import factories as f

    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github")
        repo = await f.add_repository(s, connection=gh, full_name="acme/web")
        for n in range(3):
            await f.add_pipeline(
                s, connection=gh, repository=repo, name="deploy-production", updated_at=START + n * DAY
            )
        s.add(
            Deployment(
                connection_id=gh.id,
                repository_id=repo.id,
                external_id="1",
                environment="production-eu",
                production=True,
                sha="abc",
                status="SUCCESS",
                original_status="success",
                source="DEPLOYMENT",
                created_at=START + DAY,
                finished_at=START + DAY + timedelta(minutes=5),
                commits_known=False,
                synced_at=START,
            )
        )
    devlake = 3  # the three runs whose job name matches /deploy/
    settings = load_settings(database_url=db_url)
    engine = create_engine(settings)
    try:
        for params, expected in (({}, 1), ({"environment": "production-eu"}, 1), ({"environment": "staging"}, 0)):
            query = InsightsQuery.model_validate({"from": "2026-11-01", "to": "2026-11-30", **params})
            report = await service.dora(engine, query=query, settings=settings, teams={})
            assert report.deployment_frequency.deployments == expected != devlake
    finally:
        await engine.dispose()
