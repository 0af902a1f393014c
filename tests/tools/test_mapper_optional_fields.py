"""Property: for every optional field of every mapped object, removing it or setting it to null never fails
the mapping (issue 15). Optional means: not required by the provider's own description of the object.

Required fields (a mapper may refuse an item without them; the sync keeps such items in sync_rejects):
GitHub `pull-request-simple`, `workflow-run`, `issue`, `repository` require id, number/status/state and the
timestamps (https://docs.github.com/rest, and ../shared/upstream-specs); GitLab documents id, iid, state and
created_at/updated_at on every merge request, pipeline and issue; Jira's search returns `id`, `key` and
`fields`, and we ask for `created`/`updated` (an issue without them cannot be placed in time).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpage.tools.github import mappers as gh
from hyperpage.tools.gitlab import mappers as gl
from hyperpage.tools.jira import mappers as jira
from tests.tools.mock_github import fixture

NOW = datetime(2026, 10, 13, tzinfo=UTC)
IDS = {"connection_id": 1, "repository_id": 2, "now": NOW}
Path = tuple[str | int, ...]

CASES: dict[str, tuple[Callable[..., dict[str, Any]], Callable[[], dict[str, Any]], dict[str, Any], set[Path]]] = {
    "github pull request": (
        gh.pull_request,
        lambda: fixture("github", "pull.json"),
        IDS,
        {("id",), ("number",), ("state",), ("created_at",), ("updated_at",)},
    ),
    "github workflow run": (
        gh.workflow_run,
        lambda: fixture("github", "workflow_runs.json")["workflow_runs"][0],
        IDS,
        {("id",), ("status",), ("created_at",), ("updated_at",)},
    ),
    "github issue": (
        gh.issue,
        lambda: fixture("github", "issues_with_pr.json")[0],
        {**IDS, "repo": "acme/web"},
        {("id",), ("number",), ("state",), ("created_at",), ("updated_at",)},
    ),
    "github repository": (gh.repository, lambda: fixture("github", "repo.json"), {}, {("id",), ("full_name",)}),
    "gitlab merge request": (
        gl.merge_request,
        lambda: fixture("gitlab", "merge_requests.json")[0],
        IDS,
        {("id",), ("iid",), ("state",), ("created_at",), ("updated_at",)},
    ),
    "gitlab pipeline": (
        gl.pipeline,
        lambda: fixture("gitlab", "pipeline_47.json"),
        IDS,
        {("id",), ("status",), ("created_at",), ("updated_at",)},
    ),
    "gitlab issue": (
        gl.issue,
        lambda: fixture("gitlab", "issues.json")[0],
        IDS,
        {("id",), ("iid",), ("state",), ("created_at",), ("updated_at",)},
    ),
    "gitlab project": (gl.project, lambda: fixture("gitlab", "project.json"), {}, {("id",), ("path_with_namespace",)}),
    "jira issue": (
        jira.issue,
        lambda: fixture("jira", "search_page1.json")["issues"][0],
        {"connection_id": 1, "web_url": "https://acme.atlassian.net", "now": NOW},
        {("id",), ("key",), ("fields",), ("fields", "created"), ("fields", "updated")},
    ),
}


def field_paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every key path of a payload, nested objects and objects inside lists included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from field_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from field_paths(value, (*prefix, index))


def optional_paths(name: str) -> list[Path]:
    _mapper, sample, _kwargs, required = CASES[name]
    return sorted((p for p in field_paths(sample()) if p not in required), key=repr)


def without(item: dict[str, Any], path: Path, action: str) -> dict[str, Any]:
    parent: Any = item
    for step in path[:-1]:
        if isinstance(parent, dict | list) and (step in parent if isinstance(parent, dict) else step < len(parent)):
            parent = parent[step]
        else:
            return item  # an enclosing field is already gone
        if parent is None:
            return item
    if isinstance(parent, dict) and path[-1] in parent:
        if action == "remove":
            del parent[path[-1]]
        else:
            parent[path[-1]] = None
    return item


ALL = [(name, path, action) for name in CASES for path in optional_paths(name) for action in ("remove", "null")]


@pytest.mark.parametrize(("name", "path", "action"), ALL, ids=[f"{n}:{'.'.join(map(str, p))}:{a}" for n, p, a in ALL])
def test_each_optional_field_removed_or_null_still_maps(name: str, path: Path, action: str) -> None:
    mapper, sample, kwargs, _required = CASES[name]
    row = mapper(without(sample(), path, action), **kwargs)
    assert row["external_id"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(sorted(CASES)))
def test_any_combination_of_optional_fields_missing_or_null_still_maps(data: st.DataObject, name: str) -> None:
    mapper, sample, kwargs, _required = CASES[name]
    paths = optional_paths(name)
    chosen = data.draw(
        st.lists(st.tuples(st.sampled_from(paths), st.sampled_from(("remove", "null"))), max_size=len(paths))
    )
    item = copy.deepcopy(sample())
    for path, action in chosen:
        item = without(item, path, action)
    row = mapper(item, **kwargs)
    assert row["external_id"]
