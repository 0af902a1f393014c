"""Every GraphQL query the GitHub client sends validates against GitHub's published schema.

The schema comes from the npm package @octokit/graphql-schema (installed by `make deps`); without it these
tests fail naming the install step, never skip."""

from __future__ import annotations

import pytest
from graphql.validation import NoDeprecatedCustomRule

from graphql import GraphQLSchema, parse, specified_rules, validate
from hyperpage.demo.graphql_schema import SchemaMissing, load_schema
from hyperpage.tools.github.graphql import QUERIES, graphql_url

RULES = [*specified_rules, NoDeprecatedCustomRule]


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    try:
        return load_schema()
    except SchemaMissing as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_query_is_valid_against_githubs_schema_and_uses_no_deprecated_field(
    schema: GraphQLSchema, name: str
) -> None:
    errors = validate(schema, parse(QUERIES[name]), RULES)
    assert errors == [], [e.message for e in errors]


def test_the_check_catches_a_field_github_does_not_have(schema: GraphQLSchema) -> None:
    broken = QUERIES["PullRequestDetails"].replace("authoredDate", "authoredAt")
    messages = [e.message for e in validate(schema, parse(broken), RULES)]
    assert len(messages) == 1 and "Cannot query field 'authoredAt' on type 'Commit'" in messages[0], messages


def test_the_check_catches_a_deprecated_field(schema: GraphQLSchema) -> None:
    # PullRequest.databaseId is deprecated (an Int overflows); fullDatabaseId is its replacement
    old = QUERIES["PullRequestDetails"].replace("fullDatabaseId\n        number", "databaseId\n        number")
    messages = [e.message for e in validate(schema, parse(old), RULES)]
    assert any("PullRequest.databaseId is deprecated" in m for m in messages), messages


def test_graphql_lives_beside_the_rest_root_on_github_com_and_enterprise_server() -> None:
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com/api/graphql"
    assert graphql_url("http://127.0.0.1:8900/github") == "http://127.0.0.1:8900/github/graphql"
