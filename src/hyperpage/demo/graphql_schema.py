"""GitHub's published GraphQL schema (npm package @octokit/graphql-schema), for the fake upstream and the tests.

The package is installed by scripts/deps/61-graphql-schema.sh into tests/graphql/node_modules (`make test`,
`make run` and `make bench` run it). We read its introspection JSON: the SDL file of the pinned version
declares two fields of EnterpriseOwnerInfo twice, which graphql-core refuses to build.

The schema is built with `assume_valid=True`: GitHub's schema deprecates fields (PullRequest.databaseId) that an
interface still declares undeprecated, a rule graphql-core >= 3.3 checks on the schema itself. Queries are still
validated field by field against it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from graphql import GraphQLSchema, build_client_schema

PACKAGE = "@octokit/graphql-schema"
# src/hyperpage/demo/graphql_schema.py -> the checkout's tests/graphql (where `make` installs the package)
DEFAULT_DIR = Path(__file__).resolve().parents[3] / "tests" / "graphql" / "node_modules" / PACKAGE
INSTALL_HINT = "run `make deps` (scripts/deps/61-graphql-schema.sh installs it from the npm registry)"


class SchemaMissing(RuntimeError):
    """The npm package is not installed where we look."""


def schema_file(package_dir: Path | None = None) -> Path:
    path = (package_dir or DEFAULT_DIR) / "schema.json"
    if not path.is_file():
        raise SchemaMissing(f"GitHub's GraphQL schema ({PACKAGE}) is not installed at {path.parent}: {INSTALL_HINT}")
    return path


@lru_cache(maxsize=2)
def load_schema(package_dir: Path | None = None) -> GraphQLSchema:
    """Build the schema once per process (about a second: the introspection JSON is 5 MB)."""
    introspection = json.loads(schema_file(package_dir).read_text(encoding="utf-8"))
    return build_client_schema(introspection.get("data", introspection), assume_valid=True)
