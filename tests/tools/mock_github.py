"""A GitHub-shaped httpx.MockTransport for unit tests: PR lists built from the recorded-shape fixture,
Link paging, ETag/304 (free, like GitHub), counting-down quota headers and queued faults."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(tool: str, name: str) -> Any:
    return json.loads((FIXTURES / tool / name).read_text())


class MockGitHub:
    def __init__(self, repos: dict[str, int], *, limit: int = 5000) -> None:
        template = fixture("github", "pull.json")
        base = datetime(2026, 10, 1, tzinfo=UTC)
        self.repos: dict[str, list[dict[str, Any]]] = {}
        for index, (name, count) in enumerate(repos.items()):
            pulls = []
            for number in range(1, count + 1):
                pr = copy.deepcopy(template)
                pr.update(
                    id=(index + 1) * 100_000 + number,
                    number=number,
                    title=f"PR {number} of {name}",
                    state="open",
                    html_url=f"https://github.com/{name}/pull/{number}",
                    created_at=_iso(base + timedelta(minutes=number)),
                    updated_at=_iso(base + timedelta(minutes=number)),
                )
                pulls.append(pr)
            self.repos[name] = pulls
        self.limit, self.remaining = limit, limit
        self.calls: list[httpx.Request] = []
        self.faults: list[Callable[[httpx.Request], httpx.Response | None]] = []

    def touch(self, repo: str, number: int, **changes: Any) -> None:
        pr = self.repos[repo][number - 1]
        pr.update(changes, updated_at=_iso(datetime.now(UTC)))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        while self.faults:
            response = self.faults.pop(0)(request)
            if response is not None:
                return response
            break
        path = request.url.path
        if path == "/rate_limit":
            return self._json(request, fixture("github", "rate_limit.json"), free=True)
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "repos":
            repo = fixture("github", "repo.json")
            return self._json(request, {**repo, "id": hash(path) % 10**6, "full_name": f"{parts[1]}/{parts[2]}"})
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "pulls":
            pulls = sorted(self.repos[f"{parts[1]}/{parts[2]}"], key=lambda p: p["updated_at"], reverse=True)
            return self._page(request, pulls)
        return httpx.Response(404, json={"message": "Not Found"})

    def _page(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        per_page = int(request.url.params.get("per_page", 30))
        page = int(request.url.params.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            next_url = request.url.copy_merge_params({"page": page + 1})
            headers["Link"] = f'<{next_url}>; rel="next", <{request.url}>; rel="first"'
        return self._json(request, chunk, headers=headers)

    def _json(
        self, request: httpx.Request, body: Any, *, headers: dict[str, str] | None = None, free: bool = False
    ) -> httpx.Response:
        raw = json.dumps(body).encode()
        etag = f'W/"{hashlib.sha1(raw).hexdigest()}"'
        quota = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-resource": "core",
            "x-ratelimit-reset": str(int((datetime.now(UTC) + timedelta(hours=1)).timestamp())),
        }
        if request.headers.get("if-none-match") == etag:
            # https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api
            return httpx.Response(304, headers={**quota, "x-ratelimit-remaining": str(self.remaining), "etag": etag})
        if not free:
            self.remaining -= 1
        return httpx.Response(
            200,
            content=raw,
            headers={
                **quota,
                "x-ratelimit-remaining": str(self.remaining),
                "etag": etag,
                "content-type": "application/json",
                **(headers or {}),
            },
        )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
