"""The ward manager's compliance screens in Chromium: axe (WCAG 2.1 AA) and no CSP violation."""

from __future__ import annotations

import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.compliance.models import Incident
from madoguchi.core.browser_testing import assert_accessible, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_manager_records_training_and_an_incident(live_server, page, world):
    csp = watch_csp(page)
    browser_login(page, live_server.url, world.ward_manager)
    page.click("nav >> text=コンプライアンス記録")
    page.wait_for_selector("h1:has-text('コンプライアンス記録')")
    assert_accessible(page, "index", csp, screenshot="compliance-index")

    page.click("text=職員の秘密保持誓約・研修受講")
    page.wait_for_selector("h1:has-text('職員の秘密保持誓約')")
    assert_accessible(page, "staff", csp, screenshot="compliance-staff")
    page.click(f"#staff-{world.operator.pk} a")
    page.fill("#id_pledge_signed_on", "2026-04-01")
    page.fill("#id_training_completed_on", "2026-04-10")
    assert_accessible(page, "staff-edit", csp, screenshot="compliance-staff-edit")
    page.click("button:has-text('保存する')")
    page.wait_for_selector(f"#staff-{world.operator.pk}:has-text('2026-04-10')")

    for name, heading in (
        ("compliance/policies/", "研修の有効期間"),
        ("compliance/responsible/", "事業の責任者"),
        ("compliance/inventory/", "個人情報ファイル簿の記録項目"),
    ):
        page.goto(f"{live_server.url}/{name}")
        page.wait_for_selector(f"h1:has-text('{heading}')")
        assert_accessible(
            page, name.strip("/").replace("/", "-"), csp, screenshot=name.strip("/").replace("/", "-")
        )

    page.goto(f"{live_server.url}/compliance/incidents/new/")
    page.select_option("#id_program", str(world.program.pk))
    page.fill("#id_summary", "誤送信の疑い")
    page.fill("#id_found_at", "2026-05-01T10:00")
    page.fill("#id_records", "KJ-000123")
    assert_accessible(page, "incident-new", csp, screenshot="compliance-incident-new")
    page.click("button:has-text('登録する')")
    page.wait_for_selector("#drill-links")
    assert Incident.objects.count() == 1
    assert_accessible(page, "incident", csp, screenshot="compliance-incident")
    page.click("#drill-links >> text=KJ-000123")
    page.wait_for_selector("h1:has-text('監査ログ')")
    assert page.input_value("#id_object_id") == "KJ-000123"
