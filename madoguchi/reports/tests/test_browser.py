import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.reports.tests.test_selectors import november


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class ReportBrowserTests:
    def test_the_supervisor_reads_a_month_and_downloads_it(self, live_server, page, world):
        csp = watch_csp(page)
        november(world)
        browser_login(page, live_server.url, world.supervisor)
        page.click("nav >> text=報告書")
        page.wait_for_selector("h1:has-text('報告書')")
        assert_accessible(page, "report-form", csp, screenshot="reports-form")
        page.check("input[name=kind][value=monthly]")
        page.fill("#id_day", "2025-11-15")
        page.click("#report-form button[type=submit]")
        page.wait_for_selector("#report-summary")
        assert "問い合わせ月報" in page.text_content("#report-heading")
        assert page.locator("#report-operators").count() == 1
        assert_accessible(page, "report", csp, screenshot="reports-month")
        with page.expect_download() as download:
            page.click("#report-download button[value=xlsx]")
        assert download.value.suggested_filename == "report-test-program-20251101-20251130.xlsx"

        # A range with its dates the wrong way round is explained next to the field.
        page.check("input[name=kind][value=range]")
        page.fill("#id_date_from", "2025-11-30")
        page.fill("#id_date_to", "2025-11-01")
        page.click("#report-form button[type=submit]")
        page.wait_for_selector("#id_date_to_error")
        assert_accessible(page, "report-error", csp, screenshot="reports-error")
        assert csp == []
