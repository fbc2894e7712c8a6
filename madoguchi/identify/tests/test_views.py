"""The panel's endpoints, the audit they leave, and who may use them."""

from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.identify.services import create_api_token, revoke_api_token
from madoguchi.identify.tests.helpers import post_search
from madoguchi.identify.verification import verification_status

SEARCH = {
    "guardian_name": "田中 花子",
    "child_dob": "R2.5.3",
    "phone": "090-1234-5678",
}
SEARCHED_VALUES = ["田中", "花子", "R2.5.3", "2020-05-03", "090-1234-5678", "09012345678"]


class SearchTests:
    def test_it_shows_the_household_with_evidence_and_masked_items(self, client, world, households):
        login(client, world.operator)
        response = post_search(client, world, **SEARCH)
        assert response.status_code == 200
        html = response.content.decode()
        assert households["tanaka"].number in html
        assert "児童生年月日：一致" in html
        assert "太子堂" in html
        assert "2020-05-03" not in html and "5月3日" not in html  # dates masked until opened
        assert "花子" not in html  # the given name is masked
        assert "ハイツ" not in html  # no block, building or room before opening

    def test_it_audits_the_fields_used_and_the_count_never_the_values(self, client, world, households):
        login(client, world.operator)
        post_search(client, world, **SEARCH)
        event = AuditEvent.objects.filter(action=Action.IDENTIFY).latest("id")
        assert event.actor_id == world.operator.pk
        assert event.program_id == world.program.pk
        assert sorted(event.details["fields"]) == ["child_dob", "guardian_name", "phone"]
        assert event.details["count"] >= 1
        dumped = json.dumps(event.details, ensure_ascii=False) + event.object_id + event.object_type
        for value in SEARCHED_VALUES:
            assert value not in dumped

    def test_a_search_is_a_post_never_a_get(self, client, world, households):
        login(client, world.operator)
        response = client.get(reverse("identify:search"), {"program": world.program.code, **SEARCH})
        assert response.status_code in (400, 405)  # the query-string guard answers first (#14)

    def test_an_operator_of_another_program_gets_404(self, client, world, households):
        login(client, world.other_program_operator)
        response = post_search(client, world, **SEARCH)
        assert response.status_code == 404
        assert not AuditEvent.objects.filter(action=Action.IDENTIFY).exists()

    def test_a_ward_manager_of_the_program_may_identify(self, client, world, households):
        login(client, world.ward_manager)
        assert households["tanaka"].number in post_search(client, world, **SEARCH).content.decode()

    def test_an_auditor_may_not_identify(self, client, world, households):
        login(client, world.auditor)
        assert post_search(client, world, **SEARCH).status_code == 403

    def test_an_anonymous_visitor_is_sent_to_login(self, client, world, households):
        response = post_search(client, world, **SEARCH)
        assert response.status_code in (302, 401, 403)
        assert households["tanaka"].number not in response.content.decode()

    def test_a_search_reads_the_users_programs_in_one_statement(self, client, world, households):
        # The program by its code among the user's programs, whole rows, one written statement;
        # the search's and the candidates' scope checks reuse its ids (issue 15, hI).
        login(client, world.operator)
        with CaptureQueriesContext(connection) as queries:
            response = post_search(client, world, **SEARCH)
        assert households["tanaka"].number in response.content.decode()
        # Besides the session's statement, which reads the user's program ids (accounts.otp).
        own = [q["sql"] for q in queries.captured_queries if "otp_totp" not in q["sql"]]
        programs = [text for text in own if '"programs_program"' in text]
        assert len(programs) == 1, programs

    def test_an_operator_removed_from_the_program_gets_404_and_no_search_is_audited(
        self, client, world, households
    ):
        login(client, world.operator)
        world.program.members.remove(world.operator)
        assert post_search(client, world, **SEARCH).status_code == 404
        assert post_search(client, world, program="", **SEARCH).status_code == 404
        assert not AuditEvent.objects.filter(action=Action.IDENTIFY).exists()

    def test_a_candidates_markup_keeps_its_labels_and_its_form(self, client, world, households):
        # The fragment's constant text and the open form's URL are looked up once per search;
        # every candidate still carries them.
        login(client, world.operator)
        html = post_search(client, world, guardian_name="田中").content.decode()
        count = html.count("data-candidate=")
        assert count >= 2
        open_url = reverse("identify:open")
        assert html.count(f'action="{open_url}" hx-post="{open_url}" hx-target="#identify-opened"') == count
        assert html.count('aria-label="一致度"') == count
        assert html.count('<ul class="candidate__evidence" aria-label="一致の根拠">') == count
        assert html.count(">この世帯を開く</button>") == count
        assert html.count('name="csrfmiddlewaretoken"') == count
        guardian = '<span class="tag">保護者</span> 田中 <span class="masked"><span aria-hidden="true">'
        assert guardian in html
        assert '<span class="visually-hidden">名 非表示</span>' in html
        assert '<span class="visually-hidden">番地以降 非表示</span>' in html
        assert "</span>世帯 100001</h3>" in html


class OpenTests:
    def test_opening_a_candidate_shows_its_details_and_is_an_audited_view(self, client, world, households):
        login(client, world.operator)
        household = households["tanaka"]
        response = client.post(
            reverse("identify:open"), {"program": world.program.code, "household": str(household.public_id)}
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "田中　花子" in html and "090-1234-5678" in html and "太子堂ハイツ101号室" in html
        event = AuditEvent.objects.filter(action=Action.VIEW, object_type="household").latest("id")
        assert event.object_id == str(household.public_id)  # one identifier per household
        assert event.actor_id == world.operator.pk
        assert "田中" not in json.dumps(event.details, ensure_ascii=False)

    def test_opening_another_programs_household_answers_404(self, client, world, households):
        login(client, world.other_program_operator)
        response = client.post(
            reverse("identify:open"),
            {"program": world.program.code, "household": str(households["tanaka"].public_id)},
        )
        assert response.status_code == 404
        assert not AuditEvent.objects.filter(action=Action.VIEW, object_type="household").exists()

    def test_an_unapproved_item_is_not_shown(self, client, world, households):
        world.program.approved_items = [i for i in world.program.approved_items if i != "guardian.phone"]
        world.program.save()
        login(client, world.operator)
        response = client.post(
            reverse("identify:open"),
            {"program": world.program.code, "household": str(households["tanaka"].public_id)},
        )
        assert "090-1234-5678" not in response.content.decode()


class ConfirmTests:
    def test_confirming_binds_the_household_and_the_items_to_the_case_form(self, client, world, households):
        login(client, world.operator)
        household = households["tanaka"]
        response = client.post(
            reverse("identify:confirm"),
            {
                "program": world.program.code,
                "household": str(household.public_id),
                "items": ["name", "dob", "phone"],
            },
        )
        html = response.content.decode()
        assert f'form="case-form" name="household" value="{household.public_id}"' in html
        assert 'form="case-form" name="verification" value="verified"' in html
        for item in ("name", "dob", "phone"):
            assert f'form="case-form" name="verified_items" value="{item}"' in html
        assert response["HX-Trigger"] == "identify:confirmed"

    def test_name_and_one_item_is_only_partial(self, client, world, households):
        login(client, world.operator)
        response = client.post(
            reverse("identify:confirm"),
            {
                "program": world.program.code,
                "household": str(households["tanaka"].public_id),
                "items": ["name", "dob"],
            },
        )
        assert 'name="verification" value="partial"' in response.content.decode()


class VerificationRuleTests:
    DEFAULT = {"requires_name": True, "min_other_items": 2, "items": ["dob", "address", "phone"]}

    def test_name_and_two_items_verify(self):
        assert verification_status(self.DEFAULT, ["name", "dob", "address"]) == "verified"

    def test_without_the_name_it_is_only_partial(self):
        assert verification_status(self.DEFAULT, ["dob", "address", "phone"]) == "partial"

    def test_nothing_confirmed_is_not_verified(self):
        assert verification_status(self.DEFAULT, []) == "not_verified"

    def test_a_program_may_ask_for_more(self):
        strict = {"requires_name": True, "min_other_items": 3, "items": ["dob", "address", "phone"]}
        assert verification_status(strict, ["name", "dob", "address"]) == "partial"
        assert verification_status(strict, ["name", "dob", "address", "phone"]) == "verified"

    def test_items_outside_the_rule_do_not_count(self):
        rule = {"requires_name": True, "min_other_items": 1, "items": ["dob"]}
        assert verification_status(rule, ["name", "phone"]) == "partial"


class PageTests:
    def test_the_page_hosts_the_panel_and_the_nav_offers_it(self, client, world, households):
        login(client, world.operator)
        response = client.get(reverse("identify:page"))
        html = response.content.decode()
        assert response.status_code == 200
        assert 'hx-post="/identify/search/"' in html and 'hx-trigger="input changed delay:300ms' in html
        assert reverse("identify:page") in client.get(reverse("core:home")).content.decode()

    def test_the_nav_does_not_offer_it_to_an_auditor(self, client, world, households):
        login(client, world.auditor)
        assert reverse("identify:page") not in client.get(reverse("core:home")).content.decode()


class ScreenPopTests:
    URL = "/identify/api/screen-pop"

    def call(self, client, token, body):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        return client.post(self.URL, json.dumps(body), content_type="application/json", **headers)

    def test_it_answers_candidates_for_the_caller_number(self, client, world, households):
        _token, secret = create_api_token(
            organisation=world.contractor, name="PBX", created_by=world.supervisor
        )
        response = self.call(
            client, secret, {"program": world.program.code, "caller_number": "+81 90-1234-5678"}
        )
        assert response.status_code == 200
        data = response.json()
        assert data["candidates"][0]["household"] == str(households["tanaka"].public_id)
        # The phone is not echoed back. The random ids and the scores are left out of the check:
        # they may contain "090" by chance.
        shown = json.dumps(
            {**data, "candidates": [{**c, "household": "", "score": 0} for c in data["candidates"]]}
        )
        assert "090" not in shown and "1234" not in shown
        event = AuditEvent.objects.filter(action=Action.IDENTIFY).latest("id")
        assert event.details["fields"] == ["phone"] and event.details["via"] == "api"
        assert "1234" not in json.dumps(event.details)

    def test_the_token_is_stored_hashed(self, world):
        token, secret = create_api_token(
            organisation=world.contractor, name="PBX", created_by=world.supervisor
        )
        assert secret not in token.token_hash and len(token.token_hash) == 64

    def test_a_missing_token_is_401(self, client, world, households):
        response = self.call(client, "", {"program": world.program.code, "caller_number": "09012345678"})
        assert response.status_code == 401

    def test_a_revoked_token_is_401(self, client, world, households):
        token, secret = create_api_token(
            organisation=world.contractor, name="PBX", created_by=world.supervisor
        )
        revoke_api_token(token=token, user=world.supervisor)
        response = self.call(client, secret, {"program": world.program.code, "caller_number": "09012345678"})
        assert response.status_code == 401

    def test_another_organisations_token_gets_404(self, client, world, households):
        _token, secret = create_api_token(organisation=world.other_contractor, name="PBX", created_by=None)
        response = self.call(client, secret, {"program": world.program.code, "caller_number": "09012345678"})
        assert response.status_code == 404
        assert not AuditEvent.objects.filter(action=Action.IDENTIFY).exists()

    def test_an_inactive_organisations_token_is_403(self, client, world, households):
        _token, secret = create_api_token(
            organisation=world.contractor, name="PBX", created_by=world.supervisor
        )
        world.contractor.is_active = False
        world.contractor.save()
        response = self.call(client, secret, {"program": world.program.code, "caller_number": "09012345678"})
        assert response.status_code == 403


class TokenCommandTests:
    def test_the_command_prints_a_working_token_once_and_can_revoke_it(self, client, world, households):
        import io

        from django.core.management import call_command

        out = io.StringIO()
        call_command("identify_token", "--organisation", world.contractor.code, "--name", "PBX", stdout=out)
        secret = out.getvalue().strip().splitlines()[-1]
        body = json.dumps({"program": world.program.code, "caller_number": "09012345678"})
        ok = client.post(
            "/identify/api/screen-pop",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert ok.status_code == 200
        from madoguchi.identify.models import ApiToken

        token = ApiToken.objects.get(organisation=world.contractor)
        call_command("identify_token", "--revoke", str(token.pk), stdout=io.StringIO())
        refused = client.post(
            "/identify/api/screen-pop",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert refused.status_code == 401
