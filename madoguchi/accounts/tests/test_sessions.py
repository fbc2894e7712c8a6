from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import Client

from madoguchi.accounts.models import UserSession
from madoguchi.accounts.services import set_active, set_contractor_access
from madoguchi.accounts.sessions import AUTH_AT, SEEN_AT, session_store
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent


def age_session(client, **offsets):
    session = client.session
    for key, seconds in offsets.items():
        session[key] = time.time() - seconds
    session.save()


@pytest.mark.django_db
class SessionLimitTests:
    def test_a_session_idle_for_longer_than_the_limit_ends(self, client, world):
        login(client, world.operator)
        key = client.session.session_key
        age_session(client, **{SEEN_AT: settings.SESSION_IDLE_TIMEOUT + 60})
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert not session_store()().exists(key)
        assert client.get("/").status_code == 302
        event = AuditEvent.objects.get(action=Action.LOGOUT)
        assert event.details == {"reason": "idle"}

    def test_an_active_session_is_kept_alive(self, client, world):
        login(client, world.operator)
        age_session(client, **{SEEN_AT: settings.SESSION_IDLE_TIMEOUT - 60})
        assert client.get("/").status_code == 200
        assert time.time() - client.session[SEEN_AT] < 5

    def test_a_session_older_than_one_shift_ends_however_active(self, client, world):
        login(client, world.operator)
        age_session(client, **{AUTH_AT: settings.SESSION_COOKIE_AGE + 1, SEEN_AT: 10})
        assert client.get("/").status_code == 302
        assert AuditEvent.objects.get(action=Action.LOGOUT).details == {"reason": "absolute"}

    def test_the_limits_default_to_15_minutes_and_10_hours(self):
        assert settings.SESSION_IDLE_TIMEOUT == 15 * 60
        assert settings.SESSION_COOKIE_AGE == 10 * 60 * 60

    def test_logout_ends_the_session_on_the_server_and_clears_the_browser(self, client, world):
        login(client, world.operator)
        key = client.session.session_key
        response = client.post("/accounts/logout/")
        assert response.status_code == 302
        assert response["Clear-Site-Data"] == '"cache", "storage"'
        assert not session_store()().exists(key)
        replay = Client()
        replay.cookies[settings.SESSION_COOKIE_NAME] = key
        assert replay.get("/").status_code == 302
        assert AuditEvent.objects.filter(action=Action.LOGOUT, actor_id=world.operator.pk).exists()

    def test_logout_by_get_is_refused(self, client, world):
        login(client, world.operator)
        assert client.get("/accounts/logout/").status_code == 405
        assert client.get("/").status_code == 200

    def test_disabling_a_user_ends_all_their_sessions(self, world):
        first, second = Client(), Client()
        login(first, world.operator)
        login(second, world.operator)
        keys = [first.session.session_key, second.session.session_key]
        set_active(actor=world.ward_manager, user=world.operator, active=False)
        assert not any(session_store()().exists(key) for key in keys)
        assert first.get("/").status_code == 302
        assert second.get("/").status_code == 302
        assert not UserSession.objects.filter(user=world.operator).exists()

    def test_the_kill_switch_ends_every_contractor_session_and_spares_the_ward(self, world):
        operator, supervisor, ward = Client(), Client(), Client()
        login(operator, world.operator)
        login(supervisor, world.supervisor)
        login(ward, world.ward_staff)
        result = set_contractor_access(actor=world.ward_manager, suspended=True)
        assert result.sessions_ended == 2
        assert operator.get("/").status_code == 302
        assert supervisor.get("/").status_code == 302
        assert ward.get("/").status_code == 200
        # Nor can they log in again until the manager restores access.
        from madoguchi.accounts.testing import PERSONA_PASSWORD

        again = Client()
        response = again.post("/accounts/login/", {"username": "operator", "password": PERSONA_PASSWORD})
        assert response.status_code == 200
        set_contractor_access(actor=world.ward_manager, suspended=False)
        response = again.post("/accounts/login/", {"username": "operator", "password": PERSONA_PASSWORD})
        assert response.status_code == 302

    def test_a_user_outside_their_roster_dates_cannot_use_the_system(self, client, world):
        import datetime

        login(client, world.operator)
        world.operator.valid_until = datetime.date.today() - datetime.timedelta(days=1)
        world.operator.save()
        assert client.get("/").status_code == 302


@pytest.mark.django_db
class ExpiredSessionSweepTests:
    """`madoguchi lifecycle sweep` deletes what no request will ever read again."""

    def run_sweep(self) -> str:
        from io import StringIO

        from django.core.management import call_command

        out = StringIO()
        call_command("lifecycle", "sweep", stdout=out, stderr=StringIO())
        return out.getvalue()

    def test_an_expired_draft_and_an_old_login_record_are_deleted_live_ones_kept(self, client, world):
        import datetime

        from django.contrib.sessions.models import Session
        from django.utils import timezone

        from madoguchi.public.sessions import DatabaseSessionStore

        drafts = []
        for _ in range(2):
            draft = DatabaseSessionStore()
            draft["public_inquiry_draft"] = {"guardian_name": "架空 花子", "phone": "090-0000-0000"}
            draft.save()
            drafts.append(draft.session_key)
        Session.objects.filter(session_key=drafts[0]).update(
            expire_date=timezone.now() - datetime.timedelta(seconds=1)
        )
        login(client, world.operator)
        live_login = client.session.session_key
        UserSession.objects.create(user=world.operator, session_key="ended-long-ago", client_ip="192.0.2.1")
        UserSession.objects.filter(session_key="ended-long-ago").update(
            created_at=timezone.now() - datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
        )

        out = self.run_sweep()

        assert not Session.objects.filter(session_key=drafts[0]).exists()
        assert Session.objects.filter(session_key=drafts[1]).exists()
        assert session_store()().exists(live_login)
        assert list(UserSession.objects.values_list("session_key", flat=True)) == [live_login]
        assert "有効期限の切れたセッション1件" in out
        assert "終わったログインの記録1件" in out
        assert client.get("/").status_code == 200  # the live staff session still works
