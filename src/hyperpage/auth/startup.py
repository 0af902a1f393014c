"""The loud warning when staging or production runs without sign-in (HYPERPAGE_AUTH_ALLOW_ANONYMOUS=true)."""

from __future__ import annotations

from hyperpage.config import AuthMode, Environment, Settings
from hyperpage.logging import get_logger

log = get_logger("hyperpage.auth")


def warn_if_anonymous(settings: Settings) -> None:
    if settings.auth_mode is AuthMode.OFF and settings.hyperpage_env is not Environment.DEVELOPMENT:
        # ERROR, not WARNING: production logs at WARNING and up, and this must never scroll by unseen
        log.error("authentication_disabled",
                  message=f"HYPERPAGE_AUTH=off in {settings.hyperpage_env.value} "
                          "(HYPERPAGE_AUTH_ALLOW_ANONYMOUS=true): every data route is open to anyone who reaches "
                          "the port")
