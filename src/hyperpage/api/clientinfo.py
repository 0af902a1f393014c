"""Who is the client, and did it come over TLS? Forwarded headers are believed only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            decoded: str = value.decode("latin-1")  # ASGI header values are bytes
            return decoded
    return None


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def peer_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_address(scope: Scope, trusted: Sequence[Network]) -> str:
    """The first untrusted hop from the right of X-Forwarded-For, when the peer is a trusted proxy.

    Walking from the right matters: the left part of the header is whatever the client chose to send, so
    only the addresses appended by our own proxies can be believed.
    """
    peer = peer_address(scope)
    if not _trusted(peer, trusted):
        return peer
    forwarded = _header(scope, b"x-forwarded-for")
    if not forwarded:
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: do not let it pick an arbitrary key
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def is_tls(scope: Scope, trusted: Sequence[Network]) -> bool:
    if scope.get("scheme") in ("https", "wss"):
        return True
    if _trusted(peer_address(scope), trusted):
        proto = _header(scope, b"x-forwarded-proto")
        return proto is not None and proto.split(",")[0].strip().lower() == "https"
    return False
