"""Route dependencies: the caller's identity, and the admin requirement.

AuthGateMiddleware already enforces both before a request reaches a route (and before its body is read);
these dependencies say so in the route's signature and OpenAPI, and hold if a route is ever mounted elsewhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hyperpage.auth.identity import Identity
from hyperpage.errors import Forbidden, Unauthorized


def current_identity(request: Request) -> Identity:
    identity: Identity | None = request.scope.get("state", {}).get("identity")
    if identity is None:
        raise Unauthorized("authentication required")
    return identity


def require_admin(identity: Annotated[Identity, Depends(current_identity)]) -> Identity:
    if not identity.is_admin:
        if not identity.authenticated:
            raise Unauthorized("admin action: send `Authorization: Bearer <admin API token>`")
        raise Forbidden("admin action: your role is viewer")
    return identity


CurrentIdentity = Annotated[Identity, Depends(current_identity)]
AdminDep = Annotated[Identity, Depends(require_admin)]
