"""Issue #14's findings: mail without addresses, the headers on every response, no personal
search term in a URL, 503 when the database is down."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from madoguchi.accounts.testing import CANARY, find_canary, login
from madoguchi.accounts.tests.test_web_surface import production_env, run_python
from madoguchi.core import mail as core_mail

REPO = Path(__file__).resolve().parents[3]
REFUSED_ADDRESS = "203.0.113.77"


# --- 1. mail --------------------------------------------------------------------------------


@pytest.mark.slow
class ProductionMailAndCacheTests:
    @pytest.mark.parametrize(
        "transport",
        [
            "console",
            "django.core.mail.backends.console.EmailBackend",
            "django.core.mail.backends.filebased.EmailBackend",
            "file",
            "locmem",
        ],
    )
    def test_production_refuses_console_and_file_mail(self, tmp_path, transport):
        result = run_python(
            "import django; django.setup()", production_env(tmp_path, EMAIL_BACKEND=transport)
        )
        assert result.returncode != 0
        assert "EMAIL_BACKEND" in result.stderr

    def test_production_refuses_to_start_without_a_shared_cache(self, tmp_path):
        env = production_env(tmp_path)
        env.pop("REDIS_URL")
        result = run_python("import django; django.setup()", env)
        assert result.returncode != 0
        assert "REDIS_URL" in result.stderr

    def test_production_starts_with_smtp_and_redis(self, tmp_path):
        result = run_python(
            "import django; django.setup(); from django.conf import settings as s; print(s.EMAIL_TRANSPORT)",
            production_env(tmp_path),
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("smtp")


def canary_message() -> mail.EmailMessage:
    return mail.EmailMessage(
        subject="受付のお知らせ",
        body=f"{CANARY['name']} 様 {CANARY['phone']} {CANARY['address']}",
        from_email="madoguchi@localhost",
        to=[CANARY["email"]],
    )


class MailTests:
    @override_settings(
        EMAIL_BACKEND="madoguchi.core.mail.EmailBackend",
        EMAIL_TRANSPORT="django.core.mail.backends.console.EmailBackend",
    )
    def test_the_console_prints_neither_address_nor_body(self, canary_logs, capsys):
        assert mail.get_connection().send_messages([canary_message()]) == 1
        out = capsys.readouterr()
        printed = out.out + out.err
        assert "1 recipient(s)" in printed
        assert find_canary(printed) == [], printed
        assert "To:" not in printed
        assert find_canary("\n".join(canary_logs.lines)) == []
        assert any("mail sent" in line for line in canary_logs.lines)

    @override_settings(EMAIL_BACKEND="madoguchi.core.mail.EmailBackend", EMAIL_TRANSPORT="locmem")
    def test_the_wrapper_delivers_and_logs_without_addresses(self, canary_logs):
        mail.outbox = []
        assert mail.get_connection().send_messages([canary_message()]) == 1
        assert mail.outbox[0].to == [CANARY["email"]]
        assert find_canary("\n".join(canary_logs.lines)) == []
        assert any("mail sent: subject" in line for line in canary_logs.lines)

    def test_a_refused_recipient_is_reported_without_the_address(self, canary_logs, monkeypatch):
        import smtplib

        class Refusing(core_mail.SummaryConsoleBackend):
            def send_messages(self, email_messages: Any) -> int:
                raise smtplib.SMTPRecipientsRefused({CANARY["email"]: (550, b"no such user")})

        monkeypatch.setattr(core_mail, "transport_path", lambda: "x")
        monkeypatch.setattr(core_mail, "get_connection", lambda *a, **k: Refusing(stream=io.StringIO()))
        backend = core_mail.EmailBackend()
        with pytest.raises(core_mail.MailNotSent) as caught:
            backend.send_messages([canary_message()])
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
        assert find_canary(str(caught.value)) == []
        assert find_canary("\n".join(canary_logs.lines)) == []

    def test_the_default_settings_use_the_wrapper(self, tmp_path):
        # pytest-django swaps in locmem for the tests; the settings module itself names the wrapper.
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from django.conf import settings; "
                "print(settings.EMAIL_BACKEND, settings.EMAIL_TRANSPORT)",
            ],
            env={**production_env(tmp_path), "MADOGUCHI_ENV": "development", "EMAIL_BACKEND": ""},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.split() == ["madoguchi.core.mail.EmailBackend", "console"], result.stderr


# --- 7. collectstatic --------------------------------------------------------------------


@pytest.mark.slow
class CollectstaticTests:
    def test_check_fails_in_production_until_collectstatic_ran(self, tmp_path):
        env = production_env(tmp_path, collected=False)
        result = subprocess.run(
            [sys.executable, "-m", "madoguchi", "check"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0
        assert "madoguchi.E001" in result.stderr and "collectstatic" in result.stderr

    def test_the_wsgi_application_refuses_to_start(self, tmp_path):
        result = run_python("import madoguchi.wsgi", production_env(tmp_path, collected=False))
        assert result.returncode != 0
        assert "collectstatic" in result.stderr and "Traceback" in result.stderr

    def test_it_starts_once_collected(self, tmp_path):
        result = run_python("import madoguchi.wsgi", production_env(tmp_path))
        assert result.returncode == 0, result.stderr


# --- 2. headers on every response -----------------------------------------------------------


def sample_path(pattern: Any) -> str:
    """A concrete path for a route, with made-up values for its converters."""
    route = str(pattern.pattern)
    converters = getattr(pattern.pattern, "converters", {})
    for name, converter in converters.items():
        kind = type(converter).__name__
        value = {
            "IntConverter": "999999",
            "UUIDConverter": str(uuid.UUID(int=1)),
            "SlugConverter": "test-program",
        }.get(kind, "x")
        for text in (
            f"<{name}>",
            f"<int:{name}>",
            f"<slug:{name}>",
            f"<uuid:{name}>",
            f"<str:{name}>",
            f"<path:{name}>",
        ):
            route = route.replace(text, value)
    return route.lstrip("^").rstrip("$")


def every_path() -> list[str]:
    paths: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + sample_path(pattern))
            elif isinstance(pattern, URLPattern):
                paths.append("/" + prefix + sample_path(pattern))

    walk(get_resolver().url_patterns, "")
    return [*sorted(set(paths)), "/no-such-page/", "/static/css/madoguchi.css"]


def check_headers(response: Any, path: str) -> None:
    where = (path, response.status_code)
    csp = response.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, where
    assert response.get("X-Frame-Options") == "DENY", where
    assert "camera=()" in response.get("Permissions-Policy", ""), where
    assert "microphone=()" in response.get("Permissions-Policy", ""), where
    assert response.get("X-Content-Type-Options") == "nosniff", where
    if not path.startswith("/static/"):
        assert "no-store" in response.get("Cache-Control", ""), where


@pytest.mark.django_db
class HeadersOnEveryResponseTests:
    def test_the_urlconf_has_the_known_apps(self):
        paths = every_path()
        assert len(paths) > 40
        assert "/accounts/login/" in paths and "/inquiry/" in paths

    @pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
    @pytest.mark.parametrize("address", ["127.0.0.1", REFUSED_ADDRESS], ids=["allowed", "refused"])
    def test_every_route_answers_with_the_headers(self, world, logged_in, address):
        client = Client(raise_request_exception=False, REMOTE_ADDR=address)
        if logged_in:
            login(client, world.ward_manager)
        statuses: set[int] = set()
        for path in every_path():
            for method in ("get", "post"):
                response = getattr(client, method)(path)
                statuses.add(response.status_code)
                check_headers(response, path)
        if address == REFUSED_ADDRESS:
            assert 403 in statuses  # the gate's refusal page was among the answers
        elif not logged_in:
            assert 302 in statuses  # the login redirects
        else:
            assert 200 in statuses

    def test_session_expired_redirect_has_the_headers(self, world, settings):
        client = Client()
        login(client, world.operator)
        settings.SESSION_IDLE_TIMEOUT = -1
        response = client.get("/cases/")
        assert response.status_code == 302
        check_headers(response, "/cases/")

    def test_the_csrf_refusal_and_the_server_error_have_the_headers(self, world, monkeypatch):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/accounts/login/", {"username": "x", "password": "y"})
        assert response.status_code == 403
        check_headers(response, "/accounts/login/")

        from madoguchi.core import views
        from madoguchi.dashboards import views as dashboard_views

        # The home page is the dashboard now (core.home hands over to it).
        monkeypatch.setattr(views, "render", lambda *a, **k: 1 / 0)
        monkeypatch.setattr(dashboard_views, "render", lambda *a, **k: 1 / 0)
        client = Client(raise_request_exception=False)
        login(client, world.operator)
        response = client.get("/")
        assert response.status_code == 500
        check_headers(response, "/")


# --- 3. personal search terms in URLs -------------------------------------------------------


@pytest.mark.django_db
class QueryStringTests:
    @pytest.mark.parametrize(
        "path",
        [
            f"/cases/?text={CANARY['name']}",
            f"/cases/?status=new&text={CANARY['name']}",
            f"/cases/queue/new/?text={CANARY['name']}",
            f"/audit/events?q={CANARY['name']}",
            f"/identify/?phone={CANARY['phone']}",
            f"/cases/?Name={CANARY['name']}",
        ],
    )
    def test_a_personal_term_in_the_query_string_is_refused(self, world, path, canary_logs):
        client = Client()
        login(client, world.operator)
        response = client.get(path)
        assert response.status_code == 400
        body = response.content.decode()
        assert "URLに検索語を含めることはできません" in body
        assert find_canary(body) == []
        assert find_canary("\n".join(canary_logs.lines)) == []

    def test_the_case_list_does_not_filter_by_a_get_text(self, world):
        from madoguchi.audit.models import AuditEvent

        client = Client()
        login(client, world.operator)
        before = AuditEvent.objects.filter(object_type="case_list").count()
        assert client.get("/cases/?text=山田").status_code == 400
        assert AuditEvent.objects.filter(object_type="case_list").count() == before

    def test_the_search_still_works_by_post(self, world):
        client = Client()
        login(client, world.operator)
        response = client.post("/cases/", {"text": "山田"})
        assert response.status_code == 302
        assert "山田" not in response["Location"] and "?search=" in response["Location"]
        assert client.get(response["Location"]).status_code == 200

    def test_other_filters_still_travel_in_the_url(self, world):
        client = Client()
        login(client, world.operator)
        assert client.get("/cases/?status=new").status_code == 200


# --- 6. the database down -------------------------------------------------------------------


@pytest.mark.django_db
class DatabaseDownTests:
    @pytest.mark.parametrize("path", ["/", "/cases/", "/accounts/login/"])
    def test_staff_pages_answer_503_with_retry_after(self, world, monkeypatch, path):
        from madoguchi.accounts import allowlist

        client = Client(raise_request_exception=False)
        login(client, world.operator)

        def down(*args: Any, **kwargs: Any) -> bool:
            raise OperationalError("could not connect to server")

        monkeypatch.setattr(allowlist, "is_allowed", down)
        response = client.get(path)
        assert response.status_code == 503
        assert int(response["Retry-After"]) > 0
        body = response.content.decode()
        assert 'lang="ja"' in body and "ただいま処理できません" in body
        assert response["X-Request-ID"] in body
        assert "could not connect" not in body
        check_headers(response, path)

    def test_a_view_failing_on_the_database_answers_503(self, world, monkeypatch):
        from madoguchi.cases import selectors

        def down(*args: Any, **kwargs: Any) -> Any:
            raise OperationalError("database is locked")

        monkeypatch.setattr(selectors, "case_page", down)
        client = Client(raise_request_exception=False)
        login(client, world.operator)
        response = client.get("/cases/")
        assert response.status_code == 503 and response["Retry-After"]

    def test_other_errors_stay_500(self, world, monkeypatch):
        from madoguchi.cases import selectors

        monkeypatch.setattr(selectors, "case_page", lambda *a, **k: 1 / 0)
        client = Client(raise_request_exception=False)
        login(client, world.operator)
        response = client.get("/cases/")
        assert response.status_code == 500 and not response.has_header("Retry-After")


# --- logged database errors -----------------------------------------------------------------


def test_a_logged_database_error_withholds_its_message():
    import logging

    from django.db import IntegrityError

    from madoguchi.core.logging import DatabaseErrorFilter, EscapingFormatter

    try:
        try:
            raise ValueError(f"Failing row contains (1, {CANARY['name']}, {CANARY['phone']})")
        except ValueError as cause:
            raise IntegrityError(f"Failing row contains (1, {CANARY['name']})") from cause
    except IntegrityError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: /cases/", (), sys.exc_info()
        )
    assert DatabaseErrorFilter().filter(record)
    text = EscapingFormatter("%(message)s").format(record)
    assert "IntegrityError" in text and "message withheld" in text and "Traceback" in text
    assert find_canary(text) == []


def test_other_errors_keep_their_message():
    import logging

    from madoguchi.core.logging import DatabaseErrorFilter, EscapingFormatter

    try:
        raise KeyError("missing-key")
    except KeyError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    assert DatabaseErrorFilter().filter(record)
    assert "missing-key" in EscapingFormatter("%(message)s").format(record)


def test_a_logged_time_carries_its_utc_offset():
    """A gunicorn master (UTC) and its workers (JST, set by Django) share one log file."""
    import datetime
    import logging

    from madoguchi.core.logging import EscapingFormatter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    stamp = EscapingFormatter("%(asctime)s %(message)s").format(record).split(" ")[0]
    parsed = datetime.datetime.fromisoformat(stamp)
    assert parsed.utcoffset() is not None
    assert abs(parsed.timestamp() - record.created) < 0.001


@pytest.mark.django_db
class CachedHeadersTests:
    """The CSP and no-store headers written without django-csp's and Django's per-response
    rebuilding (madoguchi.core.middleware): the same headers, following the settings."""

    def test_the_csp_header_is_the_one_django_csp_builds_and_follows_the_settings(self, world):
        from csp.utils import build_policy

        client = Client()
        page = client.get(f"/inquiry/{world.program.code}/")
        assert page["Content-Security-Policy"] == build_policy()
        assert "Content-Security-Policy-Report-Only" not in page
        report_only = {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report/"}}
        with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=report_only):
            page = client.get(f"/inquiry/{world.program.code}/")
            assert page["Content-Security-Policy-Report-Only"] == build_policy(report_only=True)
            assert "report-uri /csp-report/" in page["Content-Security-Policy-Report-Only"]
        assert "Content-Security-Policy-Report-Only" not in client.get(f"/inquiry/{world.program.code}/")

    def test_a_per_view_policy_still_goes_through_django_csp(self, rf):
        from csp.decorators import csp_update
        from django.http import HttpResponse

        from madoguchi.core.middleware import CSPMiddleware

        view = csp_update({"img-src": ["https://example.jp"]})(lambda request: HttpResponse("ok"))
        request = rf.get("/x/")
        response = CSPMiddleware(view)(request)
        assert "img-src 'self' data: https://example.jp" in response["Content-Security-Policy"]

    def test_every_page_but_static_files_says_expired_and_no_store(self, world):
        response = Client().get(f"/inquiry/{world.program.code}/")
        assert response["Cache-Control"] == "no-store, no-cache, must-revalidate, private, max-age=0"
        assert response["Expires"].endswith(" GMT") and "ETag" not in response
