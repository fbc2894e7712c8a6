import datetime

import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.cases.models import Case, Status
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.registry.models import Guardian, Household, TargetListImport


def household_for(program):
    imported = TargetListImport.objects.create(
        program=program, file_name="targets.csv", sha256="0" * 64, status="applied", version=1
    )
    household = Household.objects.create(
        program=program,
        number="H-000123",
        address="東京都世田谷区太子堂1-2-3",
        address_key="世田谷区太子堂1-2-3",
        content_hash="0",
        first_import=imported,
        last_import=imported,
    )
    Guardian.objects.create(
        household=household, name="試験 花子", name_key="試験花子", dob=datetime.date(1990, 1, 2)
    )
    return household


def log_out(page):
    page.context.clear_cookies()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class CallBrowserTests:
    def test_a_call_is_recorded_escalated_answered_and_closed(self, live_server, page, world):
        seed_categories(world.program)
        household = household_for(world.program)
        earlier = make_case(world.program, world.operator, household=household, inquiry="前回の問い合わせ")

        # The operator takes the call, identifies the caller and records it, keyboard first.
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/cases/new/")
        # What the identification panel leaves in the case form once a candidate is confirmed.
        page.evaluate(
            """([id]) => {
                const set = (name, value) => {
                    let input = document.querySelector(`input[name=${name}][form=case-form]`);
                    input.value = value;
                    input.dispatchEvent(new Event('change', {bubbles: true}));
                };
                set('verification', 'verified');
                set('household', id);
            }""",
            [str(household.public_id)],
        )
        # A caller who calls again is recognised: the household's earlier case is listed.
        page.wait_for_selector(f"#earlier-cases >> text={earlier.receipt_number}")
        page.focus("#id_inquiry")
        page.keyboard.type("配送予定日を知りたい。カタログの商品はいつ届くか")
        page.keyboard.press("Tab")
        page.keyboard.type("区に確認のうえ折り返すと案内")
        page.check("input[name=then][value=escalate]")
        page.focus("#id_question")
        page.keyboard.type("発送状況を確認してください")
        page.keyboard.press("Alt+S")
        page.wait_for_selector(".status-badge[data-status=escalated]")
        case = Case.objects.exclude(pk=earlier.pk).get()
        assert case.household == household and case.verification == "verified"
        assert case.status == Status.ESCALATED

        # The ward sees it in its queue and answers.
        log_out(page)
        browser_login(page, live_server.url, world.ward_staff)
        page.click("nav >> text=区確認待ち")
        page.click(f"text={case.receipt_number}")
        assert "発送状況を確認してください" in page.text_content("main")
        page.fill("#answer-form textarea[name=body]", "2月10日に発送済みです。")
        page.click("#answer-form button[type=submit]")
        page.wait_for_selector("text=回答しました")
        case.refresh_from_db()
        assert case.status == Status.CALLBACK

        # Back at the contractor: the answer is on the timeline; the operator closes the case.
        log_out(page)
        browser_login(page, live_server.url, world.operator)
        page.click("nav >> text=折り返し待ち")
        page.click(f"text={case.receipt_number}")
        assert "2月10日に発送済みです。" in page.text_content(".timeline")
        page.click("button[data-status-target=closed]")
        page.wait_for_selector(".status-badge[data-status=closed]")
        case.refresh_from_db()
        assert case.status == Status.CLOSED
