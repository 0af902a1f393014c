"""The OpenAPI document describes every parameter and every error response in the one error shape."""

from __future__ import annotations


async def test_every_parameter_and_error_response_is_described(client) -> None:
    spec = (await client.get("/openapi.json")).json()
    undocumented, wrong_errors = [], []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                if not param.get("description") and not param.get("schema", {}).get("description"):
                    undocumented.append(f"{method.upper()} {path} {param['name']}")
            for status, response in op["responses"].items():
                if not response.get("description"):
                    undocumented.append(f"{method.upper()} {path} -> {status}")
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                if status.startswith("4") and schema.get("$ref") != "#/components/schemas/ErrorBody":
                    wrong_errors.append(f"{method.upper()} {path} -> {status}")
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in op["responses"], f"{method.upper()} {path}: 422 not documented"
    assert undocumented == [], undocumented
    assert wrong_errors == [], wrong_errors
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's default shape is never used
    reviews = spec["paths"]["/api/v1/reviews"]["get"]
    assert {p["name"] for p in reviews["parameters"]} >= {
        "tool",
        "connection",
        "repository",
        "state",
        "author",
        "reviewer",
        "label",
        "updated_since",
        "q",
        "sort",
        "limit",
        "cursor",
    }
    assert {"304", "400", "422", "429"} <= set(reviews["responses"])


async def test_docs_page_uses_only_local_assets(client) -> None:
    html = (await client.get("/docs")).text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html and "<script>" not in html
