"""Ward staff import a target list in Chromium: menu → upload → preview → confirm → result.

The pages pass axe (WCAG 2.1 AA) and break no CSP rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.registry.models import Household, TargetListImport
from madoguchi.registry.tests.csvdata import HEADER, csv_bytes, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_axe_violation(page: Any, step: str, csp: list[str]) -> None:
    assert_accessible(page, step, csp, screenshot=f"registry-{step}")


class ImportScreenBrowserTests:
    def test_ward_staff_drop_a_column_preview_and_import_a_list(self, live_server, page, world, tmp_path):
        csp = watch_csp(page)
        path = tmp_path / "targets.csv"
        path.write_bytes(
            csv_bytes(
                [row("H001", マイナンバー="1"), row("H002", 児童氏名="見本　二郎", マイナンバー="2")],
                header=[*HEADER, "マイナンバー"],
            )
        )
        browser_login(page, live_server.url, world.ward_staff)
        page.click("nav >> text=取込")
        page.wait_for_selector("h1:has-text('対象者一覧の取込')")
        _no_axe_violation(page, "upload", csp)

        page.set_input_files("#id_file", str(path))
        page.click("button:has-text('確認する')")
        page.wait_for_selector("text=このファイルは取り込めません")
        assert "マイナンバー" in page.text_content("table")
        _no_axe_violation(page, "refused", csp)

        page.check("input[value='マイナンバー']")
        page.click("button:has-text('除外して確認し直す')")
        page.wait_for_selector("h1:has-text('取込内容の確認')")
        assert "このファイルは取り込めません" not in page.content()
        assert "見本" not in page.content()
        _no_axe_violation(page, "preview", csp)

        page.click("button:has-text('取り込む')")
        page.wait_for_selector("h1:has-text('第1版')")
        _no_axe_violation(page, "result", csp)
        assert Household.objects.count() == 2
        assert TargetListImport.objects.filter(version=1).count() == 1
        assert csp == []
