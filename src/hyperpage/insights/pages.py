"""The Insights page (/insights): DORA's four keys with band badges, weekly trends and the cycle-time breakdown,
all server-rendered SVG, so it reads the same with JavaScript off."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from hyperpage.api.deps import EngineDep
from hyperpage.insights import bands, memo, service
from hyperpage.insights.charts import breakdown, count, human, weekly_chart
from hyperpage.insights.schemas import CycleTimeReport, DoraReport, InsightsQuery
from hyperpage.web.views import render

router = APIRouter(include_in_schema=False)
FIELDS = ("from", "to", "repository", "environment", "author", "team")
STAGES = (
    ("Coding", "stage-coding"),
    ("Pickup", "stage-pickup"),
    ("Review", "stage-review"),
    ("Deploy", "stage-deploy"),
)


@router.get("/insights", response_class=HTMLResponse)
async def insights_page(request: Request, engine: EngineDep) -> Response:
    teams = request.app.state.teams
    raw = {k: v for k, v in request.query_params.items() if k in FIELDS and v != ""}
    context: dict[str, Any] = {"form": raw, "teams": sorted(teams)}
    unknown = sorted(set(request.query_params) - set(FIELDS))
    try:
        if unknown:
            raise ValueError(f"unknown parameter: {', '.join(unknown)}")
        query = InsightsQuery.model_validate(raw)
        dora, cycle = await memo.reports(request.app.state, engine, query)
    except ValidationError as exc:
        return render(request, "insights.html", {**context, "error": _words(exc)}, 400)
    except (ValueError, service.UnknownTeam) as exc:
        return render(request, "insights.html", {**context, "error": str(exc)}, 400)
    return render(request, "insights.html", {**context, **view(dora, cycle)})


def view(dora: DoraReport, cycle: CycleTimeReport) -> dict[str, Any]:
    """What the template prints: the reports, their charts, and the words of each figure."""
    weeks = [w.week for w in dora.weekly]
    stage_medians = [cycle.coding, cycle.pickup, cycle.review, cycle.deploy]
    charts = [
        weekly_chart(
            "Production deployments per week",
            weeks,
            [("successful", "series-ok", [w.deployments for w in dora.weekly])],
            count,
        ),
        weekly_chart(
            "Finished deployments per week, failed ones on top",
            weeks,
            [
                ("succeeded", "series-ok", [w.finished - w.failed for w in dora.weekly]),
                ("failed", "series-bad", [w.failed for w in dora.weekly]),
            ],
            count,
        ),
        weekly_chart(
            "Lead time for changes per week (median, by merge week)",
            weeks,
            [("median lead time", "series-info", [w.lead_time_median_seconds for w in dora.weekly])],
            human,
        ),
        weekly_chart(
            "Cycle time per week (stage medians, stacked)",
            [w.week for w in cycle.weekly],
            [
                (name.lower(), css, [getattr(w, f"{name.lower()}_median_seconds") for w in cycle.weekly])
                for name, css in STAGES
            ],
            human,
        ),
    ]
    return {
        "dora": dora,
        "cycle": cycle,
        "charts": charts,
        "parts": breakdown(
            [(name, css, s.median_seconds) for (name, css), s in zip(STAGES, stage_medians, strict=True)]
        ),
        "stages": list(zip((name for name, _ in STAGES), stage_medians, strict=True)),
        "band_table": bands.TABLE,
        "bands_source": bands.SOURCE,
        "human": human,
        "empty": dora.change_failure_rate.deployments == 0 and cycle.changes == 0,
    }


def _words(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err.get("loc", ())) or "filter"
        parts.append(f"{where}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "Cannot show that view: " + "; ".join(parts)


def install(app: FastAPI) -> None:
    app.include_router(router)
