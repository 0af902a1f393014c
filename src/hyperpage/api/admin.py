"""Admin authorisation: a bearer token from HYPERPAGE_ADMIN_TOKEN; no token configured = admin disabled."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from hyperpage.errors import Forbidden, Unauthorized


def require_admin(request: Request) -> None:
    token = request.app.state.settings.hyperpage_admin_token
    if token is None:
        raise Forbidden("admin actions are disabled: HYPERPAGE_ADMIN_TOKEN is not configured on this server")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise Unauthorized("admin action: send `Authorization: Bearer <admin token>`")
    # constant-time: the comparison must not reveal how many leading characters were right
    if not hmac.compare_digest(presented.strip().encode(), token.get_secret_value().encode()):
        raise Unauthorized("admin action: the admin token is wrong")


AdminDep = Annotated[None, Depends(require_admin)]
