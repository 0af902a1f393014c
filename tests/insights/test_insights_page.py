"""The Insights page without a browser: figures, band badges, SVG charts, empty state, bad filters, navigation."""

from __future__ import annotations

import html
import re

from tests.insights.scenario import seed

WINDOW = {"from": "2026-11-02", "to": "2026-11-15"}


async def test_page_shows_the_four_keys_with_bands_charts_and_breakdown(client, db_url) -> None:
    await seed(db_url)
    resp = await client.get("/insights", params=WINDOW)
    assert resp.status_code == 200
    page = resp.text
    bands = dict(re.findall(r'data-key="([a-z-]+)".*?data-band="(\w+)"', page, re.S))
    assert bands == {
        "deployment-frequency": "high",
        "lead-time": "high",
        "change-failure-rate": "low",
        "recovery": "high",
    }
    assert "4.5 <span>a week</span>" in page  # 9 deployments in 14 days
    assert "1 d 0 h <span>median</span>" in page  # lead time 87000 s
    assert "40 %" in page and "4 of 10 deployments failed" in page
    assert page.count('<figure class="insight-chart"') == 4 and page.count('class="series-bad"') >= 2
    assert 'aria-label="Production deployments per week. week of 02 Nov: 4; week of 09 Nov: 5"' in page
    assert re.search(r'<tr data-stage="pickup"><th scope="row">Pickup</th><td>8</td><td>30 min</td>', page)
    assert re.search(r'<tr data-stage="unreviewed">.*?<td>1</td><td>6 h</td>', page)
    assert "Accelerate State of DevOps Report 2023" in page
    assert 'style="' not in page and "<script>" not in page  # the CSP allows neither
    assert '<a href="/insights" aria-current="page">Insights</a>' in page


async def test_empty_window_says_so(client) -> None:
    page = (await client.get("/insights")).text
    assert "data-empty" in page and "No deployments or merged pull requests in this window" in page
    assert '<a href="/insights">Insights</a>' in (await client.get("/setup")).text  # in the navigation everywhere


async def test_bad_filters_are_a_400_that_names_them(client) -> None:
    for params, words in (
        ({"from": "2026-11-10", "to": "2026-11-01"}, "`from` is after `to`"),
        ({"to": "yesterday"}, "to: expected a date"),
        ({"team": "core"}, "unknown team 'core'"),
        ({"q": "x"}, "unknown parameter: q"),
    ):
        resp = await client.get("/insights", params=params)
        assert resp.status_code == 400 and words in html.unescape(resp.text), params
