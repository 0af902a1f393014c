"""The loud warnings when data is served without sign-in: staging/production with HYPERPAGE_AUTH_ALLOW_ANONYMOUS,
or development listening beyond loopback."""

from __future__ import annotations

from hyperpage.config import LOOPBACK_HOSTS, AuthMode, Environment, Settings
from hyperpage.logging import get_logger

log = get_logger("hyperpage.auth")


def warn_if_anonymous(settings: Settings) -> None:
    if settings.auth_mode is AuthMode.OFF and settings.hyperpage_env is not Environment.DEVELOPMENT:
        # ERROR, not WARNING: production logs at WARNING and up, and this must never scroll by unseen
        log.error(
            "authentication_disabled",
            message=f"HYPERPAGE_AUTH=off in {settings.hyperpage_env.value} "
            "(HYPERPAGE_AUTH_ALLOW_ANONYMOUS=true): every data route is open to anyone who reaches "
            "the port",
        )
    elif settings.auth_mode is AuthMode.OFF and settings.hyperpage_host not in LOOPBACK_HOSTS:
        log.warning(
            "authentication_disabled",
            message=f"HYPERPAGE_AUTH=off while listening on {settings.hyperpage_host}: anyone who reaches "
            "the port reads the data; set HYPERPAGE_AUTH or listen on 127.0.0.1",
        )
