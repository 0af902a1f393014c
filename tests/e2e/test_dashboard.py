"""The dashboard in headless Chromium against a real server: data, search, URL state, theme, setup, staleness."""

from __future__ import annotations

import re

from tests.e2e.conftest import ARTIFACTS, Watched


def _rows(page, panel: str) -> int:
    return page.locator(f"#panel-{panel} tbody tr[data-row]").count()


def test_overview_loads_with_data_in_all_four_panels(servers, watched: Watched) -> None:
    page = watched.page
    page.goto(servers["data"].base_url + "/")
    for heading in ("Code Reviews", "CI/CD", "Tickets", "Rate limits"):
        assert page.get_by_role("heading", name=heading).is_visible()
    assert _rows(page, "reviews") == 10  # one page of ten, with a next page
    assert page.locator("#panel-reviews a[rel=next]").is_visible()
    assert _rows(page, "pipelines") == 5 and _rows(page, "issues") == 4 and _rows(page, "limits") == 2
    assert page.locator("#panel-limits svg.chart").count() >= 1
    assert "synced 2 min ago" in page.locator("#panel-reviews [data-fresh]").inner_text()
    watched.shot("overview")
    page.locator("#panel-reviews a[rel=next]").click()
    page.wait_for_url(re.compile(r"rc="))
    assert _rows(page, "reviews") == 5
    watched.assert_clean()


def test_search_narrows_rows_and_keyboard_slash_focuses_it(servers, watched: Watched) -> None:
    page = watched.page
    page.goto(servers["data"].base_url + "/")
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("login")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=login"))
    assert _rows(page, "reviews") == 1
    assert "Fix login redirect loop" in page.locator("#panel-reviews tbody").inner_text()
    link = page.locator("#panel-reviews tbody a").first
    assert link.get_attribute("href", timeout=2000).startswith("https://example.test/")  # rows link upstream
    watched.shot("search")
    watched.assert_clean()


def test_failing_filter_is_kept_in_the_url_and_survives_reload(servers, watched: Watched) -> None:
    page = watched.page
    page.goto(servers["data"].base_url + "/")
    page.get_by_label("Failing pipelines only").check()
    page.locator("#panel-pipelines button[type=submit]").click()
    page.wait_for_url(re.compile(r"pf=1"))
    assert _rows(page, "pipelines") == 2
    page.reload()
    assert page.get_by_label("Failing pipelines only").is_checked()
    assert _rows(page, "pipelines") == 2
    assert page.locator("#panel-pipelines tbody").inner_text().count("Failure") == 2
    page.get_by_label("Needs review by").fill("carol")
    page.locator("#panel-reviews button[type=submit]").click()
    page.wait_for_url(re.compile(r"rr=carol"))
    assert "pf=1" in page.url and _rows(page, "reviews") == 4  # both filters in one shareable URL
    watched.shot("filters")
    watched.assert_clean()


def test_theme_toggle_persists_across_reloads(servers, watched: Watched) -> None:
    page = watched.page
    page.goto(servers["data"].base_url + "/")
    light_bg = page.evaluate("getComputedStyle(document.getElementById('app')).backgroundColor")
    page.get_by_role("button", name="Dark").click()
    page.wait_for_selector("#app[data-theme=dark]")
    page.reload()
    assert page.locator("#app").get_attribute("data-theme") == "dark"
    dark_bg = page.evaluate("getComputedStyle(document.getElementById('app')).backgroundColor")
    assert dark_bg != light_bg
    assert page.get_by_role("button", name="Dark").get_attribute("aria-pressed") == "true"
    watched.shot("dark-theme")
    page.get_by_role("button", name="Light").click()
    page.wait_for_selector("#app[data-theme=light]")
    watched.assert_clean()


def test_stale_connection_shows_its_warning_and_last_error(servers, watched: Watched) -> None:
    page = watched.page
    page.goto(servers["data"].base_url + "/")
    stale = page.locator("#panel-pipelines [data-stale]")
    assert stale.is_visible() and "twice the interval" in stale.inner_text()
    assert page.locator("#panel-reviews [data-stale]").count() == 0
    conn = page.locator("[data-connection='acme-gitlab']")
    assert "Stale" in conn.inner_text()
    assert "GitLab answered 401 Unauthorized: the token was refused" in conn.inner_text()
    watched.shot("stale")
    watched.assert_clean()


def test_setup_page_lists_the_missing_variables(servers, watched: Watched) -> None:
    page = watched.page
    page.goto(servers["empty"].base_url + "/")
    assert page.get_by_role("heading", name="Connect a tool to get started").is_visible()
    jira = page.locator("[data-tool='Jira']").inner_text()
    for variable in ("ENABLE_JIRA", "JIRA_WEB_URL", "JIRA_EMAIL", "JIRA_API_TOKEN"):
        assert variable in jira
    assert "GITHUB_TOKEN" in page.locator("[data-tool='GitHub']").inner_text()
    watched.shot("setup")
    watched.assert_clean()


def test_pages_read_without_javascript(servers, browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(servers["data"].base_url + "/?pf=1")
    assert page.locator("#panel-pipelines tbody tr[data-row]").count() == 2
    page.locator("#q").fill("login")
    page.locator("form.search button").click()
    page.wait_for_url(re.compile(r"q=login"))
    assert page.locator("#panel-reviews tbody tr[data-row]").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "no-js.png"), full_page=True)
    context.close()


def test_auto_refresh_runs_every_30_s_and_slows_down_in_a_hidden_tab(servers, watched: Watched) -> None:
    page = watched.page
    refreshes: list[str] = []
    page.on("request", lambda req: refreshes.append(req.url) if req.headers.get("hx-request") else None)
    page.clock.install()
    page.goto(servers["data"].base_url + "/?pf=1")
    page.wait_for_load_state("networkidle")
    with page.expect_response(lambda resp: resp.request.headers.get("hx-request") == "true", timeout=15_000):
        page.clock.run_for(31_000)
    assert len(refreshes) == 1 and refreshes[0].endswith("/?pf=1")  # refreshes the same filtered view
    # Counted in the page: htmx starts a request while the fake clock fires the timer, so the count is final
    # when run_for returns, where the network event might still be on its way.
    page.evaluate(
        "window.refreshesStarted = 0;"
        "document.addEventListener('htmx:beforeRequest', () => { window.refreshesStarted += 1; })"
    )
    page.evaluate(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    page.clock.run_for(120_000)
    assert page.evaluate("window.refreshesStarted") == 0 and len(refreshes) == 1  # hidden: none in two minutes
    with page.expect_response(lambda resp: resp.request.headers.get("hx-request") == "true", timeout=15_000):
        page.clock.run_for(61_000)  # ...but it still refreshes, at the slower pace
    assert len(refreshes) == 2
    page.wait_for_load_state("networkidle")
    assert _rows(page, "pipelines") == 2
    watched.assert_clean()
