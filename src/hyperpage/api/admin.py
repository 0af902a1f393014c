"""Admin authorisation is role-based now (hyperpage.auth); this name stays for the routes that import it."""

from __future__ import annotations

from hyperpage.auth.deps import AdminDep, require_admin

__all__ = ["AdminDep", "require_admin"]
