import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.ledger.models import LedgerKind
from madoguchi.ledger.services import record_in_ledger


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class LedgerBrowserTests:
    def test_the_auditor_reads_the_ledger_and_downloads_its_csv(self, live_server, page, world):
        record_in_ledger(
            kind=LedgerKind.RECEIPT,
            program=world.program,
            actor=world.ward_staff,
            what="対象者名簿 第1版",
            purpose="対象者の本人特定のための名簿の受領（区から）",
            row_count=2000,
            file_name="targets.csv",
            sha256="b" * 64,
        )
        csp = watch_csp(page)
        browser_login(page, live_server.url, world.auditor)
        page.click("nav >> text=情報管理台帳")
        page.wait_for_selector("text=対象者名簿 第1版")
        assert_accessible(page, "ledger", csp, screenshot="ledger")
        with page.expect_download() as download:
            page.click("text=CSV出力")
        with open(download.value.path(), "rb") as downloaded:
            content = downloaded.read()
        assert content.startswith("\ufeff".encode()) and "対象者名簿 第1版".encode() in content
