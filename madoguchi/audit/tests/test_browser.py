"""The auditor's path in Chromium: sign in, open 監査ログ from the menu, ask who saw a household,
download the CSV; the pages pass axe (WCAG 2.1 AA) and break no CSP rule."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.services import record
from madoguchi.core.browser_testing import assert_accessible, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOUSEHOLD = "3f0c1b4e-0000-4000-8000-00000000abcd"


def _no_axe_violation(page: Any, step: str) -> None:
    assert_accessible(page, step, screenshot=f"audit-{step}")


class AuditScreenBrowserTests:
    def test_the_auditor_finds_who_saw_a_household_and_downloads_it(self, live_server, page, world):
        csp = watch_csp(page)
        for user in (world.operator, world.supervisor):
            record(
                action=Action.VIEW,
                actor=user,
                program_id=world.program.pk,
                object_type="household",
                object_id=HOUSEHOLD,
            )
        browser_login(page, live_server.url, world.auditor)
        page.click("nav >> text=監査ログ")
        page.wait_for_selector("h1:has-text('監査ログ')")
        before_axe = len(csp)
        _no_axe_violation(page, "events")
        del csp[before_axe:]

        page.select_option("#id_object_type", "household")
        page.fill("#id_object_id", HOUSEHOLD)
        page.click("button:has-text('絞り込む')")
        page.wait_for_selector("caption")
        rows = page.locator("table.data-table tbody tr")
        assert rows.count() == 2
        assert "テスト operator" in page.text_content("table") and "テスト supervisor" in page.text_content(
            "table"
        )

        with page.expect_download() as download_info:
            page.click("button:has-text('CSV出力')")
        content = open(download_info.value.path(), "rb").read()  # noqa: SIM115 - Playwright's temp file
        assert content.startswith(b"\xef\xbb\xbf")
        assert HOUSEHOLD.encode() in content
        assert AuditEvent.objects.filter(action=Action.EXPORT, actor_id=world.auditor.pk).count() == 1

        page.click("nav >> text=アクセスレビュー")
        page.wait_for_selector("h1:has-text('アクセスレビュー')")
        before_axe = len(csp)
        _no_axe_violation(page, "review")
        del csp[before_axe:]
        assert csp == []
