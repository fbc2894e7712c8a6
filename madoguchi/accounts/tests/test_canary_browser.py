"""T-SEC-13 and T-SEC-14 on the main path: a call about a household made of canary values.

The operator identifies the caller by the canary name, date of birth and phone, opens the
household and records an inquiry that repeats the canary e-mail. Afterwards no log line, no
audit event and no requested URL holds any canary value (raw, URL-encoded or \\u-escaped).
"""

from __future__ import annotations

import json

import pytest

from madoguchi.accounts.testing import CANARY, browser_login, find_canary
from madoguchi.audit.models import AuditEvent
from madoguchi.cases.models import Case
from madoguchi.cases.testing import seed_categories
from madoguchi.identify.indexer import reindex_program
from madoguchi.identify.tests.helpers import add_household

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class CanaryCallTests:
    def test_a_call_about_canary_values_leaves_no_trace_outside_the_records(
        self, live_server, page, world, canary_logs
    ):
        seed_categories(world.program)
        household = add_household(
            world.program,
            "900001",
            guardian=(CANARY["name"], CANARY["kana"], "1988-04-01"),
            children=[("検証　花子", "ケンショウ　ハナコ", CANARY["dob"])],
            address=CANARY["address"],
            phone=CANARY["phone"],
            email=CANARY["email"],
        )
        reindex_program(world.program.pk)
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))

        browser_login(page, live_server.url, world.operator)
        page.goto(f"{live_server.url}/cases/new/")
        page.keyboard.press("Alt+I")
        page.keyboard.type(CANARY["name"])
        page.fill("#identify-child_dob", CANARY["dob"])
        page.fill("#identify-phone", CANARY["phone"])
        page.click("#identify-results .candidate >> nth=0 >> text=この世帯を開く")
        page.wait_for_selector("#identify-verify-form")
        for item in ("name", "dob", "phone"):
            page.check(f"#identify-item-{item}")
        page.click("#identify-verify-form button[type=submit]")
        page.wait_for_selector(
            f"#identify-hidden input[name=household][value='{household.public_id}']", state="attached"
        )
        page.focus("#id_inquiry")
        page.keyboard.type(f"{CANARY['email']} に案内を送ってほしい")
        page.keyboard.press("Tab")
        page.keyboard.type("区に確認のうえ折り返すと案内")
        page.check("input[name=then][value=escalate]")
        page.focus("#id_question")
        page.keyboard.type("案内の送付先を確認してください")
        page.keyboard.press("Alt+S")
        page.wait_for_selector(".status-badge[data-status=escalated]")
        assert Case.objects.get().household == household

        assert requested, "the browser made requests"
        assert not find_canary("\n".join(requested)), "a canary value in a URL"
        events = json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)
        assert not find_canary(events), "a canary value in the audit events"
        # canary_logs checks every log line when the test ends.
