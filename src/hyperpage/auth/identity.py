"""Who is calling: the identity every request resolves to, its role, and the allow-lists that admit it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from hyperpage.config import Settings


class Role(StrEnum):
    VIEWER = "viewer"
    ADMIN = "admin"


class Via(StrEnum):
    SESSION = "session"  # OIDC sign-in, session cookie
    PROXY = "proxy"  # user header from a trusted proxy
    TOKEN = "token"  # API token (Authorization: Bearer hp_...)
    BOOTSTRAP = "bootstrap"  # HYPERPAGE_ADMIN_TOKEN
    ANONYMOUS = "anonymous"  # HYPERPAGE_AUTH=off and no credential


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str  # stable key: the rate limit counts per subject
    name: str
    role: Role
    via: Via
    email: str | None = None
    groups: tuple[str, ...] = field(default=())

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def authenticated(self) -> bool:
        return self.via is not Via.ANONYMOUS


ANONYMOUS = Identity(subject="anonymous", name="anonymous", role=Role.VIEWER, via=Via.ANONYMOUS)
BOOTSTRAP_ADMIN = Identity(subject="bootstrap-admin", name="bootstrap admin token", role=Role.ADMIN, via=Via.BOOTSTRAP)


def _domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].lower()


def admission_problem(settings: Settings, email: str | None, groups: tuple[str, ...]) -> str | None:
    """Why a person the provider or proxy signed in may not use this portal (None = admitted).

    Both lists empty admits everyone; with both set, matching either one is enough.
    """
    domains = settings.csv("hyperpage_auth_allowed_domains")
    allowed_groups = settings.csv("hyperpage_auth_allowed_groups")
    if not domains and not allowed_groups:
        return None
    if domains and _domain(email) in domains:
        return None
    if allowed_groups and set(allowed_groups) & {g.lower() for g in groups}:
        return None
    return "your account is not in the email domains or groups allowed to use this portal"


def role_for(settings: Settings, email: str | None, groups: tuple[str, ...]) -> Role:
    """Admin when the email or one of the groups is listed as admin; everyone else is a viewer."""
    if email and email.lower() in settings.csv("hyperpage_auth_admin_emails"):
        return Role.ADMIN
    if set(settings.csv("hyperpage_auth_admin_groups")) & {g.lower() for g in groups}:
        return Role.ADMIN
    return Role.VIEWER


def person(
    settings: Settings, *, subject: str, name: str | None, email: str | None, groups: tuple[str, ...], via: Via
) -> Identity:
    """The identity of a signed-in person, with the role the current settings give them."""
    return Identity(
        subject=subject,
        name=name or email or subject,
        role=role_for(settings, email, groups),
        via=via,
        email=email,
        groups=groups,
    )
