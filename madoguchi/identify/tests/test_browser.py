"""The identification panel in a real browser: type, see candidates, open one, verify."""

from __future__ import annotations

import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.identify.tests.helpers import standard_list


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
            action=Action.VIEW, object_type="household", object_id=str(tanaka.pk)
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
