"""What every browser test checks on a page: axe-core finds no WCAG 2.1 A/AA violation, and
the browser reports no Content Security Policy violation. Imported by tests only (axe and
Playwright are development dependencies)."""

from __future__ import annotations

import os
from typing import Any

from axe_playwright_python.sync_playwright import Axe

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def watch_csp(page: Any) -> list[str]:
    """The CSP violations the page reports from now on (a list that fills as they come)."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def assert_accessible(page: Any, step: str, csp: list[str] | None = None, *, screenshot: str = "") -> None:
    """No axe violation on the page as it is now.

    With `screenshot` and MADOGUCHI_SCREENSHOTS set, the full page is saved there as
    `<screenshot>.png` first (the screenshots in docs/ come from these runs).
    """
    folder = os.environ.get("MADOGUCHI_SCREENSHOTS")
    if screenshot and folder:
        page.screenshot(path=f"{folder}/{screenshot}.png", full_page=True)
    before = len(csp) if csp is not None else 0
    results = Axe().run(page, options=AXE_OPTIONS)
    if csp is not None:
        page.wait_for_timeout(50)
        # axe applies inline styles itself while it measures contrast: not the page's doing.
        del csp[before:]
    assert results.violations_count == 0, f"{step}: {results.generate_report()}"
