"""The web surface (R-13, R-21, R-32..R-35; T-SEC-06, 07, 15, 16, 18..22, 24)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.test import Client, override_settings

from madoguchi.accounts.testing import PERSONA_PASSWORD, login, totp_code, totp_device

REPO = Path(__file__).resolve().parents[3]


# Variables of this process that must not leak into the production check (the browser fixture
# sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright).
UNSAFE_IN_PRODUCTION = {
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def production_env(tmp_path: Path, *, collected: bool = True, **extra: str) -> dict[str, str]:
    if collected:
        # What `madoguchi collectstatic` leaves; production refuses to start without it (#14).
        (tmp_path / "static").mkdir(parents=True, exist_ok=True)
        (tmp_path / "static" / "staticfiles.json").write_text('{"paths": {}, "version": "1.1", "hash": ""}')
    env = {key: value for key, value in os.environ.items() if key not in UNSAFE_IN_PRODUCTION}
    env.update(
        MADOGUCHI_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="madoguchi.example.jp",
        CSRF_TRUSTED_ORIGINS="https://madoguchi.example.jp",
        MADOGUCHI_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="madoguchi.settings",
        # Production insists on a shared cache and a mail transport that delivers (#14).
        REDIS_URL="redis://127.0.0.1:6379/15",
        EMAIL_BACKEND="smtp",
    )
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
class ProductionSettingsTests:
    def test_check_deploy_passes_with_production_settings(self, tmp_path):
        result = subprocess.run(
            [sys.executable, "-m", "madoguchi", "check", "--deploy", "--fail-level", "WARNING"],
            env=production_env(tmp_path),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    @pytest.mark.parametrize(
        "override",
        [
            {"SECRET_KEY": ""},
            {"SECRET_KEY": "development-only-secret-key-do-not-use-in-production-0123456789"},
            {"SECRET_KEY": "short"},
            {"ALLOWED_HOSTS": "*"},
            {"ALLOWED_HOSTS": ".example.jp"},
            {"DEBUG": "true"},
        ],
    )
    def test_production_refuses_to_start_with_unsafe_settings(self, tmp_path, override):
        env = production_env(tmp_path)
        env.update(override)
        if override.get("SECRET_KEY") == "":
            env.pop("SECRET_KEY")
        result = run_python("import django; django.setup()", env)
        assert result.returncode != 0
        assert "ConfigError" in result.stderr

    def test_production_sends_hsts_and_uses_host_prefixed_secure_cookies(self, tmp_path):
        result = run_python(
            """
            import json, django
            django.setup()
            from django.conf import settings
            from django.test import Client
            response = Client().get("/healthz", secure=True, HTTP_HOST="madoguchi.example.jp")
            print(json.dumps({
                "hsts": response.get("Strict-Transport-Security", ""),
                "session_name": settings.SESSION_COOKIE_NAME,
                "csrf_name": settings.CSRF_COOKIE_NAME,
                "session_secure": settings.SESSION_COOKIE_SECURE,
                "csrf_secure": settings.CSRF_COOKIE_SECURE,
                "session_domain": settings.SESSION_COOKIE_DOMAIN,
                "csrf_domain": settings.CSRF_COOKIE_DOMAIN,
                "ssl_redirect": settings.SECURE_SSL_REDIRECT,
                "plain_status": Client().get("/healthz", HTTP_HOST="madoguchi.example.jp").status_code,
            }))
            """,
            production_env(tmp_path),
        )
        assert result.returncode == 0, result.stderr
        facts = json.loads(result.stdout.strip().splitlines()[-1])
        max_age = int(facts["hsts"].split("max-age=")[1].split(";")[0])
        assert max_age >= 31536000
        assert "includeSubDomains" in facts["hsts"]
        assert facts["session_name"].startswith("__Host-")
        assert facts["csrf_name"].startswith("__Host-")
        assert facts["session_secure"] and facts["csrf_secure"]
        assert facts["session_domain"] is None and facts["csrf_domain"] is None
        assert facts["ssl_redirect"] is True
        assert facts["plain_status"] == 301


@pytest.mark.django_db
class HeaderTests:
    def test_every_staff_page_sends_the_security_headers(self, client, world):
        login(client, world.ward_manager)
        for path in ["/accounts/login/", "/", "/accounts/users/", "/accounts/allowlist/"]:
            response = Client().get(path) if path == "/accounts/login/" else client.get(path)
            assert response.status_code == 200, path
            csp = response["Content-Security-Policy"]
            for directive in [
                "default-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
            ]:
                assert directive in csp, (path, directive)
            assert "unsafe-inline" not in csp
            assert response["X-Frame-Options"] == "DENY"
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Referrer-Policy"] == "same-origin"
            assert "no-store" in response["Cache-Control"]
            assert not response.has_header("ETag")
            assert not response.has_header("Last-Modified")

    def test_the_login_page_has_no_inline_script_or_style(self, client, world):
        body = client.get("/accounts/login/").content.decode()
        assert "<script>" not in body and "<script " not in body.replace('<script src="', "")
        assert "<style" not in body
        assert ' style="' not in body
        assert " onclick=" not in body and " onload=" not in body

    def test_cookie_flags_with_production_names(self, world):
        with override_settings(
            SESSION_COOKIE_NAME="__Host-sessionid",
            CSRF_COOKIE_NAME="__Host-csrftoken",
            SESSION_COOKIE_SECURE=True,
            CSRF_COOKIE_SECURE=True,
        ):
            client = Client()
            totp_device(world.operator)
            client.get("/accounts/login/", secure=True)
            client.post(
                "/accounts/login/", {"username": "operator", "password": PERSONA_PASSWORD}, secure=True
            )
            response = client.post(
                "/accounts/login/verify/", {"otp_token": totp_code(world.operator)}, secure=True
            )
            cookie = response.cookies["__Host-sessionid"]
            assert cookie["secure"] and cookie["httponly"]
            assert cookie["samesite"] == "Lax"
            assert cookie["path"] == "/"
            assert not cookie["domain"]
            csrf = client.cookies["__Host-csrftoken"]
            assert csrf["secure"] and csrf["samesite"] == "Lax" and not csrf["domain"]


@pytest.mark.django_db
class SurfaceTests:
    @pytest.mark.parametrize(
        "path", ["/admin/", "/admin/login/", "/__debug__/", "/static/../settings.py", "/.git/config", "/.env"]
    )
    def test_nothing_is_served_at_well_known_attack_paths(self, client, world, path):
        login(client, world.sysadmin)
        response = client.get(path)
        assert response.status_code == 404
        body = response.content.decode()
        assert "SECRET_KEY" not in body and "Traceback" not in body

    def test_error_pages_are_japanese_with_a_request_id_only(self, client, world):
        login(client, world.operator)
        response = client.get("/no-such-page/")
        body = response.content.decode()
        assert response.status_code == 404
        assert 'lang="ja"' in body
        assert response["X-Request-ID"] in body
        assert "/no-such-page/" not in body

    def test_a_foreign_host_header_is_refused(self, world):
        assert Client().get("/accounts/login/", HTTP_HOST="evil.example").status_code == 400

    def test_the_reset_mail_names_the_configured_site_whatever_the_host_header(
        self, world, mailoutbox, settings
    ):
        settings.SITE_URL = "https://madoguchi.example.jp"
        settings.ALLOWED_HOSTS = ["testserver", "attacker.example"]
        world.operator.email = "operator@example.jp"
        world.operator.save()
        Client().post(
            "/accounts/password/reset/", {"email": "operator@example.jp"}, HTTP_HOST="attacker.example"
        )
        assert len(mailoutbox) == 1
        assert "https://madoguchi.example.jp/accounts/reset/" in mailoutbox[0].body
        assert "attacker.example" not in mailoutbox[0].body


@pytest.mark.django_db
class CsrfTests:
    def test_a_state_change_without_the_token_is_refused(self, world):
        client = Client(enforce_csrf_checks=True)
        login(client, world.ward_manager)
        response = client.post(f"/accounts/users/{world.operator.pk}/disable/")
        assert response.status_code == 403
        world.operator.refresh_from_db()
        assert world.operator.is_active
        assert (
            "request-id" in response.content.decode() or response["X-Request-ID"] in response.content.decode()
        )

    def test_another_sessions_token_is_refused(self, world):
        other = Client(enforce_csrf_checks=True)
        other.get("/accounts/login/")
        foreign_token = other.cookies["csrftoken"].value
        client = Client(enforce_csrf_checks=True)
        login(client, world.ward_manager)
        client.get("/accounts/users/")
        response = client.post(
            f"/accounts/users/{world.operator.pk}/disable/", {"csrfmiddlewaretoken": foreign_token}
        )
        assert response.status_code == 403
        world.operator.refresh_from_db()
        assert world.operator.is_active

    def test_a_cross_site_post_is_refused(self, world):
        client = Client(enforce_csrf_checks=True)
        login(client, world.ward_manager)
        client.get("/accounts/users/")
        token = client.cookies["csrftoken"].value
        response = client.post(
            f"/accounts/users/{world.operator.pk}/disable/",
            {"csrfmiddlewaretoken": token},
            secure=True,
            HTTP_ORIGIN="https://evil.example",
            HTTP_REFERER="https://evil.example/page",
        )
        assert response.status_code == 403
        world.operator.refresh_from_db()
        assert world.operator.is_active

    def test_the_same_post_with_the_token_succeeds(self, world):
        client = Client(enforce_csrf_checks=True)
        login(client, world.ward_manager)
        client.get("/accounts/users/")
        token = client.cookies["csrftoken"].value
        response = client.post(
            f"/accounts/users/{world.operator.pk}/disable/", {"csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302
        world.operator.refresh_from_db()
        assert not world.operator.is_active


@pytest.mark.django_db
class OpenRedirectTests:
    @pytest.mark.parametrize(
        "target",
        [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "http://testserver@evil.example/",
            "https:evil.example",
            " //evil.example",
        ],
    )
    def test_next_never_leaves_the_site(self, world, target):
        client = Client()
        totp_device(world.operator)
        client.post(
            "/accounts/login/", {"username": "operator", "password": PERSONA_PASSWORD, "next": target}
        )
        response = client.post("/accounts/login/verify/", {"otp_token": totp_code(world.operator)})
        assert response.status_code == 302
        assert response["Location"] == "/"

    def test_a_local_next_is_followed(self, world):
        client = Client()
        totp_device(world.operator)
        client.post(
            "/accounts/login/",
            {"username": "operator", "password": PERSONA_PASSWORD, "next": "/accounts/users/"},
        )
        response = client.post("/accounts/login/verify/", {"otp_token": totp_code(world.operator)})
        assert response["Location"] == "/accounts/users/"
