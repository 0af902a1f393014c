"""`hyperpage tokens create|list|revoke`: API tokens from the command line (the same service as the admin API)."""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.auth.identity import Role
from hyperpage.clikit import fail, settings_or_exit
from hyperpage.errors import AppError

app = typer.Typer(help="API tokens for scripts and dashboards (Authorization: Bearer).", no_args_is_help=True)
T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from hyperpage.db.session import create_engine, make_sessionmaker

    settings = settings_or_exit()

    async def main() -> T:
        engine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except AppError as exc:
        raise fail(exc.message) from None


def _row(token: Any) -> dict[str, Any]:
    from hyperpage.auth.tokens import status_of

    def when(moment: Any) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": token.id,
        "name": token.name,
        "role": token.role,
        "status": status_of(token),
        "created_at": when(token.created_at),
        "created_by": token.created_by,
        "expires_at": when(token.expires_at),
        "last_used_at": when(token.last_used_at),
        "revoked_at": when(token.revoked_at),
    }


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. grafana.")],
    role: Annotated[Role, typer.Option(help="viewer (read data) or admin (also admin actions).")] = Role.VIEWER,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Stop working after N days (default: until revoked).")
    ] = None,
) -> None:
    """Create a token and print it once (stdout, nothing else there); only its hash is stored."""
    from hyperpage.auth import tokens

    who = f"cli:{getpass.getuser()}"
    created = _run(
        lambda s: tokens.create_token(
            s, name=name, role=role, created_by=who, expires_at=tokens.expiry_in(expires_in_days)
        )
    )
    typer.echo(
        f"created token {created.token.id} ({created.token.name}, {created.token.role}); it is shown only now:",
        err=True,
    )
    typer.echo(created.secret)


@app.command("list")
def list_tokens(as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False) -> None:
    """Every token: id, name, role, status (active, expired, revoked), dates. Never the secrets."""
    from hyperpage.auth import tokens

    rows = [_row(t) for t in _run(tokens.list_tokens)]
    if as_json:
        typer.echo(json.dumps({"tokens": rows}, indent=2))
        return
    for row in rows:
        typer.echo(
            f"{row['id']:>5}  {row['status']:<8} {row['role']:<6} {row['name']}  "
            f"expires={row['expires_at'] or 'never'} last_used={row['last_used_at'] or 'never'}"
        )
    if not rows:
        typer.echo("no API tokens")


@app.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(min=1, max=2**63 - 1, help="The id from `tokens list`.")]) -> None:
    """Revoke a token: it is refused from the next request on (kept in the list, status revoked)."""
    from hyperpage.auth import tokens

    token = _run(lambda s: tokens.revoke_token(s, token_id=token_id))
    typer.echo(f"revoked token {token.id} ({token.name})")
