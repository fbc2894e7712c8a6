"""The demo as a person with an authenticator app uses it: printed password and TOTP secret."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp

from madoguchi.demo.services import seed_demo


@pytest.mark.django_db
class DemoLoginTests:
    def test_a_demo_user_logs_in_with_the_printed_password_and_secret(self):
        result = seed_demo()
        operator = next(login for login in result.logins if login.username == "operator")
        client = Client()
        step = client.post("/accounts/login/", {"username": "operator", "password": operator.password})
        assert step["Location"] == "/accounts/login/verify/"
        code = f"{totp(base64.b32decode(operator.totp_secret)):06d}"
        assert client.post("/accounts/login/verify/", {"otp_token": code}).status_code == 302
        assert client.get("/").status_code == 200

    def test_the_demo_allowlist_refuses_127_0_0_2(self):
        seed_demo()
        assert Client(REMOTE_ADDR="127.0.0.1").get("/accounts/login/").status_code == 200
        assert Client(REMOTE_ADDR="::1").get("/accounts/login/").status_code == 200
        assert Client(REMOTE_ADDR="127.0.0.2").get("/accounts/login/").status_code == 403

    def test_the_secret_is_printed_beside_the_password_and_kept_across_runs(self):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        first = {login.username: login.totp_secret for login in seed_demo().logins}
        assert first["manager"] in out.getvalue()
        assert {login.username: login.totp_secret for login in seed_demo().logins} == first
