"""Every list route answers byte for byte as it did before the listing rewrite (issue 18), on both engines.

tests/api/golden/list_routes.json holds, per engine, the status, the headers that carry meaning (type, ETag,
caching) and the exact body of a few hundred requests over one fixed data set: every filter, searches with
wildcards and key numbers, every sort, pages followed cursor by cursor, and the error answers. It was written
by the code before the rewrite (`HYPERPAGE_WRITE_GOLDEN=1` writes it again; do that only for a deliberate change
of shape, and say why in the commit). The OpenAPI document is held the same way in golden/openapi.json.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests import factories as f

GOLDEN = Path(__file__).parent / "golden"
WRITE = os.environ.get("HYPERPAGE_WRITE_GOLDEN") == "1"
KEPT_HEADERS = ("content-type", "content-length", "etag", "cache-control", "vary")
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FUTURE = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)  # rate-limit history is a window back from now: stay inside it


def _at(minutes: int, micro: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, microseconds=micro)


async def seed(db_url: str) -> None:
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        gl = await f.add_connection(s, tool="gitlab", name="gl")
        jira = await f.add_connection(s, tool="jira", name="jira")
        web = await f.add_repository(s, connection=gh, full_name="acme/wéb")
        api = await f.add_repository(s, connection=gl, full_name="acme/api_server")
        proj = await f.add_repository(s, connection=jira, full_name="PROJ")
        for n in range(24):
            repo = (web, api, None)[n % 3]
            conn = gl if repo is api else gh
            updated = _at(n // 2 * 7, micro=(123_456 if n % 5 == 0 else 0))  # pairs tie on updated_at
            await f.add_pull_request(
                s,
                connection=conn,
                repository=repo,
                external_id=f"pr-{n}",
                number=100 + n * 37,
                title=(
                    "Fix 100% of login_redirect",
                    'Quote " and ünïcode ✓',
                    "Add dark theme",
                    "Speed up queries",
                    "Tab\tand newline\n",
                )[n % 5]
                + f" {n}",
                state=("OPEN", "MERGED", "CLOSED", "OPEN")[n % 4],
                original_state=("open", "merged", "closed", "opened")[n % 4],
                draft=n % 6 == 0,
                author=(None, "alice", "bob", "carol")[n % 4],
                requested_reviewers=[["carol"], ["carol-ext", "dave"], [], ["alice", "carol"]][n % 4],
                labels=[["bug"], ["ui", "bugfix"], [], ["bug", "ui"]][n % 4],
                source_branch=None if n % 7 == 0 else f"feature/{n}",
                target_branch="main",
                merge_state=None,
                web_url=None if n % 8 == 0 else f"https://example.test/pr/{n}",
                created_at=updated - timedelta(hours=n % 3, seconds=n),
                updated_at=updated,
                merged_at=updated if n % 4 == 1 else None,
                closed_at=updated if n % 4 in (1, 2) else None,
                synced_at=updated + timedelta(seconds=1, microseconds=500),
            )
        for n in range(20):
            repo = (web, api, None)[n % 3]
            conn = gl if repo is api else gh
            updated = _at(n // 2 * 5, micro=(654_321 if n % 4 == 0 else 0))
            done = n % 5 != 0
            await f.add_pipeline(
                s,
                connection=conn,
                repository=repo,
                external_id=f"run-{n}",
                name=(None, "CI", "deploy_prod")[n % 3],
                status="DONE" if done else ("QUEUED", "IN_PROGRESS")[n % 2],
                result=("SUCCESS", "FAILURE", "CANCELLED", "SKIPPED")[n % 4] if done else None,
                original_status="completed" if done else "queued",
                original_result=("success", "failure", "cancelled", "skipped")[n % 4] if done else None,
                ref=(None, "main", "release/1.0", "feature_x%")[n % 4],
                sha=f"{n * 7919:040x}",
                event=("push", "pull_request", None)[n % 3],
                web_url=f"https://example.test/runs/{n}",
                created_at=updated - timedelta(minutes=5),
                updated_at=updated,
                started_at=None if n % 5 == 0 else updated - timedelta(minutes=4),
                finished_at=updated if done else None,
                duration_seconds=(None, 240.0, 0.1 + 0.2, 12.5, 3600)[n % 5] if done else None,
                synced_at=updated,
            )
        for n in range(20):
            conn, repo = ((jira, proj), (gh, web), (gl, api), (jira, None))[n % 4]
            updated = _at(n // 2 * 3, micro=(1 if n % 6 == 0 else 0))
            await f.add_issue(
                s,
                connection=conn,
                repository=repo,
                external_id=f"issue-{n}",
                key=f"PROJ-{n}" if conn is jira else f"#{n}",
                title=("Crash on start", "Login 100%_broken", "Ünïcode title ✓", "Tab\tand newline\n")[n % 4],
                status_category=("TODO", "IN_PROGRESS", "DONE")[n % 3],
                original_status=("To Do", "In Progress", "Done")[n % 3],
                assignee=(None, "bob", "alice")[n % 3],
                reporter=(None, "rita")[n % 2],
                priority=(None, "High", "Medium")[n % 3],
                issue_type=(None, "Bug", "Task")[n % 3],
                labels=[[], ["backend"], ["backend", "urgent"]][n % 3],
                web_url=None if n % 9 == 0 else f"https://example.test/browse/{n}",
                created_at=updated - timedelta(days=1),
                updated_at=updated,
                resolved_at=updated if n % 3 == 2 else None,
                synced_at=updated,
            )
        for n in range(6):
            conn = (gh, gl, jira)[n % 3]
            await f.add_rate_limit_sample(
                s,
                connection=conn,
                resource=("core", "search")[n % 2],
                limit=(5000, 2000, 0)[n % 3],
                remaining=(4000, 100, 0)[n % 3],
                observed_at=FUTURE + timedelta(minutes=n),
                reset_at=FUTURE + timedelta(minutes=30 + n),
            )


LISTS: dict[str, list[dict[str, Any]]] = {
    "/api/v1/reviews": [
        {},
        {"limit": 200},
        {"tool": "gitlab"},
        {"tool": "jira"},
        {"connection": 1},
        {"repository": "acme/wéb"},
        {"state": "open"},
        {"state": "MERGED"},
        {"author": "bob"},
        {"reviewer": "carol"},
        {"reviewer": "car"},
        {"label": "bug"},
        {"label": "ui"},
        {"draft": "true"},
        {"draft": "false"},
        {"updated_since": "2026-11-01T12:35:00Z"},
        {"updated_since": "2026-11-01T13:35:00+01:00"},
        {"q": "login"},
        {"q": "LOGIN 100%"},
        {"q": "100%"},
        {"q": "_redirect"},
        {"q": "api_"},
        {"q": "#137"},
        {"q": "!174"},
        {"q": "174"},
        {"q": "feature/1"},
        {"q": "ünïcode"},
        {"q": "acme/wéb theme"},
        {"q": "carol"},
        {"q": "nothing-like-this"},
        {"q": "a b c d e f g h i j"},
        {"state": "OPEN", "q": "fix", "tool": "github", "reviewer": "carol", "label": "bug", "draft": "true"},
        {"sort": "updated_at"},
        {"sort": "-created_at"},
        {"sort": "created_at"},
        {"sort": "-updated_at", "state": "open", "q": "e"},
    ],
    "/api/v1/pipelines": [
        {},
        {"limit": 200},
        {"tool": "gitlab"},
        {"connection": 2},
        {"repository": "acme/api_server"},
        {"status": "done"},
        {"status": "QUEUED"},
        {"result": "failure"},
        {"result": "SKIPPED"},
        {"ref": "main"},
        {"ref": "feature_x%"},
        {"updated_since": "2026-11-01T12:20:00Z"},
        {"q": "deploy"},
        {"q": "deploy_"},
        {"q": "%"},
        {"q": "release/1"},
        {"q": "run-1"},
        {"q": "pull_request"},
        {"q": "0000000000"},
        {"q": "acme/api"},
        {"status": "DONE", "result": "SUCCESS", "q": "ci", "tool": "github"},
        {"sort": "updated_at"},
        {"sort": "-created_at"},
        {"sort": "created_at"},
    ],
    "/api/v1/issues": [
        {},
        {"limit": 200},
        {"tool": "jira"},
        {"connection": 3},
        {"repository": "PROJ"},
        {"status_category": "todo"},
        {"status_category": "DONE"},
        {"assignee": "bob"},
        {"label": "backend"},
        {"label": "urgent"},
        {"updated_since": "2026-11-01T12:15:00Z"},
        {"q": "crash"},
        {"q": "100%_"},
        {"q": "PROJ-1"},
        {"q": "#5"},
        {"q": "rita"},
        {"q": "ünïcode"},
        {"q": "bob login"},
        {"status_category": "TODO", "assignee": "alice", "q": "a", "tool": "github"},
        {"sort": "updated_at"},
        {"sort": "-created_at"},
        {"sort": "created_at"},
    ],
}
PAGED_SORTS = ("-updated_at", "updated_at", "-created_at", "created_at")
ERRORS: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/reviews", {"cursor": "not-a-cursor"}),
    ("/api/v1/reviews", {"limit": 0}),
    ("/api/v1/reviews", {"limit": 201}),
    ("/api/v1/reviews", {"limit": "x"}),
    ("/api/v1/reviews", {"state": "WRONG"}),
    ("/api/v1/reviews", {"sort": "title"}),
    ("/api/v1/reviews", {"unknown": "1"}),
    ("/api/v1/reviews", {"q": "nul\x00"}),
    ("/api/v1/reviews", {"updated_since": "0.5"}),
    ("/api/v1/reviews", {"updated_since": "9999-12-31T23:59:59-01:00"}),
    ("/api/v1/reviews", {"connection": "0"}),
    ("/api/v1/reviews", {"connection": str(2**63)}),
    ("/api/v1/reviews", {"draft": "maybe"}),
    ("/api/v1/reviews", {"q": "x" * 201}),
    ("/api/v1/reviews", {"tool": "svn", "limit": 0}),
    ("/api/v1/pipelines", {"status": "nope"}),
    ("/api/v1/pipelines", {"result": "x", "cursor": "abc"}),
    ("/api/v1/issues", {"status_category": "x"}),
    ("/api/v1/issues", {"state": "OPEN"}),
    ("/api/v1/rate-limits", {"hours": 0}),
]
OTHERS: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/rate-limits", {}),
    ("/api/v1/rate-limits", {"tool": "github"}),
    ("/api/v1/rate-limits", {"resource": "search", "hours": 168}),
    ("/api/v1/rate-limits", {"connection": 2}),
    *[
        (f"/api/tools/{tool}/{endpoint}", {})
        for tool, endpoint in (
            ("github", "pull-requests"),
            ("gitlab", "merge-requests"),
            ("code-reviews", "pull-requests"),
            ("github", "workflows"),
            ("gitlab", "pipelines"),
            ("ci-cd", "pipelines"),
            ("jira", "issues"),
            ("ticketing", "issues"),
            ("github", "issues"),
        )
    ],
    ("/api/tools/ci-cd/pipelines", {"status": "fail"}),
    ("/api/tools/github/pull-requests", {"limit": 3}),
]


def _record(resp: Any) -> dict[str, Any]:
    return {
        "status": resp.status_code,
        "headers": {k: resp.headers[k] for k in KEPT_HEADERS if k in resp.headers},
        "body": resp.content.decode(),
    }


async def _capture(client: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}

    async def get(path: str, params: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        resp = await client.get(path, params=params, headers=headers)
        key = f"{path}?{resp.request.url.query.decode()}" + (" (revalidated)" if headers else "")
        out[key] = _record(resp)
        return resp

    for path, cases in LISTS.items():
        for params in cases:
            await get(path, params)
        for sort in PAGED_SORTS:  # every page of every sort, cursor by cursor
            params: dict[str, Any] = {"sort": sort, "limit": 7}
            while True:
                resp = await get(path, params)
                cursor = resp.json()["next_cursor"]
                if cursor is None:
                    break
                params = {**params, "cursor": cursor}
        first = await client.get(path, params={"limit": 3, "sort": "updated_at"})
        cursor = first.json()["next_cursor"]
        await get(path, {"limit": 3, "sort": "-updated_at", "cursor": cursor})  # made for another sort: 400
        await get(path, {"limit": 3, "sort": "updated_at", "cursor": cursor, "q": "e"})  # other filters: allowed
        await get(path, {"limit": 3, "sort": "updated_at"}, {"If-None-Match": first.headers["etag"]})
    for path, params in ERRORS + OTHERS:
        await get(path, params)
    return out


def _compare(name: str, actual: Any) -> None:
    path = GOLDEN / name
    if WRITE:
        stored = orjson.loads(path.read_bytes()) if path.exists() else {}
        key = name.removesuffix(".json")
        if isinstance(stored, dict) and key == "list_routes":
            stored.update(actual)
            actual = stored
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
        return
    expected = orjson.loads(path.read_bytes())
    if name == "list_routes.json":
        ((engine, got),) = actual.items()
        want = expected[engine]
        assert sorted(got) == sorted(want), "the set of requests differs from the golden file"
        wrong = [key for key in got if got[key] != want[key]]
        assert not wrong, (
            f"{len(wrong)} of {len(want)} responses differ, first {wrong[0]}:\n"
            f"got  {got[wrong[0]]}\nwant {want[wrong[0]]}"
        )
    else:
        assert actual == expected


async def test_every_list_response_is_byte_identical_to_the_golden_file(client, db_url, db_engine_name) -> None:
    await seed(db_url)
    _compare("list_routes.json", {db_engine_name: await _capture(client)})


async def test_openapi_document_is_unchanged(client, db_engine_name) -> None:
    if db_engine_name != "sqlite":  # the document does not depend on the engine
        return
    _compare("openapi.json", (await client.get("/openapi.json")).json())
