"""The session's user, organisation and second-factor device are read in one query on every
staff page (accounts.otp), and every change to them takes effect on the next request."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from madoguchi.accounts.models import Organisation, Role, User
from madoguchi.accounts.testing import login, totp_device


def reads(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [query["sql"] for query in queries.captured_queries]


@pytest.mark.django_db
class SessionReadTests:
    def test_user_organisation_and_device_are_one_query(self, client, world):
        login(client, world.operator)
        client.get(reverse("cases:list"))
        response, sql = reads(client, reverse("cases:list"))
        assert response.status_code == 200
        device_reads = [text for text in sql if "otp_totp_totpdevice" in text]
        assert len(device_reads) == 1
        assert "accounts_user" in device_reads[0] and "accounts_organisation" in device_reads[0]
        assert not [text for text in sql if text.startswith('SELECT "accounts_user"."id"')]
        assert not [text for text in sql if text.startswith('SELECT "accounts_organisation"')]

    def test_the_user_read_with_the_device_equals_the_orms_field_by_field(self, client, world):
        # Written SQL, converted as the ORM converts (SQLite's dates, times and booleans).
        world.operator.valid_from = datetime.date(2020, 4, 1)
        world.operator.valid_until = datetime.date.today() + datetime.timedelta(days=3)
        world.operator.save()
        login(client, world.operator)
        response = client.get(reverse("cases:list"))
        user = response.wsgi_request.user
        expected = User.objects.select_related("organisation").get(pk=world.operator.pk)
        fields = [field.attname for field in User._meta.concrete_fields]
        assert [getattr(user, name) for name in fields] == [getattr(expected, name) for name in fields]
        assert isinstance(user.last_login, datetime.datetime) and isinstance(user.is_active, bool)
        organisation_fields = [field.attname for field in Organisation._meta.concrete_fields]
        assert [getattr(user.organisation, name) for name in organisation_fields] == [
            getattr(expected.organisation, name) for name in organisation_fields
        ]
        device = totp_device(world.operator)
        assert user.otp_device.pk == device.pk and user.otp_device.key == device.key
        assert user.otp_device.confirmed is True and user.otp_device.user is user

    def test_a_deleted_device_ends_the_session_at_the_next_request(self, client, world):
        login(client, world.operator)
        assert client.get(reverse("cases:list")).status_code == 200
        totp_device(world.operator).delete()
        response = client.get(reverse("cases:list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_an_unconfirmed_device_ends_the_session_at_the_next_request(self, client, world):
        login(client, world.operator)
        assert client.get(reverse("cases:list")).status_code == 200
        device = totp_device(world.operator)
        device.confirmed = False
        device.save()
        assert client.get(reverse("cases:list")).status_code == 302

    def test_a_device_of_another_user_in_the_session_is_refused(self, client, world):
        login(client, world.operator)
        other = totp_device(world.supervisor)
        session = client.session
        session["otp_device_id"] = other.persistent_id
        session.save()
        assert client.get(reverse("cases:list")).status_code == 302

    @pytest.mark.parametrize("persistent_id", ["otp_static.staticdevice/1", "otp_totp.totpdevice/x", ""])
    def test_a_session_naming_no_totp_device_is_read_the_usual_way_and_refused(
        self, client, world, persistent_id
    ):
        login(client, world.operator)
        session = client.session
        session["otp_device_id"] = persistent_id
        session.save()
        response, sql = reads(client, reverse("cases:list"))
        assert response.status_code == 302
        assert [text for text in sql if text.startswith('SELECT "accounts_user"."id"')]

    def test_a_changed_role_and_a_disabled_user_take_effect_at_the_next_request(self, client, world):
        login(client, world.operator)
        assert client.get(reverse("cases:new")).status_code in (200, 302)
        assert client.get(reverse("cases:list")).status_code == 200
        world.operator.role = Role.AUDITOR  # may view, may not create
        world.operator.save()
        assert client.get(reverse("cases:new")).status_code == 403
        world.operator.role = Role.SYSADMIN  # may not view personal data
        world.operator.save()
        assert client.get(reverse("cases:list")).status_code == 403
        world.operator.is_active = False
        world.operator.save()
        assert client.get(reverse("cases:list")).status_code == 302

    def test_a_suspended_organisation_ends_the_session_at_the_next_request(self, client, world):
        login(client, world.operator)
        assert client.get(reverse("cases:list")).status_code == 200
        world.contractor.access_suspended = True
        world.contractor.save()
        assert client.get(reverse("cases:list")).status_code == 302


@pytest.mark.django_db
class SessionStoreTests:
    def test_a_stored_session_is_read_back_and_an_expired_or_unknown_one_is_not(self, world):
        import datetime

        from django.contrib.sessions.models import Session
        from django.utils import timezone

        from madoguchi.accounts.session_db import SessionStore

        store = SessionStore()
        store["note"] = "値"
        store.save()
        key = store.session_key
        assert SessionStore(key).load() == {"note": "値"}
        unknown = SessionStore("x" * 32)
        assert unknown.load() == {} and unknown.session_key is None
        Session.objects.filter(session_key=key).update(
            expire_date=timezone.now() - datetime.timedelta(seconds=1)
        )
        expired = SessionStore(key)
        assert expired.load() == {} and expired.session_key is None
