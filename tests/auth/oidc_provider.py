"""Start the real OpenID Provider (tests/oidc/provider.js, npm oidc-provider) on 127.0.0.1 for a test module.

Its signing key is made here with joserfc, so tests can also sign tokens with the provider's own key (to show
that only the expiry or the audience makes a token fail) and with a key the provider never published.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from joserfc.jwk import RSAKey

from tests.tooling import REPO_ROOT, free_port, require_tool

OIDC_DIR = REPO_ROOT / "tests" / "oidc"
CLIENT_ID = "hyperpage-test"
CLIENT_SECRET = "test-client-secret-1b7f0e9d8c6a5b4c3d2e"
ACCOUNTS = {
    "alice": {
        "email": "alice@example.com",
        "email_verified": True,
        "name": "Alice Admin",
        "groups": ["platform", "hyperpage-admins"],
    },
    "bob": {"email": "bob@example.com", "email_verified": True, "name": "Bob Viewer", "groups": ["platform"]},
    "mallory": {"email": "mallory@elsewhere.test", "email_verified": True, "name": "Mallory", "groups": []},
}


@dataclass
class Provider:
    port: int
    key: RSAKey
    proc: subprocess.Popen[str] | None = None
    log: Path | None = None
    redirect_base: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def start_provider(tmp: Path, portal_base: str) -> Provider:
    """Run provider.js with a client whose redirect URIs point at `portal_base` (the portal's public URL)."""
    node = require_tool("node", hint="Node.js 20 (Debian package nodejs)")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        raise AssertionError("tests/oidc/node_modules is missing: run `make deps` (scripts/deps/60-oidc.sh)")
    key = RSAKey.generate_key(2048, parameters={"kid": "test-signing-key", "alg": "RS256", "use": "sig"})
    provider = Provider(port=free_port(), key=key, redirect_base=portal_base)
    config = {
        "port": provider.port,
        "client": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{portal_base}/auth/callback"],
            "post_logout_redirect_uris": [f"{portal_base}/auth/signed-out"],
        },
        "jwks": {"keys": [key.as_dict(private=True)]},
        "accounts": ACCOUNTS,
    }
    path = tmp / "oidc-provider.json"
    path.write_text(json.dumps(config))
    provider.log = tmp / "oidc-provider.log"
    provider.proc = subprocess.Popen(
        [node, str(OIDC_DIR / "provider.js"), str(path)],
        cwd=OIDC_DIR,
        stdout=provider.log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                return provider
        except httpx.HTTPError:
            pass
        if provider.proc.poll() is not None:
            break
        time.sleep(0.2)
    provider.stop()
    raise AssertionError(f"the OpenID provider did not start:\n{provider.logs()}")
