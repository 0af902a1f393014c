"""/api/v1/auth/me (who am I) and /api/v1/admin/tokens (admin: list, create, revoke API tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from hyperpage.api.deps import SessionDep
from hyperpage.api.params import ADMIN_RESPONSES, RATE_LIMITED
from hyperpage.auth import tokens
from hyperpage.auth.deps import AdminDep, CurrentIdentity
from hyperpage.auth.identity import Role
from hyperpage.auth.models import ApiToken
from hyperpage.auth.schemas import Me, TokenCreate, TokenCreated, TokenList, TokenOut

router = APIRouter(prefix="/api/v1", tags=["sign-in"])
NO_STORE = {"Cache-Control": "no-store"}
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The token's id from the list.")]


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        role=Role(token.role),
        status=tokens.status_of(token),
        created_at=token.created_at,
        created_by=token.created_by,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


@router.get("/auth/me", response_model=Me, responses={429: RATE_LIMITED}, summary="The caller's identity and role")
async def me(identity: CurrentIdentity, response: Response) -> Me:
    response.headers["Cache-Control"] = "no-store"
    return Me(
        subject=identity.subject,
        name=identity.name,
        email=identity.email,
        role=identity.role,
        via=identity.via.value,
        groups=list(identity.groups),
    )


@router.get(
    "/admin/tokens",
    response_model=TokenList,
    responses=ADMIN_RESPONSES,
    summary="Admin: every API token (never the secrets)",
)
async def list_tokens(session: SessionDep, _admin: AdminDep, response: Response) -> TokenList:
    response.headers.update(NO_STORE)
    return TokenList(tokens=[token_out(t) for t in await tokens.list_tokens(session)])


@router.post(
    "/admin/tokens",
    response_model=TokenCreated,
    status_code=201,
    responses=ADMIN_RESPONSES,
    summary="Admin: create an API token; the secret is in this answer only",
)
async def create_token(body: TokenCreate, session: SessionDep, admin: AdminDep, response: Response) -> TokenCreated:
    response.headers.update(NO_STORE)
    created = await tokens.create_token(
        session, name=body.name, role=body.role, created_by=admin.subject, expires_at=body.expires_at
    )
    return TokenCreated(**token_out(created.token).model_dump(), token=created.secret)


@router.api_route("/admin/tokens", methods=["PUT", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False)
async def tokens_other_methods(_admin: AdminDep) -> Response:
    # GET and POST are two routes; without this Starlette's 405 would name only the first one's method
    raise StarletteHTTPException(405, headers={"Allow": "GET, POST"})


@router.delete(
    "/admin/tokens/{token_id}",
    status_code=204,
    responses=ADMIN_RESPONSES,
    summary="Admin: revoke an API token (it is refused from the next request on)",
)
async def revoke_token(token_id: TokenId, session: SessionDep, _admin: AdminDep) -> Response:
    await tokens.revoke_token(session, token_id=token_id)
    return Response(status_code=204, headers=NO_STORE)
