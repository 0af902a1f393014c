"""The route class of the list endpoints: FastAPI documents them as usual, a lean handler answers them.

FastAPI's handler re-inspects the query model's annotations on every request to collect its parameters
(`_request_param_model_to_args`): measured at ~40 % of an uncached list request, several times the cost of
validating the values. This handler collects them itself, exactly as FastAPI does for a query model without
aliases or list fields (the last value of a repeated name wins; names that are no field are passed on, so the
model's `extra="forbid"` refuses them), validates with the same model, and raises the same
RequestValidationError, so answers and errors stay byte-identical (tests/api/test_list_golden.py). The OpenAPI
document is built from the declared signature, which is unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, get_args

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from hyperpage.validation import RequestModel

# endpoint(request, engine, query): the signature every list view has
_PARAMETERS = ("request", "engine", "query")


class ListRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        model = _query_model(self.endpoint)
        fields = frozenset(model.model_fields)
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            response: Response = await endpoint(request, request.app.state.engine, parse_query(model, fields, request))
            return response

        return handler


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
