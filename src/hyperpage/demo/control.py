"""The /_fake control plane (stats, faults, mutations, quota, reset) and the tiny web pages that the
fake's html_url / web_url links open, so a demo user clicking through lands somewhere real."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from hyperpage.demo.faults import FaultError
from hyperpage.demo.mutations import MutationError

if TYPE_CHECKING:
    from hyperpage.demo.upstream import FakeUpstream

FAULT_OPTIONS = ("service", "path", "method", "count", "retry_after", "mode", "status", "delay")


def _json(payload: object, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


async def _payload(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = orjson.loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def control_routes(up: FakeUpstream) -> list[BaseRoute]:
    async def stats(request: Request) -> Response:
        return _json(up.snapshot())

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return _json({"faults": up.snapshot()["faults"]})
        if request.method == "DELETE":
            return _json({"cleared": up.clear_faults(request.query_params.get("service"))})
        try:
            body = await _payload(request)
            if body.get("clear"):
                return _json({"cleared": up.clear_faults(body.get("service"))})
            options = {k: body[k] for k in FAULT_OPTIONS if k in body}
            return _json(up.add_fault(str(body.get("kind")), **options), 201)
        except (FaultError, ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)

    async def mutate(request: Request) -> Response:
        try:
            body = await _payload(request)
            op = str(body.pop("op", ""))
            return _json(up.mutate(op, **body))
        except (MutationError, ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)

    async def quota(request: Request) -> Response:
        """Set a token's remaining quota (e.g. just above the client's reserve) without spending it."""
        try:
            body = await _payload(request)
            token = str(body["token"])
            result = up.set_quota(
                str(body.get("service", "github")),
                token,
                int(body["remaining"]),
                str(body.get("resource", "core" if body.get("service", "github") == "github" else "api")),
            )
            return _json(result)
        except (KeyError, ValueError, TypeError) as exc:
            return _json({"error": f"bad quota request: {exc}"}, 400)

    async def reset(request: Request) -> Response:
        up.reset()
        return _json({"reset": True})

    async def world(request: Request) -> Response:
        with up.lock:
            w = up.world
            return _json(
                {
                    "github": {
                        "token_users": len(up.config.github_tokens),
                        "repos": [r.full_name for r in w.repos],
                        "pulls": len(w.pulls),
                        "issues": len(w.gh_issues),
                        "runs": len(w.runs),
                    },
                    "gitlab": {
                        "projects": [p.path_with_namespace for p in w.projects],
                        "merge_requests": len(w.mrs),
                        "pipelines": len(w.pipelines),
                        "issues": len(w.gl_issues),
                    },
                    "jira": {"projects": [p.key for p in w.jira_projects], "issues": len(w.jira_issues)},
                    "viewer": w.people[0].login if w.people else None,
                }
            )

    return [
        Route("/stats", stats, methods=["GET"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/mutate", mutate, methods=["POST"]),
        Route("/quota", quota, methods=["POST"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/world", world, methods=["GET"]),
    ]


def web_routes(up: FakeUpstream) -> list[BaseRoute]:
    async def page(request: Request) -> HTMLResponse:
        path = html.escape(request.url.path)
        return HTMLResponse(
            f"<!doctype html><title>Fake upstream</title><h1>Fake upstream</h1>"
            f"<p>This is a generated demo item: <code>{path}</code>. Switch the portal to real "
            f"tokens to see real data.</p>"
        )

    return [
        Route("/github-web/{rest:path}", page),
        Route("/gitlab/{rest:path}", page),
        Route("/jira/browse/{key}", page),
    ]
