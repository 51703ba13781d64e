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
            "(see scripts/ensure-test-tools); install it, or run .ci/run"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def open_report(browser, tmp_path, width=1366, run=None):
    write_reports(run or fixed_run(), tmp_path, ["html", "json"])
    context = browser.new_context(offline=True, viewport={"width": width, "height": 900})
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
    errors: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((tmp_path / "report.html").as_uri())
    assert errors == []
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
    page.fill("#findings-text", "23m10s")
    assert rows.count() == 1 and "t-slow" in rows.first.inner_text()
    page.fill("#findings-text", "")
    page.select_option("#findings-outcome", "drift")
    assert rows.count() == 2
    page.select_option("#findings-outcome", "")
    page.select_option("#findings-kind", "schema")
    assert rows.count() == 2
    page.select_option("#findings-severity", "error")
    assert rows.count() == 1 and "/AIJobDetail/CompleteTime" in rows.first.inner_text()
    page.select_option("#findings-severity", "warning")
    assert rows.count() == 1 and "/SnapshotJobDetail/NormalConfig" in rows.first.inner_text()
    assert rows.first.locator(".pill.warning").inner_text() == "warning"
    page.select_option("#findings-kind", "")
    page.select_option("#findings-severity", "waived")
    assert rows.count() == 1 and "legacy template until the migration" in rows.first.inner_text()
    assert int(page.locator("#waived-card .n").inner_text()) == document["waived"] == 1
    assert page.locator("#changes ul.changes-new li").count() == 2
    assert "failing since 2026-11-22T01:00:00Z" in page.locator("#changes ul.changes-ongoing").inner_text()
    assert page.locator("#changes h3").first.inner_text().startswith("New")  # new first
    assert page.locator("#trend rect").count() == 6  # three runs, six outcome segments
    notes = page.locator("#waiver-notes li").all_inner_texts()
    assert any("expired, waives nothing" in n for n in notes) and any(
        "expires within 14 days" in n for n in notes
    )
    assert [url for url in attempted if not url.startswith("file://")] == []
    assert dialogs == []


def test_every_job_is_on_the_page_and_findable(browser, tmp_path):
    page, _, _, document = open_report(browser, tmp_path)
    rows = page.locator("#jobs tbody tr")
    assert rows.count() == len(document["results"]) == 9
    assert page.locator("#jobs-shown").inner_text() == "9 of 9 jobs shown"
    page.select_option("#jobs-outcome", "pending")
    assert rows.count() == 1 and "s-run" in rows.first.inner_text()
    page.select_option("#jobs-outcome", "ok")
    assert sorted(r.locator(".id").inner_text() for r in rows.all()) == ["s-ok", "t-ok"]
    page.select_option("#jobs-outcome", "")
    page.select_option("#jobs-change", "new")
    assert rows.count() == 2
    page.select_option("#jobs-change", "")
    page.fill("#jobs-text", "starting with a dash")  # a manifest description finds its job
    assert rows.count() == 1 and "HYPERLINK" in rows.first.inner_text()


def test_a_jobs_evidence_expands(browser, tmp_path):
    page, _, _, _ = open_report(browser, tmp_path)
    page.fill("#jobs-text", "t-ok")
    page.locator("#jobs tbody tr button.expand").first.click()
    detail = page.locator("#jobs tbody tr.detail")
    assert detail.count() == 1
    said = detail.inner_text()
    assert 'Status: "TranscodeSuccess"; max_duration: 10m' in said  # its expectation
    assert "R-1" in said and "2026-11-24T01:00:00Z" in said and "API" in said
    assert '"JobId": "t-ok"' in said  # the answer as received, pretty-printed
    page.fill("#jobs-text", "t-slow")
    page.locator("#jobs tbody tr button.expand").first.click()
    said = page.locator("#jobs tbody tr.detail").inner_text()
    assert "state (a final answer of an earlier run" in said and "took 23m10s" in said


def test_needs_action_opens_the_page_new_first_with_owner_and_nights(browser, tmp_path):
    page, _, _, _ = open_report(browser, tmp_path)
    section = page.locator("#needs-action")
    assert page.locator("section").first.get_attribute("id") in ("counts", "needs-action")
    rows = section.locator("tbody tr")
    assert rows.count() == 5  # drift 2, invalid, not_found, error
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(2)] == ["new", "new"]
    slow = section.locator("tr", has_text="t-slow")
    assert "2026-11-22 (3 nights)" in slow.inner_text() and "media-team" in slow.inner_text()
    described = section.locator("tr", has_text="HYPERLINK")
    assert "-a description starting with a dash" in described.inner_text()


def test_waiver_register_and_counts_that_agree(browser, tmp_path):
    page, _, _, document = open_report(browser, tmp_path)
    register = page.locator("#waiver-register tbody tr")
    assert register.count() == len(document["waivers"]) == 3
    live = page.locator("#waiver-register tr[data-state='live']")
    assert "TemplateId" in live.inner_text() and "2026-12-31" in live.inner_text()
    assert live.locator("td").nth(6).inner_text() == "1"  # what it waived this run
    total = page.locator("#finding-total").inner_text()
    assert total == "5 findings in 5 jobs, besides 1 warning and 1 waived: 7 rows"
    assert page.locator("#findings-shown").inner_text() == "7 of 7 rows shown"
    page.select_option("#findings-change", "new")
    assert page.locator("#findings tbody tr").count() == 2
    assert page.locator("#findings thead th").all_inner_texts()[10].startswith("first seen")


@pytest.mark.parametrize("width", [1366, 360])
def test_readable_at_desktop_and_phone_widths(browser, tmp_path, width):
    page, _, _, document = open_report(browser, tmp_path, width)
    page.locator("#jobs tbody tr button.expand").first.click()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    # Issue #37: an id is never cut short; where it is longer than its column, it breaks.
    ids = {r["job_id"] for r in document["results"]}
    shown = page.evaluate(
        """() => [...document.querySelectorAll('#jobs .id')].map(e =>
              [e.textContent, getComputedStyle(e).textOverflow, e.scrollWidth <= e.clientWidth + 1])"""
    )
    assert {text for text, _, _ in shown} == ids
    assert all(cut != "ellipsis" and whole for _, cut, whole in shown)
    assert page.locator(".id").count() > 20
    assert page.locator("#trend .x-label").count() == 6 and page.locator("#trend .y-label").count() >= 2
    assert page.locator("#trend text.count").all_text_contents() == ["7", "3", "6"]
    assert page.locator(".legend li").all_inner_texts() == ["error", "drift", "ok"]
    # Issue #37: a duration histogram has a y-axis (0 and its tallest bar's count) and each bar's count.
    figure = page.locator("figure.chart").first
    chart = figure.locator("svg")
    assert chart.locator("line.axis").count() == 2
    counts = [int(t) for t in chart.locator("text.count").all_text_contents()]
    jobs = int(figure.locator("figcaption .muted").inner_text().split()[0])
    assert counts and sum(counts) == jobs  # every job in one bar, each bar says how many
    assert chart.locator("text").all_text_contents()[:2] == [str(max(counts)), "0"]  # the y-axis
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


# What overflows its box: an element whose content is wider than it (scrolled or clipped), or that
# reaches past the page's right edge. Inside an SVG the drawing's own coordinates rule.
OVERFLOWING = """() => {
  const edge = document.documentElement.clientWidth + 1, found = [];
  for (const e of document.querySelectorAll('body *')) {
    const style = getComputedStyle(e);
    if (style.display === 'none' || style.visibility === 'hidden' || e.closest('svg') && e.tagName !== 'svg') continue;
    const box = e.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 || box.right > edge)
      found.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className} ${e.scrollWidth}>${e.clientWidth} right ${Math.round(box.right)}`);
  }
  return found.slice(0, 10);
}"""


def big_run():
    """A 5,000-job run: the fixed run's jobs (hostile texts included) again and again, ids apart."""
    from dataclasses import replace

    base = fixed_run()
    results = tuple(
        replace(result, job_id=f"{result.job_id}-{n:04d}{'x' * (n % 7) * 12}")
        for n in range(556)
        for result in base.results
    )
    return replace(base, results=results[:5000], planned=5000)


def demo_run(tmp_path):
    """The demo as `make audit` runs it, read back from its results.json."""
    from audit.results.reader import read_results
    from tests.run.helpers import ROOT, cli

    out = tmp_path / "demo"
    done = cli(
        "run", str(ROOT / "examples" / "demo.yaml"), "--emulator", str(ROOT / "examples" / "demo-data.yaml"),
        "--out", str(out), "--state", str(tmp_path / "demo.db"), "--format", "json",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    return read_results(str(out / "results.json"))


@pytest.mark.parametrize("which", ["demo", "5000 jobs"])
def test_every_table_fits_its_box_at_every_width_and_in_print(browser, tmp_path, which):
    run = demo_run(tmp_path) if which == "demo" else big_run()
    failing = sum(r.outcome.value in ("drift", "invalid", "not_found", "error") for r in run.results)
    for width in (360, 768, 1366):
        (tmp_path / str(width)).mkdir()
        page, _, _, _ = open_report(browser, tmp_path / str(width), width, run)
        page.locator("#jobs tbody tr button.expand").first.click()
        assert page.evaluate(OVERFLOWING) == [], width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.context.close()
    # In print (an A4 page's width): every job id, every finding's message, each failing job's evidence.
    (tmp_path / "print").mkdir()
    page, _, _, _ = open_report(browser, tmp_path / "print", 718, run)
    page.emulate_media(media="print")
    assert page.evaluate(OVERFLOWING) == []
    ids = page.evaluate(
        "() => [...document.querySelectorAll('#jobs tbody tr:not(.detail) .id')].map(e => e.textContent)"
    )
    assert sorted(ids) == sorted(r.job_id for r in run.results)
    assert page.locator("#jobs tr.detail").count() == failing
    messages = page.evaluate(
        "() => [...document.querySelectorAll('#findings tbody tr')].map(r => r.innerText)"
    )
    every = [f.message for r in run.results for f in r.findings]
    printed = "\n".join(messages)
    assert len(messages) == len(every) and all(message in printed for message in set(every))
    if which == "demo":
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2


def test_print_hides_controls_keeps_ids_whole_and_renders_a_pdf(browser, tmp_path):
    page, _, _, _ = open_report(browser, tmp_path)
    page.emulate_media(media="print")
    arrow = page.evaluate(
        "getComputedStyle(document.querySelector('#findings th.sortable'), '::after').content"
    )
    assert arrow in ("none", "normal")
    assert page.locator(".controls").first.is_hidden()
    assert page.evaluate("getComputedStyle(document.querySelector('figure.trend')).breakInside") == "avoid"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2


def test_hostile_content_shows_as_text_and_never_runs(browser, tmp_path):
    page, _, dialogs, _ = open_report(browser, tmp_path)
    page.fill("#findings-text", "__xss")
    row = page.locator("#findings tbody tr").first
    assert "<script>window.__xss=1</script>" in row.inner_text()
    page.fill("#jobs-text", "HYPERLINK")
    page.locator("#jobs tbody tr button.expand").first.click()
    assert "window.__xss=1" in page.locator("#jobs tr.detail").inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0
    assert dialogs == []


def test_sorting_by_a_column(browser, tmp_path):
    page, _, _, _ = open_report(browser, tmp_path)
    page.click("#findings th[data-key='job']")
    first = [page.locator("#findings tbody tr").nth(i).locator(".id").inner_text() for i in range(5)]
    assert first == sorted(first)
    page.click("#jobs th[data-key='type']")
    types = [page.locator("#jobs tbody tr").nth(i).locator("td").nth(3).inner_text() for i in range(9)]
    assert types == sorted(types)
