"""Passwords (R-10) and the reset (R-09, T-SEC-11)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.test import Client

from madoguchi.accounts.sessions import session_store
from madoguchi.accounts.testing import login, totp_code, totp_device


@pytest.mark.django_db
class PasswordRuleTests:
    @pytest.mark.parametrize(
        "password",
        [
            "short-pw-1",  # 10 characters
            "password1234",  # common
            "Madoguchi-2026-spring",
            "setagaya-blue-river-7",
            "世田谷の青い川と山2026",
            "テスト支援事業のパスワード",  # the world's program name
            "contractor-a-horse-battery",  # an organisation code
        ],
    )
    def test_it_refuses_weak_or_context_passwords(self, world, password):
        with pytest.raises(ValidationError):
            validate_password(password, world.operator)

    @pytest.mark.parametrize(
        "password",
        ["correct horse battery staple", "りんごとみかんと青い空の午後", "x" * 3 + "-vq7-Lp2-mW9z"],
    )
    def test_it_accepts_a_long_passphrase(self, world, password):
        validate_password(password, world.operator)

    def test_argon2_hashes_first(self):
        # The test suite swaps in a fast hasher; the project's own list starts with Argon2.
        from madoguchi import settings as project_settings

        assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def reset_link(mailoutbox) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mailoutbox[-1].body)
    assert match, mailoutbox[-1].body
    return match.group(1)


@pytest.mark.django_db
class PasswordResetTests:
    NEW = "a-brand-new-long-passphrase-9"

    def request_reset(self, world, mailoutbox) -> str:
        world.operator.email = "operator@example.jp"
        world.operator.save()
        response = Client().post("/accounts/password/reset/", {"email": "operator@example.jp"})
        assert response.status_code == 302
        return reset_link(mailoutbox)

    def test_the_link_expires_after_one_hour(self, world, mailoutbox, monkeypatch):
        assert settings.PASSWORD_RESET_TIMEOUT == 3600
        link = self.request_reset(world, mailoutbox)
        later = datetime.datetime.now() + datetime.timedelta(seconds=3601)
        monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
        response = Client().get(link, follow=True)
        assert response.context["validlink"] is False

    def test_the_reset_never_logs_in_and_the_second_factor_is_still_asked(self, world, mailoutbox):
        existing = Client()
        login(existing, world.operator)
        old_key = existing.session.session_key
        link = self.request_reset(world, mailoutbox)
        client = Client()
        form_page = client.get(link, follow=True)
        assert form_page.context["validlink"]
        done = client.post(
            form_page.redirect_chain[-1][0], {"new_password1": self.NEW, "new_password2": self.NEW}
        )
        assert done.status_code == 302
        assert client.get("/").status_code == 302  # not logged in
        assert not session_store()().exists(old_key)  # other sessions ended
        assert existing.get("/").status_code == 302
        totp_device(world.operator)
        step = client.post("/accounts/login/", {"username": "operator", "password": self.NEW})
        assert step["Location"] == "/accounts/login/verify/"
        assert client.get("/").status_code == 302
        client.post("/accounts/login/verify/", {"otp_token": totp_code(world.operator)})
        assert client.get("/").status_code == 200

    def test_the_link_works_once(self, world, mailoutbox):
        link = self.request_reset(world, mailoutbox)
        client = Client()
        page = client.get(link, follow=True)
        url = page.redirect_chain[-1][0]
        client.post(url, {"new_password1": self.NEW, "new_password2": self.NEW})
        again = Client().get(link, follow=True)
        assert again.context["validlink"] is False

    def test_an_unknown_address_gets_the_same_answer_and_no_mail(self, world, mailoutbox):
        response = Client().post("/accounts/password/reset/", {"email": "nobody@example.jp"})
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/reset/done/"
        assert mailoutbox == []


@pytest.mark.django_db
class PasswordChangeTests:
    NEW = "quiet-lanterns-drift-77"

    def test_a_change_needs_the_old_password_and_ends_the_other_sessions(self, world):
        from madoguchi.accounts.testing import PERSONA_PASSWORD

        here, elsewhere = Client(), Client()
        login(here, world.operator)
        login(elsewhere, world.operator)
        refused = here.post(
            "/accounts/password/change/",
            {"old_password": "not-it-at-all-1", "new_password1": self.NEW, "new_password2": self.NEW},
        )
        assert refused.status_code == 200
        response = here.post(
            "/accounts/password/change/",
            {"old_password": PERSONA_PASSWORD, "new_password1": self.NEW, "new_password2": self.NEW},
        )
        assert response.status_code == 302
        assert here.get("/").status_code == 200
        assert elsewhere.get("/").status_code == 302
        world.operator.refresh_from_db()
        assert world.operator.check_password(self.NEW)
