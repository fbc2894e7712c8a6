"""The login screens in Chromium: password, then the code; first-login enrolment; axe-core on
each screen (WCAG 2.1 A/AA); no canary value in any log line (T-SEC-13)."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import totp

from madoguchi.accounts.testing import CANARY, PERSONA_PASSWORD, browser_login, totp_device
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.core.browser_testing import assert_accessible, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class LoginScreenTests:
    def test_password_then_code_through_the_real_screens(self, page, live_server, world, canary_logs):
        csp = watch_csp(page)
        totp_device(world.operator)
        page.goto(f"{live_server.url}/accounts/login/")
        assert page.title().startswith("ログイン")
        assert_accessible(page, "login", csp)
        # A mistyped name (here a resident's name typed into the wrong field) is neither logged
        # nor audited.
        page.fill("#id_username", CANARY["name"])
        page.fill("#id_password", "not-the-password-000")
        page.click("#main form button[type=submit]")
        page.wait_for_load_state()
        assert "ユーザー名またはパスワードが正しくありません" in page.content()
        assert_accessible(page, "login with an error", csp)
        page.fill("#id_username", "operator")
        page.fill("#id_password", PERSONA_PASSWORD)
        page.click("#main form button[type=submit]")
        page.wait_for_url("**/accounts/login/verify/")
        assert_accessible(page, "verify", csp)
        browser_login(page, live_server.url, world.operator)
        assert page.url.rstrip("/") == live_server.url
        assert "テスト operator" in page.content()
        assert AuditEvent.objects.filter(action=Action.LOGIN, actor_id=world.operator.pk).exists()
        failed = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
        assert failed.actor_id is None and failed.actor_username == ""
        assert csp == []

    def test_first_login_enrols_an_authenticator_from_the_qr_screen(self, page, live_server, world):
        csp = watch_csp(page)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "ward")
        page.fill("#id_password", PERSONA_PASSWORD)
        page.click("#main form button[type=submit]")
        page.wait_for_url("**/accounts/login/enrol/")
        assert page.locator("img[src^='data:image/svg+xml']").count() == 1
        assert_accessible(page, "enrol", csp)
        secret = page.inner_text("#totp-secret").strip()
        code = f"{totp(base64.b32decode(secret)):06d}"
        page.fill("#id_otp_token", code)
        page.click("#main form button[type=submit]")
        page.wait_for_load_state()
        codes = page.locator("#recovery-codes li").all_inner_texts()
        assert len(codes) == 10
        assert_accessible(page, "recovery codes", csp)
        assert csp == []
