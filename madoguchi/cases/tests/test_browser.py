import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.cases.models import Case, Category, Status
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.identify.tests.helpers import standard_list


def log_out(page):
    page.context.clear_cookies()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class CallBrowserTests:
    def test_a_call_is_recorded_escalated_answered_and_closed(self, live_server, page, world):
        seed_categories(world.program)
        household = standard_list(world.program)["tanaka"]
        earlier = make_case(world.program, world.operator, household=household, inquiry="前回の問い合わせ")

        # The operator takes the call, identifies the caller and records it, keyboard first.
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/cases/new/")
        # Identify the caller with the panel: what they say, the candidate, the items confirmed.
        page.keyboard.press("Alt+I")
        page.keyboard.type("田中 花子")
        page.fill("#identify-child_dob", "R2.5.3")
        page.fill("#identify-phone", "090-1234-5678")
        page.click("#identify-results .candidate >> nth=0 >> text=この世帯を開く")
        page.wait_for_selector("#identify-verify-form")
        for item in ("name", "dob", "phone"):
            page.check(f"#identify-item-{item}")
        page.click("#identify-verify-form button[type=submit]")
        page.wait_for_selector(
            f"#identify-hidden input[name=household][value='{household.public_id}']", state="attached"
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


def _no_axe_violation(page, step, csp):
    assert_accessible(page, step, csp, screenshot=f"cases-{step}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class CategoryBrowserTests:
    def test_the_ward_manager_adds_renames_moves_and_deactivates_a_category(self, live_server, page, world):
        csp = watch_csp(page)
        seed_categories(world.program)
        browser_login(page, live_server.url, world.ward_manager)
        page.click("nav >> text=問い合わせ分類")
        page.wait_for_selector("h1:has-text('問い合わせ分類')")
        _no_axe_violation(page, "categories", csp)

        # A name that is already there is refused next to the field.
        page.fill("#id_name", "その他")
        page.click("button:has-text('追加する')")
        page.wait_for_selector("#id_name_error")
        assert "同じ名前の分類がすでにあります" in page.text_content("#id_name_error")
        _no_axe_violation(page, "categories-error", csp)

        page.fill("#id_name", "支給時期")
        page.click("button:has-text('追加する')")
        page.wait_for_selector("text=分類「支給時期」を追加しました。")
        row = page.locator("#category-table tbody tr", has_text="支給時期")
        row.locator("button:has-text('上へ')").click()
        page.wait_for_selector("text=表示順を変更しました")
        names = [name.strip() for name in page.locator("#category-table tbody th").all_text_contents()]
        assert names[-2:] == ["支給時期", "その他"]

        page.locator("#category-table tbody tr", has_text="支給時期").locator("text=名前を変更").click()
        page.wait_for_selector("h1:has-text('分類名の変更')")
        page.fill("#id_name", "")
        page.click("button:has-text('変更する')")
        page.wait_for_selector("#id_name_error")
        _no_axe_violation(page, "category-rename-error", csp)
        page.fill("#id_name", "支給の時期")
        page.click("button:has-text('変更する')")
        page.wait_for_selector("text=分類名を「支給の時期」に変更しました。")

        page.locator("#category-table tbody tr", has_text="支給の時期").locator(
            "button:has-text('無効にする')"
        ).click()
        page.wait_for_selector("text=分類「支給の時期」を無効にしました。")
        assert "無効" in page.locator("#category-table tbody tr", has_text="支給の時期").text_content()
        _no_axe_violation(page, "categories-changed", csp)
        category = Category.objects.get(program=world.program, name="支給の時期")
        assert not category.is_active
        assert csp == []
