from pathlib import Path

import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.ledger.models import LedgerEntry
from madoguchi.reports.tests.test_selectors import november


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class ExportBrowserTests:
    def test_the_ward_manager_exports_cases_with_a_purpose(self, live_server, page, world):
        csp = watch_csp(page)
        november(world)
        browser_login(page, live_server.url, world.ward_manager)
        page.click("nav >> text=問い合わせの出力")
        page.wait_for_selector("h1:has-text('問い合わせの出力')")
        assert_accessible(page, "export-form", csp, screenshot="exports-form")

        page.click("#export-form button[type=submit]")
        page.wait_for_selector("#id_purpose_error")
        assert_accessible(page, "export-error", csp, screenshot="exports-error")

        page.select_option("#id_status", "escalated")
        page.check("input[name=format][value=csv]")
        page.fill("#id_purpose", "区の月次確認")
        with page.expect_download() as download:
            page.click("#export-form button[type=submit]")
        path = download.value.path()
        text = Path(path).read_text(encoding="utf-8-sig")
        assert text.startswith("受付番号,受付日時")
        entry = LedgerEntry.objects.get()
        assert entry.row_count == 2 and entry.purpose == "区の月次確認"
        assert csp == []
