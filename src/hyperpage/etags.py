"""A response body and its ETag, made together where the body is made: a list page is rendered and tagged on a
SQLite reader thread (listing/sqlitereader.py), off the event loop, and api/caching.py answers with both."""

from __future__ import annotations

import hashlib
from typing import NamedTuple


def etag_for(body: bytes) -> str:
    # blake2b releases the GIL for inputs over 2 KB: on a reader thread it runs beside the loop
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


class Tagged(NamedTuple):
    """JSON bytes and their ETag (etag_for)."""

    body: bytes
    etag: str


def tagged(body: bytes) -> Tagged:
    return Tagged(body, etag_for(body))
