"""report.html of a large run in headless Chromium: how long it takes to open, filter and print to PDF."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def page_figures(report: Path) -> dict[str, Any]:
    """Seconds to open the page (until the jobs table is drawn), to filter the jobs by an id and by an
    outcome, and to print the page to PDF (with the rows a print draws), and the PDF's pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(offline=True, viewport={"width": 1366, "height": 900})
        page = context.new_page()
        began = time.perf_counter()
        page.goto(report.resolve().as_uri(), wait_until="load", timeout=300_000)
        page.wait_for_function("document.getElementById('jobs-shown').textContent !== ''", timeout=300_000)
        opened = time.perf_counter() - began
        total = page.locator("#jobs-shown").inner_text()
        last_id = page.evaluate(
            "(() => { const j = JSON.parse(document.getElementById('jobs-data').textContent); return j[j.length - 1][3]; })()"
        )
        began = time.perf_counter()
        page.fill("#jobs-text", last_id)
        page.wait_for_function(
            "document.getElementById('jobs-shown').textContent.startsWith('1 of')", timeout=60_000
        )
        by_id = time.perf_counter() - began
        began = time.perf_counter()
        page.select_option("#jobs-outcome", "pending")
        page.wait_for_function(
            "!document.getElementById('jobs-shown').textContent.startsWith('1 of')", timeout=60_000
        )
        by_outcome = time.perf_counter() - began
        page.fill("#jobs-text", "")
        page.select_option("#jobs-outcome", "")
        page.emulate_media(media="print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # as a browser's print does
        began = time.perf_counter()
        pdf = page.pdf(format="A4")
        printed = time.perf_counter() - began
        browser.close()
    return {
        "html_mib": report.stat().st_size / 2**20,
        "shown": total,
        "open_s": opened,
        "filter_id_s": by_id,
        "filter_outcome_s": by_outcome,
        "pdf_s": printed,
        "pdf_pages": pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages"),
        "pdf_mib": len(pdf) / 2**20,
    }
