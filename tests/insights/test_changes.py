"""The fast path (queries.load_window_changes + changes.tally) gives the figures of the definitions' own functions
(metrics.lead_times, metrics.judge, cycle.stage_rows over ChangeRows built here from the same world), on a
generated world full of edge cases: retries, rollbacks, cancelled and running deployments, unknown ranges, a merge
commit in several ranges and environments, reviews by bots, by the author and after the merge, changes without a
timeline, reverts by number and by sha, and times with microseconds. SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from hyperpage.config import load_settings
from hyperpage.db.session import create_engine
from hyperpage.insights import metrics, service
from hyperpage.insights.cycle import cycle_time, stage_rows
from hyperpage.insights.models import DeploymentCommit, Incident, PullRequestReview, PullRequestTimeline
from hyperpage.insights.rows import ChangeRow, DeploymentRow, IncidentRow
from hyperpage.insights.schemas import InsightsQuery
from hyperpage.insights.stats import in_window, summarise, week_of
from tests import factories as f
from tests.insights.scenario import _deployment

START = datetime(2026, 10, 5, tzinfo=UTC)  # the window of WINDOW, a Monday
END = datetime(2026, 10, 26, tzinfo=UTC)
WINDOW = {"from": "2026-10-05", "to": "2026-10-25"}
ENVIRONMENTS = (("production", True), ("production-eu", True), ("staging", False))
AUTHORS = ("alice", "Bob", "carol", None)


def _moment(rnd: random.Random, low: datetime, high: datetime) -> datetime:
    span = int((high - low).total_seconds())
    return low + timedelta(seconds=rnd.randrange(span), microseconds=rnd.randrange(1_000_000))


async def _seed(db_url: str, seed: int) -> dict[str, list]:
    """Insert a random world; returns it as the rows the definitions' functions read."""
    rnd = random.Random(seed)
    world: dict[str, list] = {"deployments": [], "changes": [], "incidents": []}
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github")
        repositories = [await f.add_repository(s, connection=gh, full_name=f"acme/r{n}") for n in range(2)]
        for repo in repositories:
            merged = sorted(_moment(rnd, START - timedelta(days=20), END + timedelta(days=5)) for _ in range(60))
            changes = []
            for n, merged_at in enumerate(merged):
                author = rnd.choice(AUTHORS)
                created = merged_at - timedelta(hours=rnd.randrange(1, 96), microseconds=rnd.randrange(999_999))
                pr = await f.add_pull_request(
                    s,
                    connection=gh,
                    repository=repo,
                    number=1000 * repo.id + n,
                    author=author,
                    state="MERGED",
                    created_at=created,
                    updated_at=merged_at,
                    merged_at=merged_at,
                )
                timeline = rnd.random() > 0.1
                first_commit = None if rnd.random() < 0.1 else created - timedelta(minutes=rnd.randrange(1, 3000))
                ready = None if rnd.random() < 0.3 else _moment(rnd, created, merged_at)
                review = (
                    None
                    if rnd.random() < 0.5
                    else _moment(rnd, created - timedelta(hours=1), merged_at + timedelta(hours=5))
                )
                reverts_number = rnd.choice(changes).number if changes and rnd.random() < 0.08 else None
                reverts_sha = rnd.choice(changes).merge_commit_sha if changes and rnd.random() < 0.05 else None
                sha = f"m{pr.id}" if timeline else None
                if timeline:
                    s.add(
                        PullRequestTimeline(
                            pull_request_id=pr.id,
                            first_commit_at=first_commit,
                            ready_for_review_at=ready,
                            first_review_at=review,
                            merge_commit_sha=sha,
                            reverts_number=reverts_number,
                            reverts_sha=reverts_sha,
                            synced_at=END,
                        )
                    )
                reviews = []
                for k in range(rnd.randrange(4)):
                    reviewer, bot = rnd.choice(
                        ((author and author.upper(), False), ("ci[bot]", True), ("dave", False), (None, False))
                    )
                    when = _moment(rnd, created, merged_at + timedelta(hours=3))
                    state = rnd.choice(("APPROVED", "COMMENTED", "PENDING"))
                    s.add(
                        PullRequestReview(
                            pull_request_id=pr.id,
                            external_id=f"{pr.id}-{k}",
                            reviewer=reviewer,
                            reviewer_is_bot=bot,
                            state=state,
                            submitted_at=when,
                        )
                    )
                    by_other = reviewer is None or author is None or reviewer.lower() != author.lower()
                    if not bot and state != "PENDING" and by_other:
                        reviews.append(when)
                from_reviews = min(reviews) if reviews else None
                changes.append(
                    ChangeRow(
                        id=pr.id,
                        repository_id=repo.id,
                        number=pr.number,
                        author=author,
                        created_at=created,
                        merged_at=merged_at,
                        first_commit_at=first_commit if timeline else None,
                        ready_for_review_at=ready if timeline else None,
                        first_review_at=(review or from_reviews) if timeline else from_reviews,
                        merge_commit_sha=sha,
                        reverts_number=reverts_number if timeline else None,
                        reverts_sha=reverts_sha if timeline else None,
                    )
                )
            world["changes"] += changes
            for environment, production in ENVIRONMENTS:
                created = START - timedelta(days=15)
                shas: list[str] = []
                pending = [c for c in changes if c.merge_commit_sha]
                for k in range(60):
                    created += timedelta(hours=rnd.randrange(4, 60), microseconds=rnd.randrange(1_000_000))
                    if created > END - timedelta(days=3):  # the changes of the last days await a deployment
                        break
                    status = rnd.choices(("SUCCESS", "FAILURE", "RUNNING", "CANCELLED"), (70, 15, 5, 10))[0]
                    roll = rnd.random()
                    sha = shas[-1] if roll < 0.1 and shas else rnd.choice(shas) if roll < 0.2 and shas else f"s{k}"
                    shas.append(sha)
                    known = k > 0 and rnd.random() > 0.1
                    commits = {c.merge_commit_sha for c in pending if c.merged_at < created}
                    pending = [c for c in pending if c.merged_at >= created or rnd.random() < 0.1]  # some again
                    commits.add(f"direct-{k}")
                    finished = None if status == "RUNNING" else created + timedelta(minutes=rnd.randrange(1, 30))
                    name = f"{repo.id}-{environment}-{k}"
                    deployment_id = await _deployment(
                        s, gh.id, repo.id, name, environment, production, created, finished, status, sha, known=known
                    )
                    for commit in commits if known else ():
                        s.add(DeploymentCommit(deployment_id=deployment_id, sha=commit))
                    world["deployments"].append(
                        DeploymentRow(
                            deployment_id, repo.id, environment, production, sha, status, created, finished, known,
                            frozenset(commits if known else ()),
                        )
                    )  # fmt: skip
            for n in range(6):
                opened = _moment(rnd, START, END)
                resolved = None if n % 3 == 0 else opened + timedelta(hours=rnd.randrange(1, 30))
                environment = rnd.choice((None, "production", "staging"))
                incident = Incident(
                    connection_id=gh.id,
                    repository_id=rnd.choice((repo.id, None)),
                    external_id=f"{repo.id}-{n}",
                    key=f"#{n}",
                    title="down",
                    environment=environment,
                    opened_at=opened,
                    resolved_at=resolved,
                    synced_at=END,
                )
                s.add(incident)
                await s.flush()
                world["incidents"].append(
                    IncidentRow(incident.id, incident.repository_id, environment, opened, resolved)
                )
    return world


def _expected(world: dict[str, list], environment: str | None, authors: frozenset[str] | None) -> dict:
    """The figures as the definitions' own functions give them (the insights before the fast path)."""
    deployments = [
        d for d in world["deployments"] if (d.production if environment is None else d.environment == environment)
    ]
    changes = world["changes"]
    window = [
        c
        for c in changes
        if in_window(c.merged_at, START, END) and (authors is None or (c.author or "").lower() in authors)
    ]
    delivered = metrics.deliveries(metrics.streams(deployments))
    lead = metrics.lead_times(window, deployments, delivered)
    incidents = [i for i in world["incidents"] if START <= i.opened_at < END + timedelta(hours=24)]
    verdicts = metrics.judge(deployments, changes, incidents, start=START, end=END, incident_window=timedelta(hours=24))
    rows = stage_rows(window, delivered)
    total = cycle_time(rows)
    by_week = defaultdict(list)
    for row in rows:
        by_week[week_of(row.change.merged_at)].append(row)
    leads = defaultdict(list)
    for c in window:
        if c.id in lead.by_change:
            leads[week_of(c.merged_at)].append(lead.by_change[c.id])
    return {
        "lead": (lead.summary, lead.unattributed, lead.awaiting, lead.incomplete),
        "failed": [(v.deployment.id, v.causes) for v in verdicts if v.failed],
        "finished": len(verdicts),
        "cycle": total,
        "weeks": {week: cycle_time(part) for week, part in by_week.items()},
        "lead_weeks": {week: summarise(values).median for week, values in leads.items()},
    }


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_fast_path_gives_the_figures_of_the_definitions(db_url, seed) -> None:
    world = await _seed(db_url, seed)
    settings = load_settings(database_url=db_url)
    engine = create_engine(settings)
    teams = {"core": frozenset({"alice", "bob"})}
    try:
        for params, environment, authors in (
            ({}, None, None),
            ({"environment": "staging"}, "staging", None),
            ({"author": "BOB"}, None, frozenset({"bob"})),
            ({"team": "core"}, None, frozenset({"alice", "bob"})),
        ):
            query = InsightsQuery.model_validate({**WINDOW, **params})
            dora, cycle = (
                await service.dora(engine, query=query, settings=settings, teams=teams),
                await service.cycle_time(engine, query=query, settings=settings, teams=teams),
            )
            want = _expected(world, environment, authors)
            summary, unattributed, awaiting, incomplete = want["lead"]
            lt = dora.lead_time
            assert (lt.count, lt.median_seconds, lt.p75_seconds, lt.p90_seconds) == (
                summary.count, summary.median, summary.p75, summary.p90,
            )  # fmt: skip
            assert (lt.unattributed, lt.awaiting_deployment, lt.incomplete) == (unattributed, awaiting, incomplete)
            assert [(d.id, tuple(d.causes)) for d in dora.failed_deployments] == want["failed"]
            assert dora.change_failure_rate.deployments == want["finished"]
            total = want["cycle"]
            assert (cycle.changes, cycle.reviewed, cycle.merged_without_review, cycle.undeployed) == (
                total.changes, total.reviewed, total.unreviewed, total.undeployed,
            )  # fmt: skip
            for name, got in (
                ("coding", cycle.coding),
                ("pickup", cycle.pickup),
                ("review", cycle.review),
                ("deploy", cycle.deploy),
                ("merged_without_review", cycle.ready_to_merge_without_review),
            ):
                s = getattr(total, name)
                assert (got.count, got.median_seconds, got.p75_seconds, got.p90_seconds) == (
                    s.count, s.median, s.p75, s.p90,
                ), name  # fmt: skip
            for week in cycle.weekly:
                part = want["weeks"].get(week.week)
                medians = (week.coding_median_seconds, week.pickup_median_seconds, week.review_median_seconds)
                if part is None:
                    assert week.changes == 0 and medians == (None, None, None)
                    continue
                assert week.changes == part.changes
                assert medians == (part.coding.median, part.pickup.median, part.review.median)
                assert week.deploy_median_seconds == part.deploy.median
            for week in dora.weekly:
                assert week.lead_time_median_seconds == want["lead_weeks"].get(week.week)
            # the world is not degenerate: every path of the definitions is taken
            if not params:
                assert summary.count and unattributed and awaiting and incomplete and total.unreviewed, want["lead"]
                assert {c for _id, causes in want["failed"] for c in causes} == set(metrics.CAUSES)
    finally:
        await engine.dispose()
