"""A hand-written GitLab project and Jira site for tests/insights/test_gitlab_scenario.py, served through
httpx.MockTransport in GitLab's and Jira's documented shapes, so the numbers there come out of the real sync.

Project acme/shop (id 7), all four merge requests by alice, merged:

    !1 commits Nov 2 08:00, 09:00; opened 10:00 as a draft, "marked ... as **ready**" 11:00; a bot's comment 11:10,
       alice's own 11:20, bob "approved this merge request" 12:00; merged 13:00, merge commit m1
    !2 commit Nov 3 09:00; opened 10:00 (never a draft); carol's comment 11:00; merged 14:00, squashed: m2
    !3 commit Nov 4 08:00; opened 09:00; no note; merged 10:00, m3
    !4 commit Nov 5 08:00; opened 08:30, "This reverts merge request !3"; bob approves 08:45; merged 09:00, m4

Deployments (production tier unless said), each finishing 10 minutes after it starts; the compare between
consecutive ones of an environment is what GitLab's repository compare returns:

    D1 Nov 2 06:00 success s0   the first: nothing to compare with
    D2 Nov 2 15:00 success m1   compare s0..m1 = c1a c1b m1
    D3 Nov 3 16:00 failed  m2   compare m1..m2 = m2
    D4 Nov 3 18:00 success m2   the retry: same sha, nothing asked
    D5 Nov 4 11:00 success m3   compare m2..m3 = m3
    D6 Nov 5 10:00 success m4   compare m3..m4 = m4
    S1 Nov 2 07:00 success s0   `review` environment, tier staging

Incidents: GitLab incident #9 (issue_type incident) opened Nov 2 18:00, closed 20:00; Jira OPS-5 (issue type
Incident) opened Nov 5 20:00, done Nov 5 23:00 by a workflow that sets no resolution (only
statuscategorychangedate says when).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx


def iso(day: int, hour: int, minute: int = 0) -> str:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC).isoformat().replace("+00:00", ".000Z")


def _user(name: str) -> dict[str, Any]:
    return {"id": sum(map(ord, name)), "username": name, "name": name.title(), "state": "active"}


PROJECT = {
    "id": 7,
    "path_with_namespace": "acme/shop",
    "default_branch": "main",
    "web_url": "https://gitlab.test/acme/shop",
}


def _mr(iid: int, opened: str, merged: str, *, merge: str | None, squash: str | None = None, **more: Any) -> dict:
    return {
        "id": 700 + iid,
        "iid": iid,
        "project_id": 7,
        "title": f"Change {iid}",
        "description": "",
        "state": "merged",
        "created_at": opened,
        "updated_at": merged,
        "merged_at": merged,
        "closed_at": None,
        "target_branch": "main",
        "source_branch": f"change-{iid}",
        "author": _user("alice"),
        "draft": False,
        "labels": [],
        "sha": f"head{iid}",
        "merge_commit_sha": merge,
        "squash_commit_sha": squash,
        "web_url": f"https://gitlab.test/acme/shop/-/merge_requests/{iid}",
        **more,
    }


MERGE_REQUESTS = [
    _mr(1, iso(2, 10), iso(2, 13), merge="m1"),
    _mr(2, iso(3, 10), iso(3, 14), merge=None, squash="m2"),
    _mr(3, iso(4, 9), iso(4, 10), merge="m3"),
    _mr(4, iso(5, 8, 30), iso(5, 9), merge="m4", description='Revert "Change 3"\n\nThis reverts merge request !3'),
]
COMMITS = {1: [iso(2, 9), iso(2, 8)], 2: [iso(3, 9)], 3: [iso(4, 8)], 4: [iso(5, 8)]}  # newest first, as GitLab


def _note(n: int, who: dict[str, Any], body: str, at: str, *, system: bool) -> dict[str, Any]:
    return {"id": n, "body": body, "author": who, "created_at": at, "updated_at": at, "system": system}


NOTES = {
    1: [
        _note(11, _user("alice"), "marked this merge request as **ready**", iso(2, 11), system=True),
        _note(12, _user("project_7_bot_5f2a"), "Automated review: fine.", iso(2, 11, 10), system=False),
        _note(13, _user("alice"), "Pushed the fix.", iso(2, 11, 20), system=False),
        _note(14, _user("bob"), "approved this merge request", iso(2, 12), system=True),
    ],
    2: [_note(21, _user("carol"), "Why this name?", iso(3, 11), system=False)],
    3: [],
    4: [_note(41, _user("bob"), "approved this merge request", iso(5, 8, 45), system=True)],
}


def _deployment(n: int, environment: str, tier: str, day: int, hour: int, sha: str, status: str) -> dict:
    return {
        "id": 100 + n,
        "iid": n,
        "ref": "main",
        "sha": sha,
        "created_at": iso(day, hour),
        "updated_at": iso(day, hour, 10),
        "finished_at": iso(day, hour, 10),
        "status": status,
        "user": _user("deployer"),
        "environment": {"id": 1, "name": environment, "tier": tier},
        "deployable": {"id": 900 + n, "status": status, "finished_at": iso(day, hour, 10)},
    }


DEPLOYMENTS = [
    _deployment(1, "production", "production", 2, 6, "s0", "success"),
    _deployment(2, "production", "production", 2, 15, "m1", "success"),
    _deployment(3, "production", "production", 3, 16, "m2", "failed"),
    _deployment(4, "production", "production", 3, 18, "m2", "success"),
    _deployment(5, "production", "production", 4, 11, "m3", "success"),
    _deployment(6, "production", "production", 5, 10, "m4", "success"),
    _deployment(7, "review", "staging", 2, 7, "s0", "success"),
]
COMPARE = {("s0", "m1"): ["c1a", "c1b", "m1"], ("m1", "m2"): ["m2"], ("m2", "m3"): ["m3"], ("m3", "m4"): ["m4"]}
INCIDENT = {
    "id": 909,
    "iid": 9,
    "title": "Checkout returns 500",
    "state": "closed",
    "created_at": iso(2, 18),
    "updated_at": iso(2, 20),
    "closed_at": iso(2, 20),
    "labels": [],
    "issue_type": "incident",
    "references": {"full": "acme/shop#9"},
    "web_url": "https://gitlab.test/acme/shop/-/issues/9",
}
JIRA_INCIDENT = {
    "id": "10005",
    "key": "OPS-5",
    "fields": {
        "summary": "Payments time out",
        "status": {"name": "Closed", "statusCategory": {"key": "done"}},
        "labels": [],
        "created": "2026-11-05T20:00:00.000+0000",
        "updated": "2026-11-05T23:00:00.000+0000",
        "resolutiondate": None,
        "statuscategorychangedate": "2026-11-05T23:00:00.000+0000",
    },
}


def handle(calls: list[httpx.Request]):
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        path, q = request.url.path, request.url.params
        if path.startswith("/rest/api/3/search/jql"):
            jql = json.loads(request.content)["jql"]
            return httpx.Response(200, json={"issues": [JIRA_INCIDENT] if '"Incident"' in jql else [], "isLast": True})
        path = path.removeprefix("/api/v4")
        if path in ("/projects/acme%2Fshop", "/projects/acme/shop"):
            return httpx.Response(200, json=PROJECT)
        base = "/projects/7"
        if path == f"{base}/merge_requests":
            return httpx.Response(200, json=MERGE_REQUESTS)
        for iid in COMMITS:
            if path == f"{base}/merge_requests/{iid}/commits":
                return httpx.Response(
                    200, json=[{"id": f"c{iid}{n}", "authored_date": t} for n, t in enumerate(COMMITS[iid])]
                )
            if path == f"{base}/merge_requests/{iid}/notes":
                return httpx.Response(200, json=NOTES[iid])
        if path == f"{base}/deployments":
            return httpx.Response(200, json=DEPLOYMENTS)
        if path == f"{base}/repository/compare":
            shas = COMPARE[(q["from"], q["to"])]
            return httpx.Response(200, json={"commits": [{"id": s} for s in shas], "diffs": []})
        if path == f"{base}/issues":
            return httpx.Response(200, json=[INCIDENT] if q.get("issue_type") == "incident" else [])
        return httpx.Response(404, json={"message": "404 Not Found"})

    return answer
