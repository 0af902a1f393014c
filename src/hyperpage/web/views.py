"""Server-rendered pages: the overview with its four panels, the setup page, the theme switch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from hyperpage.api.deps import SessionDep, SettingsDep
from hyperpage.web import panels
from hyperpage.web.plain_errors import plain_error
from hyperpage.web.setup_check import tool_setup

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["ago"] = panels.ago
templates.env.globals["plain_error"] = plain_error
templates.env.filters["http_link"] = panels.http_link
router = APIRouter(include_in_schema=False)
THEMES = ("system", "light", "dark")
THEME_COOKIE = "hp_theme"
PAGE_HEADERS = {"Cache-Control": "private, no-cache"}


def theme_of(request: Request) -> str:
    value = request.cookies.get(THEME_COOKIE, "system")
    return value if value in THEMES else "system"


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    base = {
        "theme": theme_of(request),
        "themes": THEMES,
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "identity": request.scope.get("state", {}).get("identity"),
    }
    return templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status_code, headers=headers or PAGE_HEADERS
    )


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    setup = tool_setup(settings)
    if not any(t.ready for t in setup) and not await panels.has_connections(session):
        return render(request, "setup.html", {"setup": setup, "first_run": True})
    try:
        view = await panels.build_overview(session, params=request.query_params)
    except panels.BadFilter as exc:
        return render(request, "error.html", {"message": str(exc)}, status_code=400)
    return render(request, "overview.html", {"v": view})


@router.get("/setup", response_class=HTMLResponse)
async def setup_page(request: Request, settings: SettingsDep) -> Response:
    return render(request, "setup.html", {"setup": tool_setup(settings), "first_run": False})


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> Response:
    """Swagger UI served from our own static files (FastAPI's default pulls it from a CDN with inline script)."""
    return templates.TemplateResponse(request, "docs.html", {}, headers=PAGE_HEADERS)


@router.post("/ui/theme")
async def set_theme(
    request: Request,
    settings: SettingsDep,
    theme: Annotated[str, Form()],
    next_url: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    # only local paths: an open redirect would let a link bounce users anywhere through us
    target = next_url if next_url.startswith("/") and not next_url.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if theme in THEMES:
        response.set_cookie(
            THEME_COOKIE,
            theme,
            max_age=365 * 86400,
            httponly=True,
            samesite="lax",
            secure=settings.hyperpage_secure_cookies,
            path="/",
        )
    return response


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
