"""The case page's forms loaded on demand (issue 15, hC) in Chromium: opened with the mouse and the
keyboard, their focus order, a save from the loaded form, and the page checked with axe."""

import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.cases import services
from madoguchi.cases.models import Case
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.core.browser_testing import assert_accessible, watch_csp


def _axe(page, step, csp):
    assert_accessible(page, step, csp, screenshot=f"case-page-{step}")


def _expanded(page, name):
    """Whether the browser tells assistive technology that the disclosure `name` is open: a
    <summary> is exposed as a disclosure triangle with its expanded state (what aria-expanded
    says of a button), read here from Chromium's accessibility tree."""
    cdp = page.context.new_cdp_session(page)
    for node in cdp.send("Accessibility.getFullAXTree")["nodes"]:
        if (
            node.get("role", {}).get("value") == "DisclosureTriangle"
            and node.get("name", {}).get("value") == name
        ):
            return {p["name"]: p["value"].get("value") for p in node.get("properties", [])}.get("expanded")
    raise AssertionError(f"no disclosure named {name}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class OnDemandFormBrowserTests:
    def test_the_operator_opens_the_edit_form_with_the_keyboard_inserts_an_answer_and_saves(
        self, live_server, page, world
    ):
        csp = watch_csp(page)
        categories = seed_categories(world.program)
        services.save_standard_answer(
            program=world.program,
            actor=world.ward_staff,
            title="配送の目安",
            body="発送から3日ほどで届きます。",
            category=categories["その他"],
        )
        case = make_case(world.program, world.operator, inquiry="カタログが届かない")
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/cases/{case.public_id}/")
        _axe(page, "open-case", csp)
        summary = page.locator("#case-edit > summary")
        assert page.locator("#case-edit").get_attribute("open") is None
        assert _expanded(page, "問い合わせ内容を編集") is False
        # Keyboard: the summary is reached with Tab like any control; Enter opens it and the
        # form is fetched; focus stays on the summary and the next Tab enters the form.
        summary.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#case-edit-body #case-edit-form")
        assert page.locator("#case-edit").get_attribute("open") == ""
        assert _expanded(page, "問い合わせ内容を編集") is True
        assert page.evaluate("document.activeElement.closest('#case-edit') !== null")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "id_channel"
        _axe(page, "edit-form-open", csp)
        # The standard answers search came with the form and still inserts into its response.
        page.fill("#answer-q", "配送")
        page.click("[data-insert-answer]")
        assert "発送から3日ほどで届きます。" in page.input_value("#case-edit-form textarea[name=response]")
        page.fill("#case-edit-form textarea[name=inquiry]", "カタログが届かない（再送を希望）")
        page.keyboard.press("Alt+S")
        page.wait_for_selector("text=保存しました。")
        case.refresh_from_db()
        assert case.inquiry == "カタログが届かない（再送を希望）"
        assert case.response == "発送から3日ほどで届きます。"
        # The form's own page (where the link leads without JavaScript) passes axe too (axe
        # itself needs JavaScript: checked here, not in the test without it).
        page.goto(f"{live_server.url}/cases/{case.public_id}/edit/")
        _axe(page, "edit-page", csp)
        page.goto(f"{live_server.url}/cases/{case.public_id}/")
        # Closing and opening again does not fetch it twice.
        summary = page.locator("#case-edit > summary")
        summary.click()
        page.wait_for_selector("#case-edit-form")
        summary.click()
        summary.click()
        assert page.locator("#case-edit-form").count() == 1
        assert csp == []

    def test_a_refused_edit_shows_the_form_open_with_the_text_and_the_error(self, live_server, page, world):
        csp = watch_csp(page)
        seed_categories(world.program)
        case = make_case(world.program, world.operator, inquiry="元の内容")
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/cases/{case.public_id}/")
        page.click("#case-edit > summary")
        page.wait_for_selector("#case-edit-form")
        page.fill("#case-edit-form input[name=caller_name]", "田中 花子")
        page.fill("#case-edit-form textarea[name=inquiry]", "")
        page.evaluate("document.querySelector('#case-edit-form textarea[name=inquiry]').required = false")
        page.click("#case-edit-form button[type=submit]")
        page.wait_for_selector("#case-edit[open] #case-edit-form")
        assert page.input_value("#case-edit-form input[name=caller_name]") == "田中 花子"
        assert "このフィールドは必須です。" in page.text_content("#case-edit-form")
        _axe(page, "edit-refused", csp)
        assert Case.objects.get(pk=case.pk).inquiry == "元の内容"
        assert csp == []

    def test_the_supervisor_reassigns_from_the_assign_form_loaded_on_demand(self, live_server, page, world):
        csp = watch_csp(page)
        case = make_case(world.program, world.operator)
        browser_login(page, live_server.url, world.supervisor)
        page.goto(f"{live_server.url}/cases/{case.public_id}/")
        page.click("#case-assign > summary")
        page.wait_for_selector("#assign-select")
        _axe(page, "assign-form-open", csp)
        page.select_option("#assign-select", str(world.ward_staff.pk))
        page.click(".assign-form button[type=submit]")
        page.wait_for_selector("#case-assign")
        case.refresh_from_db()
        assert case.assignee == world.ward_staff
        assert csp == []

    def test_without_javascript_the_link_opens_the_form_on_its_own_page(self, live_server, browser, world):
        """The page's JavaScript is off (Playwright still drives it)."""
        case = make_case(world.program, world.operator, inquiry="スクリプトなし")
        context = browser.new_context(java_script_enabled=False, locale="ja-JP", timezone_id="Asia/Tokyo")
        page = context.new_page()
        try:
            browser_login(page, live_server.url, world.operator)
            page.goto(f"{live_server.url}/cases/{case.public_id}/")
            page.click("#case-edit > summary")
            page.click("#case-edit-body a")
            page.wait_for_selector("h1 >> text=問い合わせ内容を編集")
            page.fill("#case-edit-form textarea[name=inquiry]", "スクリプトなしで編集")
            page.click("#case-edit-form button[type=submit]")
            page.wait_for_selector("text=保存しました。")
            case.refresh_from_db()
            assert case.inquiry == "スクリプトなしで編集"
        finally:
            context.close()
