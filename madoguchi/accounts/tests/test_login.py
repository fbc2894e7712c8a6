from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts.models import UserSession
from madoguchi.accounts.sessions import session_store
from madoguchi.accounts.testing import PERSONA_PASSWORD, login, totp_code, totp_device
from madoguchi.audit.models import Action, AuditEvent

LOGIN = "/accounts/login/"
VERIFY = "/accounts/login/verify/"


def password_step(client, username, password=PERSONA_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


@pytest.mark.django_db
class TwoStepLoginTests:
    def test_the_password_alone_does_not_log_in(self, client, world):
        totp_device(world.operator)
        response = password_step(client, "operator")
        assert response.status_code == 302
        assert response["Location"] == VERIFY
        assert client.get(reverse("core:home")).status_code == 302  # still anonymous

    def test_password_then_code_logs_in_and_is_audited(self, client, world):
        totp_device(world.operator)
        password_step(client, "operator")
        response = client.post(VERIFY, {"otp_token": totp_code(world.operator)})
        assert response.status_code == 302
        assert response["Location"] == "/"
        home = client.get("/")
        assert home.status_code == 200
        assert home.wsgi_request.user == world.operator
        event = AuditEvent.objects.get(action=Action.LOGIN)
        assert event.actor_id == world.operator.pk
        assert event.client_ip == "127.0.0.1"
        assert UserSession.objects.filter(user=world.operator).count() == 1

    def test_a_wrong_code_does_not_log_in(self, client, world):
        totp_device(world.operator)
        password_step(client, "operator")
        response = client.post(
            VERIFY, {"otp_token": "000000" if totp_code(world.operator) != "000000" else "111111"}
        )
        assert response.status_code == 200
        assert "確認コードが正しくありません" in response.content.decode()
        assert client.get("/").status_code == 302

    def test_a_code_cannot_be_replayed_within_its_window(self, client, world):
        totp_device(world.operator)
        code = totp_code(world.operator)
        password_step(client, "operator")
        assert client.post(VERIFY, {"otp_token": code}).status_code == 302
        other = Client()
        password_step(other, "operator")
        response = other.post(VERIFY, {"otp_token": code})
        assert response.status_code == 200
        assert other.get("/").status_code == 302

    def test_five_wrong_codes_lock_the_second_step(self, client, world):
        totp_device(world.operator)
        password_step(client, "operator")
        right = totp_code(world.operator)
        wrong = "000000" if right != "000000" else "111111"
        for _ in range(5):
            client.post(VERIFY, {"otp_token": wrong})
        response = client.post(VERIFY, {"otp_token": right})
        assert response.status_code == 200
        assert "試行回数の上限" in response.content.decode()
        assert client.get("/").status_code == 302
        assert AuditEvent.objects.filter(action=Action.LOCKOUT, actor_id=world.operator.pk).exists()

    def test_the_session_key_changes_at_the_password_and_at_the_code(self, client, world):
        totp_device(world.operator)
        # An attacker's real session, planted in the victim's browser.
        planted = session_store()()
        planted["planted"] = True
        planted.save()
        fixed = planted.session_key
        client.cookies["sessionid"] = fixed
        password_step(client, "operator")
        after_password = client.cookies["sessionid"].value
        assert after_password != fixed
        assert not session_store()().exists(fixed)
        client.post(VERIFY, {"otp_token": totp_code(world.operator)})
        after_code = client.cookies["sessionid"].value
        assert after_code not in {after_password, fixed}
        # The key seen after the password is no longer a session.
        stale = Client()
        stale.cookies["sessionid"] = after_password
        assert stale.get("/").status_code == 302

    def test_a_user_without_a_device_enrols_at_first_login(self, client, world):
        assert not TOTPDevice.objects.filter(user=world.ward_staff).exists()
        response = password_step(client, "ward")
        assert response["Location"] == "/accounts/login/enrol/"
        page = client.get("/accounts/login/enrol/")
        assert page.status_code == 200
        assert 'src="data:image/svg+xml;base64,' in page.content.decode()
        device = TOTPDevice.objects.get(user=world.ward_staff, confirmed=False)
        from django_otp.oath import totp

        code = f"{totp(device.bin_key):06d}"
        done = client.post("/accounts/login/enrol/", {"otp_token": code})
        assert done.status_code == 200
        codes = done.context["codes"]
        assert len(codes) == 10
        assert TOTPDevice.objects.get(user=world.ward_staff).confirmed
        assert client.get("/").status_code == 200

    def test_a_recovery_code_works_once_and_is_stored_hashed(self, client, world):
        from madoguchi.accounts.models import RecoveryCode
        from madoguchi.accounts.services import new_recovery_codes

        totp_device(world.operator)
        codes = new_recovery_codes(user=world.operator)
        stored = list(RecoveryCode.objects.filter(user=world.operator).values_list("digest", flat=True))
        assert not any(
            code.replace("-", "") in digest or code in digest for code in codes for digest in stored
        )
        password_step(client, "operator")
        assert client.post(VERIFY, {"otp_token": codes[0]}).status_code == 302
        assert client.get("/").status_code == 200
        other = Client()
        password_step(other, "operator")
        assert other.post(VERIFY, {"otp_token": codes[0]}).status_code == 200
        assert other.get("/").status_code == 302

    def test_the_second_step_expires_without_the_password(self, client, world):
        response = client.get(VERIFY)
        assert response.status_code == 302
        assert response["Location"] == LOGIN


@pytest.mark.django_db
class ForceLoginWithoutSecondFactorTests:
    def test_a_session_without_the_second_factor_is_ended(self, client, world):
        client.force_login(world.operator)
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
        assert client.get("/").status_code == 302

    def test_the_helper_login_satisfies_it(self, client, world):
        login(client, world.operator)
        assert client.get("/").status_code == 200
