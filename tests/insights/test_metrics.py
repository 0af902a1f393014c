"""Edge cases of the definitions (docs/insights.md) on pure rows: percentiles, deliveries across failures and
rollbacks, what a rollback, a revert and an incident are, reviews after the merge, durations in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hyperpage.insights import bands, metrics
from hyperpage.insights.charts import human
from hyperpage.insights.cycle import stages
from hyperpage.insights.rows import IncidentRow
from hyperpage.insights.stats import percentile, summarise
from tests.insights.test_peer_flaws import DAY, START, change, deployment, incident, rate

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([5], (5, 5, 5)), ([1, 2], (1, 2, 2)), ([4, 1, 3, 2], (2, 3, 4)), (list(range(1, 11)), (5, 8, 9))],
)
def test_nearest_rank_percentiles(values, expected) -> None:
    s = summarise(values)
    assert (s.median, s.p75, s.p90) == expected and s.count == len(values)
    assert summarise([]).median is None
    with pytest.raises(ValueError):
        percentile([], 50)


def test_a_rollback_after_a_failed_deployment_delivers_nothing_the_next_forward_one_does() -> None:
    lines = metrics.streams(
        [
            deployment(1, START, sha="a"),
            deployment(2, START + DAY, status="FAILURE", sha="b", commits={"m1"}),
            deployment(3, START + 2 * DAY, sha="a"),  # back to a: m1 is not in production
            deployment(4, START + 3 * DAY, sha="c", commits={"m1", "m2"}),
            deployment(5, START + 4 * DAY, status="CANCELLED", sha="d", commits={"m3"}),
            deployment(6, START + 5 * DAY, status="RUNNING", sha="e", commits={"m3"}),
        ]
    )
    delivered = metrics.deliveries(lines)
    assert {sha: d.id for (_repo, sha), d in delivered.items()} == {"m1": 4, "m2": 4}  # m3: not yet
    assert metrics.rolled_back(lines) == {2}  # 3 put a back after 2; a retry of the same sha would not count


def test_a_retry_of_the_same_sha_is_not_a_rollback() -> None:
    lines = metrics.streams([deployment(1, START, sha="a"), deployment(2, START + H, sha="a")])
    assert metrics.rolled_back(lines) == set()


def test_incident_matching_repository_environment_and_bounds() -> None:
    d1, d2 = deployment(1, START), deployment(2, START + 10 * H)
    finished = d1.finished_at
    assert rate([d1, d2], incidents=[incident(1, finished)]) == 0.5  # at the finish counts
    assert rate([d1, d2], incidents=[incident(1, START + 11 * H)]) == 0.5  # after d2 started: d2's, not d1's
    assert metrics.judge([d1, d2], [], [incident(1, START + 11 * H)], start=START, end=START + DAY,
                         incident_window=DAY)[1].causes == ("incident",)  # fmt: skip
    other_repo = IncidentRow(id=1, repository_id=2, environment=None, opened_at=finished + H, resolved_at=None)
    no_repo = IncidentRow(id=1, repository_id=None, environment=None, opened_at=finished + H, resolved_at=None)
    staging = IncidentRow(id=1, repository_id=1, environment="staging", opened_at=finished + H, resolved_at=None)
    assert rate([d1, d2], incidents=[other_repo]) == 0.0
    assert rate([d1, d2], incidents=[no_repo]) == 0.5  # not tied to a repository: may hit any
    assert rate([d1, d2], incidents=[staging]) == 0.0  # production deployments, staging incident


def test_a_revert_shipped_with_the_change_it_reverts_is_no_failure() -> None:
    bad = change(1, first_commit=START - DAY, merged=START - 20 * H, sha="m1")
    revert = change(2, first_commit=START - 10 * H, merged=START - 9 * H, sha="m2", reverts_sha="m1")
    together = [deployment(1, START - 2 * DAY, known=False), deployment(2, START, commits={"m1", "m2"})]
    assert rate(together[1:], changes=[bad, revert]) == 0.0
    assert rate([deployment(2, START, commits={"m1", "m2"})], changes=[bad, revert]) == 0.0


def test_a_review_after_the_merge_is_no_review() -> None:
    late = change(1, first_commit=START, ready=START + H, review=START + 5 * H, merged=START + 3 * H, sha="m1")
    s = stages(late, None)
    assert (s.pickup, s.review, s.unreviewed, s.deploy) == (None, None, 2 * 3600, None)
    early = change(2, first_commit=START, ready=START + 2 * H, review=START + H, merged=START + 3 * H, sha="m2")
    assert stages(early, START + 4 * H).pickup == 0  # reviewed while in draft: picked up the moment it was ready


def test_bands_at_their_bounds() -> None:
    assert bands.change_failure_rate(0.05) == "elite" and bands.change_failure_rate(0.0501) == "high"
    assert bands.change_failure_rate(0.15) == "medium" and bands.change_failure_rate(0.16) == "low"
    assert bands.lead_time(86_399) == "elite" and bands.lead_time(86_400) == "high"
    assert bands.deployment_frequency(1.0) == "elite" and bands.deployment_frequency(1 / 7) == "high"
    assert bands.deployment_frequency(0.0) == "low" and bands.deployment_frequency(None) is None
    assert bands.recovery_time(None) is None and bands.recovery_time(3599) == "elite"


def test_durations_in_words() -> None:
    assert [human(v) for v in (None, 42, 600, 7200, 7800, 87000)] == [
        "\u2013",
        "42 s",
        "10 min",
        "2 h",
        "2 h 10 min",
        "1 d 0 h",
    ]
