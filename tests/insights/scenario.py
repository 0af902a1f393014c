"""The hand-computed world of tests/insights/test_scenario.py: one repository deployed to production ten times
in two weeks (2026-11-02 .. 2026-11-15), nine merged pull requests, three incidents.

    D1  Nov 2  09:00-09:10 SUCCESS s1   range unknown (the first deployment the sync saw)
    D2  Nov 3  09:00-09:10 SUCCESS s2   {m1}
    D3  Nov 4  09:00-09:10 SUCCESS s3   {m2}        incident I1 opened Nov 4 12:00 (3 h later) -> failed
    D4  Nov 5  09:00-09:10 FAILURE s4   {m3}        failed by its status
    D5  Nov 5  11:00-11:10 SUCCESS s4   {}          the retry of s4: delivers m3
    D6  Nov 9  09:00-09:10 SUCCESS s6   {m4}        rolled back by D7 -> failed
    D7  Nov 9  10:00-10:05 SUCCESS s4   {}          puts s4 (deployed before) back: a rollback
    D8  Nov 10 09:00-09:10 SUCCESS s8   {m4, m5}    P6 reverts P5 (m5) -> failed
    D9  Nov 11 09:00-09:10 SUCCESS s9   {m6}        incident I2 opened Nov 12 12:00, 27 h later: outside 24 h
    D10 Nov 13 09:00-09:10 SUCCESS s10  {m8, direct}
    S1  Nov 3  08:00-08:05 SUCCESS x1   staging (not production)

    P0 merged Nov 2 08:00, before D1: unattributed     P5 merged Nov 9 16:00 -> D8
    P1 merged Nov 2 16:00 -> D2                        P6 merged Nov 11 08:00 -> D9, reverts P5
    P2 merged Nov 3 13:00 -> D3 (first review from     P7 merged Nov 14 10:00, after D10: awaiting deployment
       the reviews table: bot and author skipped)      P8 merged Nov 12 11:00 -> D10, by dave
    P3 merged Nov 4 15:00 -> D4 failed, D5, no review
    P4 merged Nov 6 17:00 -> D6
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hyperpage.insights.models import Deployment, DeploymentCommit, Incident, PullRequestReview, PullRequestTimeline
from tests import factories as f


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


SYNCED = at(20, 0)
DEPLOYMENTS = (
    # name, created, finished, status, sha, commits_known, commits
    ("D1", at(2, 9), at(2, 9, 10), "SUCCESS", "s1", False, ()),
    ("D2", at(3, 9), at(3, 9, 10), "SUCCESS", "s2", True, ("m1",)),
    ("D3", at(4, 9), at(4, 9, 10), "SUCCESS", "s3", True, ("m2",)),
    ("D4", at(5, 9), at(5, 9, 10), "FAILURE", "s4", True, ("m3",)),
    ("D5", at(5, 11), at(5, 11, 10), "SUCCESS", "s4", True, ()),
    ("D6", at(9, 9), at(9, 9, 10), "SUCCESS", "s6", True, ("m4",)),
    ("D7", at(9, 10), at(9, 10, 5), "SUCCESS", "s4", True, ()),
    ("D8", at(10, 9), at(10, 9, 10), "SUCCESS", "s8", True, ("m4", "m5")),
    ("D9", at(11, 9), at(11, 9, 10), "SUCCESS", "s9", True, ("m6",)),
    ("D10", at(13, 9), at(13, 9, 10), "SUCCESS", "s10", True, ("m8", "direct")),
)
CHANGES = (
    # name, author, first commit, ready (None: never a draft), first review in the timeline, merged, merge sha
    ("P0", "alice", at(1, 10), at(2, 7), at(2, 7, 30), at(2, 8), "m0"),
    ("P1", "alice", at(2, 10), at(2, 12), at(2, 14), at(2, 16), "m1"),
    ("P2", "alice", at(3, 9), at(3, 10), None, at(3, 13), "m2"),
    ("P3", "alice", at(4, 8), at(4, 9), None, at(4, 15), "m3"),
    ("P4", "alice", at(6, 10), at(6, 11), at(6, 15), at(6, 17), "m4"),
    ("P5", "alice", at(9, 12), at(9, 13), at(9, 14), at(9, 16), "m5"),
    ("P6", "alice", at(11, 7), None, at(11, 7, 30), at(11, 8), "m6"),
    ("P7", "alice", at(14, 8), at(14, 8, 30), at(14, 9), at(14, 10), "m7"),
    ("P8", "dave", at(12, 9), at(12, 9, 30), at(12, 10), at(12, 11), "m8"),
)


def stages(cycle: Any) -> dict[str, tuple[int, int | None, int | None, int | None]]:
    """A cycle-time report's four stages as (count, median, p75, p90), to compare with hand-computed ones."""
    return {
        name: (s.count, s.median_seconds, s.p75_seconds, s.p90_seconds)
        for name, s in (
            ("coding", cycle.coding),
            ("pickup", cycle.pickup),
            ("review", cycle.review),
            ("deploy", cycle.deploy),
        )
    }


async def seed(db_url: str) -> dict[str, int]:
    """Insert the world; returns the ids of the named rows."""
    ids: dict[str, int] = {}
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="acme-github")
        web = await f.add_repository(s, connection=gh, full_name="acme/web")
        api = await f.add_repository(s, connection=gh, full_name="acme/api")
        for name, created, finished, status, sha, known, commits in DEPLOYMENTS:
            ids[name] = await _deployment(
                s, gh.id, web.id, name, "production", True, created, finished, status, sha, known=known
            )
            for commit in commits:
                s.add(DeploymentCommit(deployment_id=ids[name], sha=commit))
        ids["S1"] = await _deployment(s, gh.id, web.id, "S1", "staging", False, at(3, 8), at(3, 8, 5), "SUCCESS", "x1")
        numbers: dict[str, int] = {}
        for name, author, first_commit, ready, review, merged, sha in CHANGES:
            pr = await f.add_pull_request(
                s,
                connection=gh,
                repository=web,
                title=f"Change {name}",
                author=author,
                state="MERGED",
                original_state="merged",
                created_at=ready or first_commit,
                updated_at=merged,
                merged_at=merged,
                closed_at=merged,
            )
            ids[name], numbers[name] = pr.id, pr.number
            s.add(
                PullRequestTimeline(
                    pull_request_id=pr.id,
                    first_commit_at=first_commit,
                    ready_for_review_at=ready,
                    first_review_at=review,
                    first_reviewer="bob" if review else None,
                    merge_commit_sha=sha,
                    reverts_number=numbers["P5"] if name == "P6" else None,
                    synced_at=SYNCED,
                )
            )
        # P2's timeline lacks its first review: the reviews say it, once the bot and the author are skipped
        for n, (reviewer, bot, when) in enumerate(
            (("dependabot[bot]", True, at(3, 10, 30)), ("Alice", False, at(3, 10, 45)), ("carol", False, at(3, 11)))
        ):
            s.add(
                PullRequestReview(
                    pull_request_id=ids["P2"],
                    external_id=f"r{n}",
                    reviewer=reviewer,
                    reviewer_is_bot=bot,
                    state="COMMENTED",
                    submitted_at=when,
                )
            )
        for name, repository, opened, resolved in (
            ("I1", web.id, at(4, 12), at(4, 15)),
            ("I2", web.id, at(12, 12), at(12, 20)),
            ("I3", api.id, at(14, 10), None),
        ):
            incident = Incident(
                connection_id=gh.id,
                repository_id=repository,
                external_id=name,
                key=f"#{name}",
                title=f"Incident {name}",
                environment=None,
                opened_at=opened,
                resolved_at=resolved,
                synced_at=SYNCED,
            )
            s.add(incident)
            await s.flush()
            ids[name] = incident.id
    return ids


async def _deployment(
    s, connection_id, repository_id, name, environment, production, created, finished, status, sha, known=True
) -> int:
    row = Deployment(
        connection_id=connection_id,
        repository_id=repository_id,
        external_id=name,
        environment=environment,
        production=production,
        sha=sha,
        ref="main",
        status=status,
        original_status=status.lower(),
        source="DEPLOYMENT",
        creator="deploy-bot",
        web_url=f"https://example.test/deployments/{name}",
        created_at=created,
        finished_at=finished,
        commits_known=known,
        synced_at=SYNCED,
    )
    s.add(row)
    await s.flush()
    return row.id
