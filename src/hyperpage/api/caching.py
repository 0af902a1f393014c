"""ETag, 304 and Cache-Control for data responses: dashboards poll, and an unchanged page should cost little."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

# Private: responses may depend on the caller (bearer token or session cookie, rate limit). Short max-age matches
# the dashboard's polling; after that the browser revalidates with If-None-Match and usually gets a body-less 304.
DATA_CACHE_CONTROL = "private, max-age=15"

NOT_MODIFIED_DOC = {"description": "Not modified: the `If-None-Match` ETag still matches; no body."}


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    return etag in candidates


def data_response(request: Request, payload: Any, *, status_code: int = 200) -> Response:
    """Serialise once, tag the bytes, and answer 304 when the client already holds them.

    `payload` is JSON bytes already (the lists: hyperpage.listing), a pydantic model, or dataclasses/dicts:
    orjson writes those with the same JSON pydantic would (UTC datetimes end in `Z`, enums by value);
    tests/api/test_serialisation.py holds the two to the same bytes.
    """
    if isinstance(payload, bytes):
        body = payload
    elif isinstance(payload, BaseModel):
        body = payload.model_dump_json().encode()
    else:
        body = orjson.dumps(payload, option=orjson.OPT_UTC_Z)
    etag = etag_for(body)
    headers = {"ETag": etag, "Cache-Control": DATA_CACHE_CONTROL, "Vary": "Authorization, Cookie"}
    if status_code == 200 and etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)
