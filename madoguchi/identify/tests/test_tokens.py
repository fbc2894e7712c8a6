"""The API token screen: the contractor's supervisor and the ward manager manage their own
organisation's screen-pop tokens; the secret is shown once; every change is audited."""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from madoguchi.accounts.sessions import AUTH_AT
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.identify.models import ApiToken, hash_token
from madoguchi.identify.services import create_api_token
from madoguchi.identify.tests.helpers import standard_list

pytestmark = pytest.mark.django_db

LIST = "/identify/tokens/"
SCREEN_POP = "/identify/api/screen-pop"
SECRET = re.compile(r"mdg_[A-Za-z0-9_\-]{40,}")


def client_for(user: Any) -> Client:
    client = Client()
    login(client, user)
    return client


def revoke_url(token: ApiToken) -> str:
    return f"/identify/tokens/{token.pk}/revoke/"


def screen_pop(secret: str, program: Any) -> Any:
    return Client().post(
        SCREEN_POP,
        json.dumps({"program": program.code, "caller_number": "090-1234-5678"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def created_secret(response: Any) -> str:
    match = SECRET.search(response.content.decode())
    assert match is not None, "the new token is not on the result page"
    return match.group(0)


class AccessTests:
    @pytest.mark.parametrize("persona", ["supervisor", "ward_manager"])
    def test_the_supervisor_and_the_ward_manager_see_their_organisations_tokens_only(self, world, persona):
        user = getattr(world, persona)
        _own, _secret = create_api_token(organisation=user.organisation, name="自分のPBX", created_by=None)
        other_org = world.ward if user.organisation == world.contractor else world.contractor
        create_api_token(organisation=other_org, name="ほかの組織のPBX", created_by=None)
        create_api_token(organisation=world.other_contractor, name="別事業のPBX", created_by=None)
        response = client_for(user).get(LIST)
        assert response.status_code == 200
        body = response.content.decode()
        assert "自分のPBX" in body
        assert "ほかの組織のPBX" not in body and "別事業のPBX" not in body
        assert "no-store" in response["Cache-Control"]

    @pytest.mark.parametrize("persona", ["operator", "ward_staff", "auditor", "sysadmin", "outsider"])
    def test_other_roles_are_refused_and_the_refusal_is_audited(self, world, persona):
        user = getattr(world, persona)
        client = client_for(user)
        assert client.get(LIST).status_code == 403
        assert client.post(LIST, {"name": "PBX"}).status_code == 403
        assert not ApiToken.objects.exists()
        assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, actor_id=user.pk).exists()

    def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login(self, world):
        response = Client().get(LIST)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    @pytest.mark.parametrize(
        ("persona", "organisation"),
        [
            ("supervisor", "ward"),
            ("supervisor", "other_contractor"),
            ("ward_manager", "contractor"),
            ("ward_manager", "other_ward"),
        ],
    )
    def test_another_organisations_token_answers_404(self, world, persona, organisation):
        token, _secret = create_api_token(
            organisation=getattr(world, organisation), name="PBX", created_by=None
        )
        client = client_for(getattr(world, persona))
        assert client.get(revoke_url(token)).status_code == 404
        assert client.post(revoke_url(token)).status_code == 404
        token.refresh_from_db()
        assert token.is_active
        assert not AuditEvent.objects.filter(
            action=Action.SETTINGS_CHANGE, details__change="revoked"
        ).exists()

    def test_the_nav_offers_the_screen_to_the_roles_that_manage_tokens(self, world):
        assert 'href="/identify/tokens/"' in client_for(world.supervisor).get("/identify/").content.decode()
        assert 'href="/identify/tokens/"' in client_for(world.ward_manager).get("/identify/").content.decode()
        assert 'href="/identify/tokens/"' not in client_for(world.operator).get("/identify/").content.decode()

    def test_only_the_token_entry_is_the_current_page_on_the_token_screen(self, world):
        body = client_for(world.supervisor).get(LIST).content.decode()
        assert body.count('aria-current="page"') == 1
        assert re.search(r'href="/identify/tokens/"\s+aria-current="page"', body)


class CreateTests:
    def test_the_new_token_is_shown_once_and_never_again(self, world):
        client = client_for(world.supervisor)
        response = client.post(LIST, {"name": "本社PBX"})
        assert response.status_code == 200  # rendered, not redirected: the secret is in no URL
        secret = created_secret(response)
        assert "no-store" in response["Cache-Control"]
        token = ApiToken.objects.get()
        assert token.organisation == world.contractor
        assert token.created_by == world.supervisor
        assert token.token_hash == hash_token(secret)
        listing = client.get(LIST).content.decode()
        assert "本社PBX" in listing
        assert secret not in listing
        assert SECRET.search(listing) is None
        assert secret not in client.get(revoke_url(token)).content.decode()

    def test_the_created_token_works_on_the_screen_pop_and_is_audited(self, world):
        households = standard_list(world.program)
        response = client_for(world.ward_manager).post(LIST, {"name": "区役所PBX"})
        secret = created_secret(response)
        answer = screen_pop(secret, world.program)
        assert answer.status_code == 200
        assert answer.json()["candidates"][0]["household"] == str(households["tanaka"].public_id)
        token = ApiToken.objects.get()
        event = AuditEvent.objects.get(action=Action.SETTINGS_CHANGE, object_type="api_token")
        assert event.actor_id == world.ward_manager.pk
        assert event.object_id == str(token.pk)
        assert event.details == {"change": "created", "organisation": world.ward.pk, "via": "screen"}
        assert secret not in json.dumps(event.details) and token.token_hash not in json.dumps(event.details)
        token.refresh_from_db()
        assert token.last_used_at is not None
        assert "未使用" not in client_for(world.ward_manager).get(LIST).content.decode()

    def test_a_blank_name_is_refused_and_nothing_is_created(self, world):
        response = client_for(world.supervisor).post(LIST, {"name": "   "})
        assert response.status_code == 200
        assert "field--error" in response.content.decode()
        assert not ApiToken.objects.exists()
        assert not AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).exists()

    def test_the_organisation_cannot_be_chosen_by_the_form(self, world):
        client_for(world.supervisor).post(LIST, {"name": "PBX", "organisation": world.ward.pk})
        assert ApiToken.objects.get().organisation == world.contractor

    def test_an_old_login_must_confirm_a_code_before_creating_one(self, world):
        client = client_for(world.supervisor)
        session = client.session
        session[AUTH_AT] = time.time() - 6 * 60
        session.save()
        response = client.post(LIST, {"name": "PBX"})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/reauth/")
        assert not ApiToken.objects.exists()


class RevokeTests:
    def test_revoking_asks_for_confirmation_then_stops_the_token_and_is_audited(self, world):
        standard_list(world.program)
        token, secret = create_api_token(
            organisation=world.contractor, name="PBX", created_by=world.supervisor
        )
        client = client_for(world.supervisor)
        confirm = client.get(revoke_url(token))
        assert confirm.status_code == 200
        assert 'method="post"' in confirm.content.decode()
        token.refresh_from_db()
        assert token.is_active  # a GET changes nothing
        response = client.post(revoke_url(token))
        assert response.status_code == 302 and response["Location"] == LIST
        token.refresh_from_db()
        assert not token.is_active
        assert screen_pop(secret, world.program).status_code == 401
        event = AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE, object_type="api_token").latest(
            "seq"
        )
        assert event.details == {"change": "revoked", "organisation": world.contractor.pk, "via": "screen"}
        assert event.actor_id == world.supervisor.pk
        assert "失効" in client.get(LIST).content.decode()

    def test_revoking_twice_is_refused_and_audited_once(self, world):
        token, _secret = create_api_token(organisation=world.ward, name="PBX", created_by=None)
        client = client_for(world.ward_manager)
        client.post(revoke_url(token))
        response = client.post(revoke_url(token), follow=True)
        assert "すでに失効しています" in response.content.decode()
        assert (
            AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE, details__change="revoked").count() == 1
        )

    def test_revoking_is_a_post(self, world):
        token, _secret = create_api_token(organisation=world.ward, name="PBX", created_by=None)
        assert client_for(world.ward_manager).put(revoke_url(token)).status_code == 405


class KillSwitchTests:
    def test_a_suspended_contractors_token_is_refused(self, world):
        standard_list(world.program)
        _token, secret = create_api_token(organisation=world.contractor, name="PBX", created_by=None)
        assert screen_pop(secret, world.program).status_code == 200
        world.contractor.access_suspended = True
        world.contractor.save()
        assert screen_pop(secret, world.program).status_code == 403


class CommandTests:
    def test_the_command_and_the_screen_share_the_rules_and_the_audit(self, world):
        out = io.StringIO()
        call_command("identify_token", "--organisation", world.contractor.code, "--name", "PBX", stdout=out)
        token = ApiToken.objects.get()
        assert token.created_by is None
        assert "管理コマンド" in client_for(world.supervisor).get(LIST).content.decode()
        call_command("identify_token", "--revoke", str(token.pk), stdout=io.StringIO())
        with pytest.raises(CommandError, match="すでに失効"):
            call_command("identify_token", "--revoke", str(token.pk), stdout=io.StringIO())
        events = AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE, object_type="api_token")
        assert [e.details["change"] for e in events.order_by("seq")] == ["created", "revoked"]
        assert {e.details["via"] for e in events} == {"cli"}

    def test_the_command_refuses_a_blank_name(self, world):
        with pytest.raises(CommandError):
            call_command("identify_token", "--organisation", world.contractor.code, stdout=io.StringIO())
        assert not ApiToken.objects.exists()
