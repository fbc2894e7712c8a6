"""Test helpers other apps use: log a persona in (both factors), and the canary check (T-SEC-13).

- `login(client, user)`: the Django test client, logged in as `user` with the second factor
  satisfied (the session is completed by the same code as the real login view).
- `browser_login(page, live_server_url, user)`: drives the real login screens in Playwright
  (user name, `PERSONA_PASSWORD`, then the TOTP code of the user's device).
- `allow_loopback(organisation)`: puts 127.0.0.1 and ::1 on an organisation's allowlist (the
  `world` fixture does it for its four organisations).
- `CANARY`, `canary_forms()`, `CanaryLog`: synthetic personal values and a log capture that
  fails when any of them (or an encoded form) reaches a log line.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts import allowlist
from madoguchi.accounts.models import AllowedNetwork, Organisation, User
from madoguchi.accounts.sessions import complete_login, session_store

PERSONA_PASSWORD = "correct-horse-battery-staple-42"  # noqa: S105 - test personas only
LOOPBACK = ("127.0.0.1/32", "::1/128")


def allow_loopback(organisation: Organisation) -> None:
    for network in LOOPBACK:
        AllowedNetwork.objects.get_or_create(
            organisation=organisation, network=network, defaults={"note": "テスト用ループバック"}
        )
    allowlist.invalidate()


def totp_device(user: User) -> TOTPDevice:
    """The user's confirmed TOTP device, created when they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return device


def totp_code(user: User, *, fresh: bool = True) -> str:
    """The current code of the user's device.

    `fresh` forgets the last accepted time step, so a test may log the same persona in twice
    within one 30-second window; replay protection itself is tested with `fresh=False`.
    """
    device = totp_device(user)
    if fresh and device.last_t != -1:
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def login(client: Any, user: User) -> None:
    """Log the test client in as `user`, both factors satisfied."""
    device = totp_device(user)
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    request.client_ip = "127.0.0.1"  # type: ignore[attr-defined]
    request.session = session_store()()
    request.user = AnonymousUser()
    complete_login(request, user, device)
    name = settings.SESSION_COOKIE_NAME
    client.cookies[name] = request.session.session_key
    client.cookies[name].update(
        {"max-age": None, "path": "/", "domain": settings.SESSION_COOKIE_DOMAIN, "expires": None}
    )


def browser_login(page: Any, live_server_url: str, user: User, *, password: str = PERSONA_PASSWORD) -> None:
    """Log in through the real screens: password step, then the TOTP code."""
    totp_device(user)  # an enrolled persona: the second step asks for its code
    page.goto(f"{live_server_url}{reverse('accounts:login')}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("#main form button[type=submit]")
    page.wait_for_load_state()
    if page.locator("#id_otp_token").count():
        page.fill("#id_otp_token", totp_code(user))
        page.click("#main form button[type=submit]")
        page.wait_for_load_state()


# --- the canary (T-SEC-13) -----------------------------------------------------------------

CANARY: dict[str, str] = {
    "name": "検証𠮷太郎",
    "kana": "ケンショウヨシタロウ",
    "phone": "090-0000-1234",
    "email": "canary@example.jp",
    "address": "ｶﾅﾘｱ町１－２－３",
    "dob": "2020-02-29",
}


def canary_forms() -> list[str]:
    """Every spelling of the canary values that must never appear in a log."""
    values = [*CANARY.values(), "09000001234", "𠮷太郎", "ｶﾅﾘｱ町", "カナリア町"]
    forms: set[str] = set()
    for value in values:
        forms.add(value)
        forms.add(urllib.parse.quote(value))
        forms.add(urllib.parse.quote_plus(value))
        forms.add(json.dumps(value)[1:-1])  # \u escapes
        forms.add(value.encode("unicode_escape").decode("ascii"))  # \U0002 escapes
    return sorted(form for form in forms if form)


def find_canary(text: str) -> list[str]:
    lowered = text.lower()
    return [form for form in canary_forms() if form.lower() in lowered]


class CanaryLog(logging.Handler):
    """Collects every log record (formatted as the real handler would) during a test."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        from madoguchi.core.logging import EscapingFormatter

        self.setFormatter(EscapingFormatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot format must not hide the others
            self.lines.append(repr(record.__dict__))
        self.lines.append(repr(getattr(record, "args", "")))

    def leaks(self) -> list[str]:
        return find_canary("\n".join(self.lines))

    def assert_clean(self) -> None:
        leaks = self.leaks()
        assert not leaks, f"canary personal values in the logs: {leaks}"


@contextmanager
def capture_logs() -> Iterator[CanaryLog]:
    """Capture all logging (root at DEBUG) for the block, then fail if a canary value leaked."""
    handler = CanaryLog()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    handler.assert_clean()
