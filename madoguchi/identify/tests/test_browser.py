"""The identification panel in a real browser: type, see candidates, open one, verify; and the
API token screen (create, shown once, revoke), with axe-core and CSP checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from madoguchi.accounts.testing import browser_login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.identify.tests.helpers import standard_list

SCREEN_POP = "/identify/api/screen-pop"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class PanelBrowserTests:
    def test_the_operator_types_sees_candidates_opens_one_and_marks_the_caller_verified(
        self, live_server, page, world
    ):
        households = standard_list(world.program)
        tanaka, tanaka2 = households["tanaka"], households["tanaka2"]
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/identify/")

        # A shared guardian name: both households are candidates, none is chosen.
        page.fill("#identify-guardian_name", "たなか はなこ")
        page.wait_for_selector(f"[data-candidate='{tanaka2.public_id}']")
        assert page.locator(f"[data-candidate='{tanaka.public_id}']").count() == 1
        assert page.locator("[data-abstained]").count() == 1

        # The date of birth narrows it down as it is typed (the results refresh by themselves).
        page.fill("#identify-child_dob", "R2.5.3")
        page.wait_for_selector(f"[data-candidate='{tanaka2.public_id}']", state="detached")
        first = page.locator(".candidate").first
        assert first.get_attribute("data-candidate") == str(tanaka.public_id)
        assert "児童生年月日：一致" in first.inner_text()
        assert "太子堂ハイツ" not in page.content()  # masked until opened

        # Opening the candidate shows its details: an audited view.
        first.get_by_role("button", name="この世帯を開く").click()
        page.wait_for_selector(f"[data-opened='{tanaka.public_id}']")
        assert "太子堂ハイツ101号室" in page.inner_text("#identify-opened")
        assert AuditEvent.objects.filter(
            action=Action.VIEW, object_type="household", object_id=str(tanaka.public_id)
        ).exists()

        # 本人確認: name and one item is partial; a second item makes the caller verified.
        page.check("#identify-item-name")
        page.check("#identify-item-dob")
        page.wait_for_selector("[data-verification='partial']")
        page.check("#identify-item-address")
        page.wait_for_selector("[data-verification='verified']")
        hidden = page.locator("input[type=hidden][form=case-form][name=household]")
        assert hidden.get_attribute("value") == str(tanaka.public_id)
        items = page.locator("input[type=hidden][form=case-form][name=verified_items]")
        assert sorted(items.nth(i).get_attribute("value") for i in range(items.count())) == [
            "address",
            "dob",
            "name",
        ]
        searches = AuditEvent.objects.filter(action=Action.IDENTIFY, actor_id=world.operator.pk)
        assert searches.exists()
        assert all("たなか" not in str(e.details) for e in searches)

    def test_an_abstention_on_a_clear_candidate_asks_for_one_more_item_and_then_decides(
        self, live_server, page, world
    ):
        csp = watch_csp(page)
        twins = standard_list(world.program)["twins"]
        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/identify/")

        # A whole name with a phone the household does not have: abstained, but on one
        # household, so the panel says which one item to ask for, and only its name.
        page.fill("#identify-guardian_name", "たかはし けんた")
        page.fill("#identify-phone", "090-1111-2222")
        question = page.wait_for_selector("[data-follow-up='child_dob']")
        assert "お子さまの生年月日を確認してください" in question.inner_text()
        assert page.locator("[data-abstained]").count() == 1
        assert page.locator(".candidate").first.get_attribute("data-candidate") == str(twins.public_id)
        results = page.inner_text("#identify-results")
        for value in ("2020", "8月29日", "1988", "080-5555-0101", "21番10号", "蒼", "凪", "健太"):
            assert value not in results.replace("2020年", ""), value  # the birth year is a masked hint
        _no_axe_violation(page, "follow-up", csp)

        # The caller answers; the search runs again and the engine names the household.
        page.fill("#identify-child_dob", "R2.8.29")
        page.wait_for_selector("[data-follow-up]", state="detached")
        assert page.locator("[data-abstained]").count() == 0
        assert page.locator(".candidate").first.get_attribute("data-candidate") == str(twins.public_id)
        assert "児童生年月日：一致" in page.locator(".candidate").first.inner_text()
        _no_axe_violation(page, "follow-up-answered", csp)
        searches = AuditEvent.objects.filter(action=Action.IDENTIFY, actor_id=world.operator.pk)
        assert searches.filter(details__follow_up="child_dob").exists()
        assert csp == []


def _no_axe_violation(page: Any, step: str, csp: list[str]) -> None:
    assert_accessible(page, step, csp, screenshot=f"identify-{step}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class TokenScreenBrowserTests:
    def test_the_supervisor_creates_a_token_sees_it_once_and_revokes_it(self, live_server, page, world):
        csp = watch_csp(page)
        standard_list(world.program)
        browser_login(page, live_server.url, world.supervisor)
        page.click("nav >> text=APIトークン")
        page.wait_for_selector("h1:has-text('APIトークン')")
        assert "トークンはまだありません" in page.inner_text("main")
        _no_axe_violation(page, "tokens-empty", csp)

        page.fill("#id_name", "本社コールセンターPBX")
        page.click("button:has-text('作成する')")
        page.wait_for_selector("h1:has-text('APIトークンを作成しました')")
        secret = page.inner_text("#api-token-secret").strip()
        assert secret.startswith("mdg_")
        assert secret not in page.url
        _no_axe_violation(page, "token-created", csp)
        body = json.dumps({"program": world.program.code, "caller_number": "09012345678"})
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        assert Client().post(SCREEN_POP, body, content_type="application/json", **headers).status_code == 200

        page.click("text=APIトークン一覧へ")
        row = page.locator("tr", has_text="本社コールセンターPBX")
        row.wait_for()
        assert "有効" in row.inner_text()
        assert secret not in page.content()
        _no_axe_violation(page, "tokens-list", csp)

        row.get_by_role("link", name="失効させる").click()
        page.wait_for_selector("h1:has-text('APIトークンの失効')")
        _no_axe_violation(page, "token-revoke-confirm", csp)
        page.click("main form button:has-text('失効させる')")
        page.wait_for_selector("text=を失効させました")
        assert "失効" in page.locator("tr", has_text="本社コールセンターPBX").inner_text()
        _no_axe_violation(page, "tokens-after-revoke", csp)
        assert Client().post(SCREEN_POP, body, content_type="application/json", **headers).status_code == 401
        assert csp == []
