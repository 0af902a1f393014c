"""The route class of the list endpoints, and the middleware that answers them without FastAPI's routing.

ListRoute: FastAPI documents the endpoints as usual, a lean handler answers them. FastAPI's handler re-inspects
the query model's annotations on every request to collect its parameters (`_request_param_model_to_args`):
measured at ~40 % of an uncached list request, several times the cost of validating the values. This handler
collects them itself, exactly as FastAPI does for a query model without aliases or list fields (the last value
of a repeated name wins; names that are no field are passed on, so the model's `extra="forbid"` refuses them),
validates with the same model, and raises the same RequestValidationError, so answers and errors stay
byte-identical (tests/api/test_list_golden.py). The OpenAPI document is built from the declared signature, which
is unchanged. Validation is a pure function of the raw query string, so each route keeps the validated queries
of the last MAX_PARSED strings it accepted (a dashboard asks a handful); refused ones are validated anew.

ListFastPath: what is left around that handler (Starlette's exception middleware, FastAPI's exit stacks, the
router walking every route, the per-route exception wrapper) cost ~25 % of an uncached request, measured in
process. The middleware sits innermost, inside every middleware of ours (auth gate, rate limiter, response
cache, metrics, request id), and answers a GET for a path the router has already resolved to a ListRoute by
calling that route's handler directly, with the app's own exception handlers. Which path is which route is
learnt from the router's first answer for it, so route order, prefixes and shadowing stay the router's call.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, get_args

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from hyperpage.validation import RequestModel

# endpoint(request, engine, query): the signature every list view has
_PARAMETERS = ("request", "engine", "query")
ExceptionHandler = Callable[[Request, Exception], Any]
MAX_PARSED = 1024  # validated query strings kept per list route


class ListRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # before APIRoute's own __init__, which asks get_route_handler for the handler
        self.query_model = _query_model(endpoint)
        self.query_fields = frozenset(self.query_model.model_fields)
        self._parsed: dict[bytes, Any] = {}  # raw query string -> its validated query (never changed by a view)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.answer

    async def answer(self, request: Request) -> Response:
        # validation is a pure function of the raw query string: a dashboard's few shapes are validated once
        raw = request.scope["query_string"]
        query = self._parsed.get(raw)
        if query is None:
            query = parse_query(self.query_model, self.query_fields, request)  # a 422 raises: never kept
            if len(self._parsed) >= MAX_PARSED:  # query strings are client-chosen: bound what they can take
                self._parsed.clear()
            self._parsed[raw] = query
        response: Response = await self.endpoint(request, request.app.state.engine, query)
        return response


class ListFastPath:
    """Innermost middleware: a GET to a list route's path goes straight to that route's handler."""

    def __init__(self, app: ASGIApp, handlers: Mapping[Any, ExceptionHandler]) -> None:
        self.app = app
        self._handlers = handlers  # the app's exception handlers, as registered (errors.py)
        self._routes: dict[str, ListRoute] = {}  # path -> the route the router chose for a GET of it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # root_path: the router matches the path without it; such requests keep the router's way
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        route = self._routes.get(path)
        if route is None:
            await self.app(scope, receive, send)
            chosen = scope.get("route")
            if isinstance(chosen, ListRoute):  # list routes take no path parameters: the path names the route
                self._routes[path] = chosen
            return
        scope["route"] = route  # as the router leaves it: metrics label the request by the route's template
        request = Request(scope, receive, send)
        try:
            response = await route.answer(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise  # to UnhandledErrorMiddleware, as from the router
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, exc)
            else:
                response = await run_in_threadpool(handler, request, exc)  # as Starlette runs a plain `def`
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> ExceptionHandler | None:
        """The handler Starlette's ExceptionMiddleware would pick: by status for an HTTPException, else by the
        nearest class; the handler of Exception (or 500) belongs to the outermost middleware, not to it."""
        if isinstance(exc, HTTPException) and exc.status_code in self._handlers:
            return self._handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in self._handlers:
                return self._handlers[cls]
        return None


def parse_query(model: type[BaseModel], fields: frozenset[str], request: Request) -> Any:
    params = request.query_params
    values: dict[str, Any] = {}
    extras: dict[str, list[str]] = {}
    for key, value in params.multi_items():
        if key in fields:
            values[key] = value
        else:
            extras.setdefault(key, []).append(value)
    for key, seen in extras.items():
        values[key] = seen[0] if len(seen) == 1 else seen
    try:
        return model.model_validate(values, from_attributes=True)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("query", *err.get("loc", ()))} for err in exc.errors(include_url=False)]
        ) from None


def _query_model(endpoint: Callable[..., Any]) -> type[BaseModel]:
    signature = inspect.signature(endpoint, eval_str=True)
    if tuple(signature.parameters) != _PARAMETERS:
        raise TypeError(f"{endpoint.__name__}: a list view takes exactly {_PARAMETERS}")
    annotation = signature.parameters["query"].annotation
    model = get_args(annotation)[0] if get_args(annotation) else annotation
    if not (isinstance(model, type) and issubclass(model, RequestModel)):
        raise TypeError(f"{endpoint.__name__}: `query` must be a query model")
    return model
