"""The operator's day in Chromium (issue 12), each screen checked with axe and for CSP errors."""

import datetime

import pytest
from django.utils import timezone

from madoguchi.accounts.testing import browser_login
from madoguchi.cases import services
from madoguchi.cases.models import CallbackAttempt, Case, CaseLink, Channel, Status, Verification
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.identify.tests.helpers import standard_list


def _axe(page, step, csp):
    assert_accessible(page, step, csp, screenshot=f"operator-day-{step}")


def _identify_tanaka(page, items):
    page.fill("#identify-guardian_name", "田中 花子")
    page.fill("#identify-child_dob", "R2.5.3")
    page.fill("#identify-phone", "090-1234-5678")
    page.click("#identify-results .candidate >> nth=0 >> text=この世帯を開く")
    page.wait_for_selector("#identify-verify-form")
    if not items:
        page.click("#identify-verify-form button[type=submit]")
        page.wait_for_selector("#identify-hidden [data-verification='not_verified']")
        return
    # Each tick posts the checklist (htmx, on change); wait until the last answer is shown.
    for item in items:
        page.check(f"#identify-item-{item}")
    page.wait_for_selector("#identify-hidden [data-verification='verified']")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class OperatorDayBrowserTests:
    def test_a_validation_error_on_the_call_screen_keeps_the_household(self, live_server, page, world):
        csp = watch_csp(page)
        seed_categories(world.program)
        household = standard_list(world.program)["tanaka"]
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/cases/new/")
        _identify_tanaka(page, ("name", "dob", "phone"))
        page.wait_for_selector(
            f"#identify-hidden input[name=household][value='{household.public_id}']", state="attached"
        )
        page.fill("#id_inquiry", "配送予定日を知りたい")
        page.fill("#id_response", "区に確認して折り返すと案内")
        page.check("input[name=then][value=escalate]")
        page.click("#case-form button[type=submit]")
        # Refused for the missing question: everything typed and the identification are still there.
        page.wait_for_selector("#id_question_error")
        assert page.input_value("#id_inquiry") == "配送予定日を知りたい"
        assert page.input_value("#id_response") == "区に確認して折り返すと案内"
        assert page.is_checked("input[name=then][value=escalate]")
        hidden = page.locator("#identify-hidden input[name=household]")
        assert hidden.get_attribute("value") == str(household.public_id)
        assert page.get_attribute("#identify-hidden [data-verification]", "data-verification") == "verified"
        _axe(page, "call-error-kept", csp)
        page.fill("#id_question", "発送状況を確認してください")
        page.click("#case-form button[type=submit]")
        page.wait_for_selector(".status-badge[data-status=escalated]")
        case = Case.objects.get()
        assert case.household == household and case.verification == Verification.VERIFIED
        assert "本人確認済（氏名・生年月日・電話番号）" in page.text_content("main")
        assert csp == []

    def test_a_zero_item_verification_is_not_stored_as_verified(self, live_server, page, world):
        csp = watch_csp(page)
        seed_categories(world.program)
        household = standard_list(world.program)["tanaka"]
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/cases/new/")
        _identify_tanaka(page, ())
        page.wait_for_selector(
            f"#identify-hidden input[name=household][value='{household.public_id}']", state="attached"
        )
        # A tampered page says 確認済 with no item: the server decides by the program's rule.
        page.evaluate(
            "document.querySelector('#identify-hidden input[name=verification]').value = 'verified'"
        )
        page.fill("#id_inquiry", "申請方法を知りたい")
        page.click("#case-form button[type=submit]")
        page.wait_for_selector(".status-badge")
        case = Case.objects.get()
        assert case.household == household and case.verification == Verification.NOT_VERIFIED
        assert case.verified_items == []
        assert "本人確認済" not in page.text_content(".summary-list")
        _axe(page, "zero-items", csp)
        assert csp == []

    def test_a_web_inquiry_is_identified_and_linked_from_its_case_page(self, live_server, page, world):
        csp = watch_csp(page)
        seed_categories(world.program)
        household = standard_list(world.program)["tanaka"]
        case = make_case(
            world.program,
            None,
            channel=Channel.FORM,
            caller=services.CallerDetails(name="田中 花子", kana="タナカ ハナコ"),
            contact_phone="090-1234-5678",
            inquiry="カタログが届きません",
        )
        browser_login(page, live_server.url, world.operator)
        page.click("nav >> text=フォーム受付")
        page.click(f"text={case.receipt_number}")
        assert "問い合わせ者" in page.text_content(".summary-list")
        # The panel is prefilled from the web form and has searched already.
        assert page.input_value("#identify-guardian_name") == "田中 花子"
        page.wait_for_selector("#identify-results .candidate")
        _axe(page, "web-case-unidentified", csp)
        page.click("#identify-results .candidate >> nth=0 >> text=この世帯を開く")
        page.wait_for_selector("#identify-verify-form")
        for item in ("name", "dob", "phone"):
            page.check(f"#identify-item-{item}")
        page.wait_for_selector("#identify-hidden [data-verification='verified']")
        page.wait_for_selector(
            f"#identify-hidden input[name=household][value='{household.public_id}']", state="attached"
        )
        page.click("button[data-link-household]")
        page.wait_for_selector("text=世帯に紐付けました。")
        case.refresh_from_db()
        assert case.household == household and case.verification == Verification.VERIFIED
        assert "世帯の特定" in page.text_content(".timeline")
        _axe(page, "web-case-identified", csp)
        assert csp == []

    def test_a_callback_is_scheduled_attempted_twice_and_closed(self, live_server, page, world):
        csp = watch_csp(page)
        seed_categories(world.program)
        case = make_case(world.program, world.operator, inquiry="平日14時以降に折り返し希望")
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/cases/{case.public_id}/")
        page.fill("#callback-form input[name=due_on]", tomorrow.isoformat())
        page.fill("#callback-form input[name=start]", "14:00")
        page.fill("#callback-form input[name=until]", "17:00")
        page.click("#callback-form button[type=submit]")
        page.wait_for_selector("text=折り返しの予定を記録しました。")
        _axe(page, "callback-scheduled", csp)
        page.click("nav >> text=折り返し待ち")
        row = page.locator("tr", has_text=case.receipt_number)
        assert f"{tomorrow.isoformat()} 14:00〜17:00" in row.locator("[data-callback-due]").text_content()
        _axe(page, "callback-queue", csp)
        row.locator("a").click()
        page.check("#attempt-form input[name=outcome][value=no_answer]")
        page.click("#attempt-form button[type=submit]")
        page.wait_for_selector("[data-callback-attempts] >> text=不在")
        page.check("#attempt-form input[name=outcome][value=reached]")
        page.click("#attempt-form button[type=submit]")
        page.wait_for_selector("[data-callback-attempts] >> text=通話済")
        page.click("button[data-status-target=closed]")
        page.wait_for_selector(".status-badge[data-status=closed]")
        case.refresh_from_db()
        assert case.status == Status.CLOSED
        assert list(CallbackAttempt.objects.filter(case=case).values_list("outcome", flat=True)) == [
            "no_answer",
            "reached",
        ]
        _axe(page, "callback-closed", csp)
        assert csp == []

    def test_two_cases_are_linked_and_a_duplicate_is_merged(self, live_server, page, world):
        csp = watch_csp(page)
        seed_categories(world.program)
        household = standard_list(world.program)["tanaka"]
        first = make_case(world.program, world.operator, household=household, inquiry="朝の問い合わせ")
        second = make_case(world.program, world.operator, household=household, inquiry="同じ件の続き")
        duplicate = make_case(world.program, None, channel=Channel.FORM, inquiry="同じ内容を二度送信")
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/cases/{second.public_id}/")
        page.locator("[data-household-cases] li", has_text=first.receipt_number).locator("button").click()
        page.wait_for_selector(f"text={first.receipt_number} と関連付けました。")
        assert first.receipt_number in page.text_content("[data-linked-cases]")
        assert CaseLink.objects.filter(case=first, related=second).exists()
        _axe(page, "cases-linked", csp)

        page.goto(f"{live_server.url}/cases/{duplicate.public_id}/")
        page.click("text=重複したフォーム受付として統合")
        page.fill("#merge-form input[name=receipt_number]", first.receipt_number)
        page.click("#merge-form button[type=submit]")
        page.wait_for_selector(f"text={first.receipt_number} に統合しました。")
        assert duplicate.receipt_number in page.text_content("[data-linked-cases]")
        duplicate.refresh_from_db()
        assert duplicate.status == Status.CLOSED and duplicate.merged_into == first
        _axe(page, "case-merged", csp)
        assert csp == []
