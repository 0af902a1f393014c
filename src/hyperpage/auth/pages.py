"""The browser side of OIDC sign-in: /auth/login, /auth/callback, /auth/logout (POST) and /auth/signed-out.

Every redirect back into the portal is a relative path checked to stay on this site; every absolute URL (the
redirect_uri, the post-logout address) is built from HYPERPAGE_PUBLIC_URL, never from the Host header.
"""

from __future__ import annotations

import hmac
from types import ModuleType
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response

from hyperpage.api.deps import SessionDep
from hyperpage.auth.identity import admission_problem
from hyperpage.auth.sessions import SESSION_COOKIE, end_session, signer, start_session, unsign
from hyperpage.config import AuthMode, Settings
from hyperpage.logging import get_logger
from hyperpage.web.views import render

log = get_logger(__name__)
router = APIRouter(prefix="/auth", include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


def local_path(value: str | None) -> str:
    """Only a path on this site: `//host` and `/\\host` are other hosts to a browser."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c < " " for c in value):
        return "/"
    return value


def _oidc() -> ModuleType:
    # Authlib and its JOSE stack are imported only by portals that sign in with OIDC: faster start for the rest
    from hyperpage.auth import oidc

    return oidc


def _client(request: Request) -> Any:  # an oidc.OidcClient
    return request.app.state.oidc


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _cookie_args(settings: Settings) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": settings.hyperpage_secure_cookies}


def _problem(request: Request, message: str, status: int) -> Response:
    return render(request, "signin_error.html", {"message": message}, status_code=status, headers=NO_STORE)


@router.get("/login")
async def login(
    request: Request, next_url: Annotated[str | None, Query(alias="next", max_length=2000)] = None
) -> Response:
    settings = _settings(request)
    if settings.auth_mode is not AuthMode.OIDC:
        return _problem(request, "Sign-in through a provider is not enabled on this portal.", 404)
    oidc = _oidc()
    try:
        url, transaction = await _client(request).begin()
    except oidc.SignInFailed as exc:
        return _problem(request, str(exc), exc.status)
    transaction["next"] = local_path(next_url)
    value = signer(settings, "oidc").sign(oidc.encode_transaction(transaction)).decode()
    response = RedirectResponse(url, status_code=302, headers=NO_STORE)
    response.set_cookie(
        oidc.TRANSACTION_COOKIE, value, max_age=oidc.TRANSACTION_MAX_AGE, path="/auth", **_cookie_args(settings)
    )
    return response


@router.get("/callback")
async def callback(
    request: Request,
    session: SessionDep,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    settings = _settings(request)
    if settings.auth_mode is not AuthMode.OIDC:
        return _problem(request, "Sign-in through a provider is not enabled on this portal.", 404)
    oidc = _oidc()
    raw = request.cookies.get(oidc.TRANSACTION_COOKIE)
    transaction = oidc.decode_transaction(unsign(settings, "oidc", raw, oidc.TRANSACTION_MAX_AGE) if raw else None)
    if error:
        return _problem(request, f"The sign-in provider answered: {error}.", 400)
    if transaction is None or not state or not code:
        return _problem(request, "This sign-in has expired or was started elsewhere; sign in again.", 400)
    if not hmac.compare_digest(state.encode(), transaction["state"].encode()):
        return _problem(request, "The sign-in state does not match; sign in again.", 400)
    try:
        claims = await _client(request).finish(code=code, transaction=transaction)
    except oidc.SignInFailed as exc:
        return _problem(request, str(exc), exc.status)
    problem = admission_problem(settings, claims.email, claims.groups)
    if problem is not None:
        log.warning("sign_in_refused", subject=claims.subject, reason="allow-list")
        return _problem(request, problem[0].upper() + problem[1:] + ".", 403)
    cookie = await start_session(
        session, settings, subject=f"user:{claims.subject}", email=claims.email, name=claims.name, groups=claims.groups
    )
    log.info("signed_in", subject=claims.subject)
    response = RedirectResponse(local_path(transaction["next"]), status_code=303, headers=NO_STORE)
    response.delete_cookie(oidc.TRANSACTION_COOKIE, path="/auth", **_cookie_args(settings))
    response.set_cookie(
        SESSION_COOKIE, cookie, max_age=settings.hyperpage_session_max_age_seconds, path="/", **_cookie_args(settings)
    )
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    """POST only (a GET could be fired by any <img> on another site); the gate checks the Origin of cookie writes."""
    settings = _settings(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != settings.public_origin:
        return _problem(request, "Sign-out must come from this portal's own page.", 403)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw and settings.auth_mode is AuthMode.OIDC:
        await end_session(session, settings, raw)
    target = "/auth/signed-out"
    if settings.auth_mode is AuthMode.OIDC:
        target = await _client(request).logout_url() or target
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    response.delete_cookie(SESSION_COOKIE, path="/", **_cookie_args(settings))
    return response


@router.get("/signed-out")
async def signed_out(request: Request) -> Response:
    return render(request, "signed_out.html", {}, headers=NO_STORE)


def install(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    if settings.auth_mode is AuthMode.OIDC:
        app.state.oidc = _oidc().OidcClient(settings)
    app.include_router(router)
