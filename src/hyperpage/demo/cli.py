"""`hyperpage demo ...`: the fake upstream (GitHub + GitLab + Jira) for `make run` and manual trials."""

from __future__ import annotations

from typing import Annotated

import typer

from hyperpage.demo.config import (
    DEMO_GITHUB_TOKEN,
    DEMO_GITLAB_TOKEN,
    DEMO_JIRA_API_TOKEN,
    DEMO_JIRA_EMAIL,
    FakeUpstreamConfig,
)

app = typer.Typer(help="Demo helpers: a fake GitHub, GitLab and Jira serving generated data.", no_args_is_help=True)


@app.command()
def upstream(
    host: Annotated[str, typer.Option(help="Listen address (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Listen port.")] = 8900,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 42,
    repos: Annotated[int, typer.Option(min=1, help="GitHub repositories.")] = 6,
    prs_per_repo: Annotated[int, typer.Option(min=0, help="Pull requests per repository.")] = 30,
    big_repo_prs: Annotated[int, typer.Option(min=0, help="Pull requests in the first repository (0 = same).")] = 250,
    issues_per_repo: Annotated[int, typer.Option(min=0, help="GitHub issues per repository.")] = 20,
    runs_per_repo: Annotated[int, typer.Option(min=0, help="Workflow runs per repository.")] = 40,
    projects: Annotated[int, typer.Option(min=1, help="GitLab projects.")] = 4,
    mrs_per_project: Annotated[int, typer.Option(min=0, help="Merge requests per project.")] = 25,
    pipelines_per_project: Annotated[int, typer.Option(min=0, help="Pipelines per project.")] = 40,
    jira_projects: Annotated[int, typer.Option(min=1, max=6, help="Jira projects.")] = 3,
    jira_issues_per_project: Annotated[int, typer.Option(min=0, help="Jira issues per project.")] = 60,
    github_core_limit: Annotated[int, typer.Option(min=1, help="GitHub core quota per token and window.")] = 5000,
    github_window: Annotated[int, typer.Option(min=1, help="GitHub quota window in seconds.")] = 3600,
    activity: Annotated[float, typer.Option(min=0, help="Seconds between simulated events (0 = static data).")] = 20,
) -> None:
    """Serve the fake upstream: GitHub under /github, GitLab under /gitlab, Jira under /jira."""
    import uvicorn

    from hyperpage.demo.upstream import FakeUpstream

    config = FakeUpstreamConfig(
        seed=seed,
        repos=repos,
        prs_per_repo=prs_per_repo,
        big_repo_prs=big_repo_prs,
        issues_per_repo=issues_per_repo,
        runs_per_repo=runs_per_repo,
        projects=projects,
        mrs_per_project=mrs_per_project,
        pipelines_per_project=pipelines_per_project,
        jira_projects=jira_projects,
        jira_issues_per_project=jira_issues_per_project,
        github_core_limit=github_core_limit,
        github_window_seconds=github_window,
    )
    base = f"http://{host}:{port}"
    # These are the fake's own public demo credentials, printed so the portal can be pointed at it.
    typer.echo(
        f"fake upstream on {base}\n"
        f"  GITHUB_API_URL={base}/github GITHUB_TOKEN={DEMO_GITHUB_TOKEN}\n"
        f"  GITLAB_WEB_URL={base}/gitlab GITLAB_TOKEN={DEMO_GITLAB_TOKEN}\n"
        f"  JIRA_WEB_URL={base}/jira JIRA_EMAIL={DEMO_JIRA_EMAIL} JIRA_API_TOKEN={DEMO_JIRA_API_TOKEN}\n"
        f"  control plane: {base}/_fake/stats, /_fake/faults, /_fake/mutate, /_fake/reset"
    )
    from hyperpage.demo.graphql_schema import SchemaMissing, load_schema

    try:
        load_schema(config.github_graphql_schema)  # built once now, not on the first query
    except SchemaMissing as exc:
        # GraphQL only: REST keeps working, the portal's pull-request details job fails naming the reason
        typer.echo(f"  GraphQL disabled (POST /github/graphql answers 501): {exc}", err=True)
    application = FakeUpstream(config).app(activity_interval=activity or None)
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
