"""Shared test set-up: fast hashing, the named personas, and the browser.

Personas (style guide): a contractor operator, a contractor supervisor, a ward officer, a ward
manager, an auditor, an outsider (another ward and contractor), and a user of another program.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings

from madoguchi.accounts.models import Organisation, Role, User
from madoguchi.accounts.testing import PERSONA_PASSWORD, CanaryLog, allow_loopback, capture_logs
from madoguchi.programs.models import Program

__all__ = ["PERSONA_PASSWORD"]


def pytest_configure(config: pytest.Config) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    ward: Organisation
    contractor: Organisation
    other_ward: Organisation
    other_contractor: Organisation
    program: Program
    other_program: Program
    operator: User
    supervisor: User
    ward_staff: User
    ward_manager: User
    auditor: User
    sysadmin: User
    outsider: User
    other_program_operator: User


def make_user(username: str, role: Role, organisation: Organisation, *programs: Program) -> User:
    user = User.objects.create_user(
        username=username,
        password=PERSONA_PASSWORD,
        role=role,
        organisation=organisation,
        display_name=f"テスト {username}",
    )
    for program in programs:
        program.members.add(user)
    return user


def build_world() -> World:
    ward = Organisation.objects.create(
        code="ward-a", name="テスト区 子ども家庭課", kind=Organisation.Kind.WARD
    )
    contractor = Organisation.objects.create(
        code="contractor-a", name="テスト委託先", kind=Organisation.Kind.CONTRACTOR
    )
    other_ward = Organisation.objects.create(code="ward-b", name="別の区", kind=Organisation.Kind.WARD)
    other_contractor = Organisation.objects.create(
        code="contractor-b", name="別の委託先", kind=Organisation.Kind.CONTRACTOR
    )
    today = datetime.date.today()
    program = Program.objects.create(
        code="test-program",
        name="テスト支援事業",
        ward=ward,
        contractor=contractor,
        recording_start=today - datetime.timedelta(days=30),
        recording_end=today + datetime.timedelta(days=60),
        child_dob_from=datetime.date(2019, 4, 2),
        child_dob_to=datetime.date(2022, 4, 1),
        receipt_prefix="KJ",
    )
    # The test client and live_server come from loopback: on every organisation's allowlist.
    for organisation in (ward, contractor, other_ward, other_contractor):
        allow_loopback(organisation)
    other_program = Program.objects.create(
        code="other-program",
        name="別の事業",
        ward=other_ward,
        contractor=other_contractor,
        recording_start=today - datetime.timedelta(days=30),
        recording_end=today + datetime.timedelta(days=60),
        receipt_prefix="OT",
    )
    return World(
        ward=ward,
        contractor=contractor,
        other_ward=other_ward,
        other_contractor=other_contractor,
        program=program,
        other_program=other_program,
        operator=make_user("operator", Role.OPERATOR, contractor, program),
        supervisor=make_user("supervisor", Role.SUPERVISOR, contractor, program),
        ward_staff=make_user("ward", Role.WARD_STAFF, ward, program),
        ward_manager=make_user("manager", Role.WARD_MANAGER, ward, program),
        auditor=make_user("auditor", Role.AUDITOR, ward, program),
        sysadmin=make_user("sysadmin", Role.SYSADMIN, contractor),
        outsider=make_user("outsider", Role.OPERATOR, other_contractor, other_program),
        other_program_operator=make_user("other-op", Role.OPERATOR, other_contractor, other_program),
    )


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture(autouse=True)
def _japanese_first() -> Iterator[None]:
    """Each test starts in the default language: a test that switched to English (a response
    under the language cookie) must not leave it active for the next one."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty per-process cache (allowlists, login throttles); on a
    shared cache such as Redis only the allowlist is dropped."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    from madoguchi.accounts import allowlist

    cache = caches["default"]
    if isinstance(cache, LocMemCache):
        cache.clear()
    cache.delete(allowlist.CACHE_KEY)


@pytest.fixture
def canary_logs() -> Iterator[CanaryLog]:
    """Captures all log output of the test; fails it if a canary personal value was logged."""
    with capture_logs() as handler:
        yield handler


# --- the browser -------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests (apt-get install chromium)")
        pytest.skip(f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls our tests make
    # around it are synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    if errors:
        pytest.fail(f"JavaScript errors on the page: {errors}")
