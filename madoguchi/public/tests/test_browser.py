"""The whole public form in Chromium at phone width, keyboard only, with axe-core on every step.

axe-core comes from the `axe-playwright-python` package (it bundles axe.min.js); it runs the
WCAG 2.0/2.1 A and AA rules, the level JIS X 8341-3:2016 AA asks for.

Set MADOGUCHI_SCREENSHOTS=docs/screenshots to also save each step at phone and desktop width
(the images linked from docs/public-form.md).
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest

from madoguchi.cases.models import Case, Category
from madoguchi.core.browser_testing import assert_accessible, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = os.environ.get("MADOGUCHI_SCREENSHOTS", "")


def check_page(page: Any, step: str, csp: list[str] | None = None) -> None:
    """No axe violation, no horizontal scroll at this width and at 200% zoom (half the width)."""
    assert_accessible(page, step, csp)
    size = page.viewport_size
    for width in (size["width"], 640, 320):
        page.set_viewport_size({"width": width, "height": size["height"]})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{step}: horizontal scroll of {overflow}px at {width}px"
    page.set_viewport_size(size)
    if SHOTS:
        shoot(page, step)


def shoot(page: Any, step: str) -> None:
    size = page.viewport_size
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        path = Path(SHOTS) / f"public-{step}-{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        height = min(page.evaluate("document.documentElement.scrollHeight"), 2400)
        page.screenshot(
            path=str(path),
            full_page=True,
            clip={"x": 0, "y": 0, "width": viewport["width"], "height": height},
        )
    page.set_viewport_size(size)


def tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} was never reached with Tab")


class PublicFormBrowserTests:
    def test_a_resident_completes_the_form_with_the_keyboard_at_phone_width(self, live_server, page, world):
        Category.objects.create(program=world.program, name="申請について", order=1)
        Category.objects.create(program=world.program, name="支給日について", order=2)
        csp = watch_csp(page)
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/inquiry/{world.program.code}/")
        check_page(page, "1-form", csp)

        # Send it empty first: the error summary takes the focus and names every field.
        tab_to(page, "form.form button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector(".error-summary")
        assert page.evaluate("document.activeElement.id") == "error-summary"
        check_page(page, "2-errors", csp)

        # Follow the first error link to its field, then fill everything with the keyboard.
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "id_guardian_name"
        page.keyboard.type("𠮷田 花子")
        tab_to(page, "#id_guardian_kana")
        page.keyboard.type("よしだ はなこ")
        tab_to(page, "#id_child_name")
        page.keyboard.type("𠮷田 太郎")
        tab_to(page, "#id_child_dob")
        page.keyboard.type("2020-05-03")
        assert page.text_content("#id_child_dob_era") == "和暦: 令和2年5月3日"
        tab_to(page, "#id_phone")
        page.keyboard.type("090-1234-5678")
        tab_to(page, "#id_email")
        page.keyboard.type("hanako@example.jp")
        tab_to(page, "#id_category")
        page.keyboard.press("ArrowDown")
        tab_to(page, "#id_message")
        page.keyboard.type("申請書が届いていません。\n確認をお願いします。")
        tab_to(page, "#id_consent")
        page.keyboard.press("Space")
        tab_to(page, "form.form button[type=submit]")
        page.keyboard.press("Enter")

        page.wait_for_url("**/confirm/")
        body = page.text_content("main")
        assert "𠮷田 花子" in body and "ヨシダ ハナコ" in body and "2020年5月3日（令和2年）" in body
        check_page(page, "3-confirm", csp)

        # Back to edit keeps everything typed.
        tab_to(page, "a.button--secondary")
        page.keyboard.press("Enter")
        page.wait_for_selector("#id_guardian_name")
        assert page.input_value("#id_guardian_name") == "𠮷田 花子"
        assert page.input_value("#id_message") == "申請書が届いていません。\n確認をお願いします。"
        assert page.is_checked("#id_consent")
        tab_to(page, "form.form button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url("**/confirm/")

        tab_to(page, "form.form button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("#receipt-number")
        case = Case.objects.get()
        assert page.text_content("#receipt-number") == case.receipt_number
        assert case.caller_name == "𠮷田 花子"
        assert case.child_dob == datetime.date(2020, 5, 3)
        check_page(page, "4-done", csp)

        # A reload of the receipt (the browser posts the same token again) shows the same
        # number and creates nothing; so does switching the language on it.
        page.reload()
        page.wait_for_selector("#receipt-number")
        assert page.text_content("#receipt-number") == case.receipt_number
        # Back from the receipt: the confirmation is gone (sent), the form is empty again.
        page.go_back()
        page.wait_for_selector("#id_guardian_name")
        assert page.input_value("#id_guardian_name") == ""
        assert Case.objects.count() == 1
        assert csp == []

    def test_a_reload_of_the_confirmation_gets_confirm_and_back_returns_to_the_typed_form(
        self, live_server, page, world
    ):
        """The confirmation is the answer to the form's POST; inquiry.js puts its own address,
        confirm/, in the address bar, so a reload is a GET of confirm/ (no resend prompt, the
        same draft and token) and the back button opens the form with what was typed."""
        documents: list[tuple[str, str]] = []
        page.on(
            "request",
            lambda request: (
                documents.append((request.method, request.url.removeprefix(live_server.url)))
                if request.resource_type == "document"
                else None
            ),
        )
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        csp = watch_csp(page)
        form_path = f"/inquiry/{world.program.code}/"
        confirm_path = f"{form_path}confirm/"
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}{form_path}")
        page.fill("#id_guardian_name", "試験 花子")
        page.fill("#id_guardian_kana", "しけん はなこ")
        page.fill("#id_child_name", "試験 太郎")
        page.fill("#id_child_dob", "R2.5.3")
        page.fill("#id_phone", "03-1234-5678")
        page.fill("#id_message", "再読み込みの確認")
        page.check("#id_consent")
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"**{confirm_path}")
        # One request for the confirmation: the POST's answer, shown under confirm/.
        assert documents == [("GET", form_path), ("POST", form_path)]
        shown = page.text_content("main")
        assert "シケン ハナコ" in shown and "2020年5月3日（令和2年）" in shown
        token = page.get_attribute("input[name=token]", "value")
        order = self.focus_order(page), self.headings(page)
        assert_accessible(page, "3-confirm-posted", csp)

        documents.clear()
        page.reload()
        page.wait_for_selector(".summary-list")
        assert documents == [("GET", confirm_path)] and dialogs == []
        assert page.url.endswith(confirm_path)
        assert page.text_content("main") == shown
        assert page.get_attribute("input[name=token]", "value") == token
        # The same page for the keyboard and for a screen reader's heading list.
        assert (self.focus_order(page), self.headings(page)) == order
        assert_accessible(page, "3-confirm-reloaded", csp)

        documents.clear()
        page.go_back()
        page.wait_for_selector("#id_guardian_name")
        assert page.url.endswith(form_path) and all(method == "GET" for method, _ in documents)
        assert page.input_value("#id_guardian_name") == "試験 花子"
        assert page.input_value("#id_child_dob") == "R2.5.3"
        assert page.input_value("#id_message") == "再読み込みの確認"
        assert page.is_checked("#id_consent")
        # Forward again: the confirmation of the same draft, still sendable.
        page.go_forward()
        page.wait_for_selector(".summary-list")
        assert page.get_attribute("input[name=token]", "value") == token
        page.click("form.form button[type=submit]")
        page.wait_for_selector("#receipt-number")
        assert page.text_content("#receipt-number") == Case.objects.get().receipt_number
        # Back from the receipt: a GET of confirm/ (not the form's POST again, no resend
        # prompt); the draft is gone once sent, so it leads to the empty form.
        documents.clear()
        page.go_back()
        page.wait_for_selector("#id_guardian_name")
        assert documents == [("GET", confirm_path), ("GET", form_path)]
        assert page.input_value("#id_guardian_name") == ""
        assert dialogs == [] and csp == [] and Case.objects.count() == 1

    @staticmethod
    def focus_order(page: Any) -> list[str]:
        """What Tab reaches, from the top of the page, up to the confirmation's last control."""
        page.evaluate("document.activeElement && document.activeElement.blur()")
        reached: list[str] = []
        for _ in range(4):
            page.keyboard.press("Tab")
            reached.append(
                page.evaluate(
                    "(() => { const e = document.activeElement;"
                    " return e.tagName + ':' + (e.textContent || '').trim().slice(0, 20); })()"
                )
            )
        return reached

    @staticmethod
    def headings(page: Any) -> list[str]:
        return page.eval_on_selector_all("h1, h2, h3", "nodes => nodes.map(n => n.tagName + n.textContent)")

    def test_a_double_click_on_send_makes_one_case(self, live_server, page, world):
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/inquiry/{world.program.code}/")
        page.fill("#id_guardian_name", "試験 花子")
        page.fill("#id_guardian_kana", "シケン ハナコ")
        page.fill("#id_child_name", "試験 太郎")
        page.fill("#id_child_dob", "R2.5.3")
        assert page.text_content("#id_child_dob_era") == "西暦: 2020年5月3日"
        page.fill("#id_phone", "03-1234-5678")
        page.fill("#id_message", "二度押しの確認")
        page.check("#id_consent")
        page.click("form.form button[type=submit]")
        page.wait_for_url("**/confirm/")
        page.dblclick("form.form button[type=submit]")
        page.wait_for_selector("#receipt-number")
        assert Case.objects.count() == 1
        assert page.text_content("#receipt-number") == Case.objects.get().receipt_number

    def test_the_closed_notice_and_the_english_page_pass_axe(self, live_server, page, world):
        csp = watch_csp(page)
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/inquiry/")
        check_page(page, "0-choose", csp)

        # The language switch: English second, same form.
        page.goto(f"{live_server.url}/inquiry/{world.program.code}/")
        page.click(".language-switch button[value=en]")
        page.wait_for_selector("html[lang=en]")
        assert "Purpose of use" in page.text_content("main")
        check_page(page, "1-form-en", csp)
        page.click(".language-switch button[value=ja]")
        page.wait_for_selector("html[lang=ja]")

        today = datetime.date.today()
        world.program.recording_start = today - datetime.timedelta(days=60)
        world.program.recording_end = today - datetime.timedelta(days=1)
        world.program.save()
        page.goto(f"{live_server.url}/inquiry/{world.program.code}/")
        assert "受付期間外" in page.text_content("main")
        assert page.query_selector("textarea") is None
        check_page(page, "5-closed", csp)
        assert csp == []
