"""Say in /openapi.json what the gate enforces: a bearer scheme, and 401 (403 for admin routes) on every route
that needs an identity, in the one error shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from hyperpage.auth.middleware import OPEN_PATHS, admin_only
from hyperpage.config import AuthMode

UNAUTHORIZED = {
    "description": "Authentication required, or the credential is wrong, revoked or expired; "
    "`WWW-Authenticate: Bearer` says which (RFC 6750).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def document_auth(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        if "ErrorBody" not in spec.get("components", {}).get("schemas", {}):
            return spec
        spec["components"].setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`hp_...`) made by an admin, or the bootstrap HYPERPAGE_ADMIN_TOKEN.",
        }
        anonymous_reads = app.state.settings.auth_mode is AuthMode.OFF
        for path, operations in spec["paths"].items():
            if path in OPEN_PATHS:
                continue
            for method, operation in operations.items():
                if anonymous_reads and not admin_only(method.upper(), path):
                    continue  # HYPERPAGE_AUTH=off: the document says what this server really asks for
                operation.setdefault("responses", {}).setdefault("401", UNAUTHORIZED)
                operation["security"] = [{"bearer": []}]
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
