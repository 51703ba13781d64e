"""report.html in headless Chromium, networking blocked: counts, filtering, no request, no script injection."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from audit.report import write_reports
from tests.report.fixtures import fixed_run

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "chromium is not installed: `make test` installs Debian's chromium when run as root "
            "(see scripts/ensure-chromium); install it, or run .ci/run"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def open_report(browser, tmp_path):
    run = fixed_run()
    write_reports(run, tmp_path, ["html", "json"])
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 1600})
    attempted: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            attempted.append(route.request.url),
            route.continue_() if route.request.url.startswith("file://") else route.abort(),
        ),
    )
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((tmp_path / "report.html").as_uri())
    return page, attempted, dialogs, json.loads((tmp_path / "results.json").read_text())


def test_counts_filter_and_no_network(browser, tmp_path):
    page, attempted, dialogs, document = open_report(browser, tmp_path)
    shown = {
        card.get_attribute("data-outcome"): int(card.locator(".n").inner_text())
        for card in page.locator("#counts .card[data-outcome]").all()
    }
    assert shown == document["counts"]
    assert int(page.locator("#warnings-card .n").inner_text()) == document["warnings"] == 1
    assert page.locator("#verdict").inner_text() == document["verdict"]
    rows = page.locator("#findings tbody tr")
    assert rows.count() == sum(len(r["findings"]) for r in document["results"]) == 7
    page.fill("#filter-text", "23m10s")
    assert rows.count() == 1 and "t-slow" in rows.first.inner_text()
    page.fill("#filter-text", "")
    page.select_option("#filter-outcome", "drift")
    assert rows.count() == 2
    page.select_option("#filter-outcome", "")
    page.select_option("#filter-kind", "schema")
    assert rows.count() == 2
    page.select_option("#filter-severity", "error")
    assert rows.count() == 1 and "/AIJobDetail/CompleteTime" in rows.first.inner_text()
    page.select_option("#filter-severity", "warning")
    assert rows.count() == 1 and "/SnapshotJobDetail/NormalConfig" in rows.first.inner_text()
    assert rows.first.locator(".pill.warning").inner_text() == "warning"
    page.select_option("#filter-kind", "")
    page.select_option("#filter-severity", "waived")
    assert rows.count() == 1 and "legacy template until the migration" in rows.first.inner_text()
    assert int(page.locator("#waived-card .n").inner_text()) == document["waived"] == 1
    assert page.locator("#changes ul.changes-new li").count() == 2
    assert "failing since 2026-11-22T01:00:00Z" in page.locator("#changes ul.changes-ongoing").inner_text()
    assert page.locator("#changes h3").first.inner_text().startswith("New")  # new first
    assert page.locator("#trend rect").count() == 6  # three runs, six outcome segments
    notes = page.locator("#waivers li").all_inner_texts()
    assert any("expired, waives nothing" in n for n in notes) and any(
        "expires within 14 days" in n for n in notes
    )
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert [url for url in attempted if not url.startswith("file://")] == []
    assert dialogs == []


def test_hostile_content_shows_as_text_and_never_runs(browser, tmp_path):
    page, _, dialogs, _ = open_report(browser, tmp_path)
    page.fill("#filter-text", "__xss")
    row = page.locator("#findings tbody tr").first
    assert "<script>window.__xss=1</script>" in row.inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator("#findings img").count() == 0
    assert dialogs == []


def test_sorting_by_a_column(browser, tmp_path):
    page, _, _, _ = open_report(browser, tmp_path)
    page.click("#findings th[data-column='2']")
    first = [page.locator("#findings tbody tr").nth(i).locator("td").nth(2).inner_text() for i in range(5)]
    assert first == sorted(first)
