"""API shapes of the caller's identity and of API tokens. A token's secret appears in exactly one: TokenCreated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from hyperpage.auth.identity import Role
from hyperpage.auth.tokens import TokenStatus

MAX_LIFETIME = timedelta(days=3650)


class Me(BaseModel):
    subject: str
    name: str
    email: str | None
    role: Role
    via: Literal["session", "proxy", "token", "bootstrap", "anonymous"]
    groups: list[str]


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="What the token is for, e.g. `grafana`.")
    role: Role = Role.VIEWER
    expires_at: datetime | None = Field(
        None, description="When the token stops working (UTC, at most 10 years ahead); null = until revoked."
    )

    @field_validator("expires_at")
    @classmethod
    def _future_and_bounded(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2027-01-31T00:00:00Z")
        try:
            value = value.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is past year 9999 in UTC
            raise ValueError("out of range") from None
        now = datetime.now(UTC)
        if value <= now:
            raise ValueError("must be in the future")
        if value - now > MAX_LIFETIME:
            raise ValueError("at most 10 years ahead")
        return value


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    status: TokenStatus
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")
    revoked_at: datetime | None


class TokenList(BaseModel):
    tokens: list[TokenOut]


class TokenCreated(TokenOut):
    token: str = Field(description="The secret, shown this once; only its SHA-256 hash is stored.")
