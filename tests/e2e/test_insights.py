"""The Insights page in headless Chromium against a real server holding the hand-computed scenario."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ARTIFACTS, Watched
from tests.insights.scenario import seed
from tests.portal_server import serve
from tests.serverproc import ServerProcess

WINDOW = "/insights?from=2026-11-02&to=2026-11-15"


@pytest.fixture(scope="module")
def insights_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServerProcess]]:
    """Started before the browser: seeding runs its own event loop, which Playwright's would refuse."""
    tmp = tmp_path_factory.mktemp("e2e-insights")
    started: dict[str, ServerProcess] = {}
    try:
        started["data"] = serve(tmp, "scenario", seeded=True, seeder=seed)
        started["empty"] = serve(tmp, "empty", seeded=False)
        yield started
    finally:
        for server in started.values():
            server.stop()


def test_insights_page_draws_bands_trends_and_the_breakdown(insights_servers, watched: Watched) -> None:
    page = watched.page
    page.goto(insights_servers["data"].base_url + "/")
    page.get_by_role("link", name="Insights").click()
    page.wait_for_url("**/insights")
    page.goto(insights_servers["data"].base_url + WINDOW)
    assert page.get_by_role("heading", name="Insights", exact=True).is_visible()
    cards = page.locator("[data-key]")
    assert cards.count() == 4
    assert page.locator("[data-key='change-failure-rate'] [data-band]").inner_text() == "Low"
    assert page.locator("[data-key='deployment-frequency'] [data-band]").inner_text() == "High"
    charts = page.locator("figure[data-chart] svg[role=img]")
    assert charts.count() == 4
    # drawn, not just present: every chart's bars have a size on screen
    for i in range(4):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 200 and box["height"] > 60
    assert (
        page.locator("figure[data-chart] svg.bars rect.series-bad").count() == 2
    )  # a failed stack in each of the 2 weeks
    parts = page.locator("svg.breakdown rect")
    assert parts.count() == 4
    widths = [parts.nth(i).bounding_box()["width"] for i in range(4)]
    assert all(w > 0 for w in widths) and widths[3] == max(widths)  # deploy waits longest in this world
    # the failed fill is a different colour from the successful one (CSS from /static, not inline)
    ok = page.evaluate("getComputedStyle(document.querySelector('svg.bars rect.series-ok')).fill")
    bad = page.evaluate("getComputedStyle(document.querySelector('svg.bars rect.series-bad')).fill")
    assert ok != bad and "rgb" in ok
    watched.shot("insights")
    page.get_by_label("Author").fill("dave")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**author=dave**")
    assert "Cycle time of 1 merged pull requests" in page.locator("[data-cycle] h2").inner_text()
    watched.assert_clean()


def test_insights_page_reads_without_javascript_and_shows_an_empty_state(insights_servers, browser) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(insights_servers["data"].base_url + WINDOW)
    assert page.locator("[data-key]").count() == 4
    assert page.locator("figure[data-chart] svg[role=img]").count() == 4
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "insights-no-js.png"), full_page=True)
    page.goto(insights_servers["empty"].base_url + "/insights")
    assert page.locator("[data-empty]").is_visible()
    assert "No deployments or merged pull requests" in page.locator("[data-empty]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "insights-empty.png"), full_page=True)
    context.close()
