import datetime

import pytest
from django.utils import timezone

from madoguchi.accounts.testing import browser_login
from madoguchi.alerts import services
from madoguchi.cases import services as case_services
from madoguchi.cases.models import Case
from madoguchi.cases.testing import make_case
from madoguchi.core.browser_testing import assert_accessible, watch_csp


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class AlertBrowserTests:
    def test_the_ward_manager_opens_an_alert_and_edits_the_thresholds(self, live_server, page, world):
        case = make_case(world.program, world.operator)
        case_services.escalate(case=case, actor=world.operator, question="確認", expected_version=1)
        Case.objects.filter(pk=case.pk).update(ward_due_on=timezone.localdate() - datetime.timedelta(days=1))
        services.run()
        csp = watch_csp(page)
        browser_login(page, live_server.url, world.ward_manager)
        page.click("nav >> text=アラート >> nth=0")
        page.wait_for_selector("h1:has-text('アラート')")
        assert_accessible(page, "alerts-list", csp, screenshot="alerts-list")
        page.click("main table a")
        page.wait_for_selector(f"text={case.receipt_number}")
        assert_accessible(page, "alerts-detail", csp)
        page.goto(f"{live_server.url}/alerts/settings/{world.program.code}/")
        page.fill("#id_households_per_hour", "25")
        page.fill("#id_hours_end", "7")
        page.click("main form button[type=submit]")
        page.wait_for_selector("#id_hours_end_error")
        assert_accessible(page, "alerts-settings-error", csp)
        page.fill("#id_hours_end", "19")
        page.click("main form button[type=submit]")
        page.wait_for_selector("text=アラートの設定を保存しました。")
        assert not csp, csp
