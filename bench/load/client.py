"""HTTP clients for the load run and the drills: a resident sending a web inquiry, a staff member
logging in with password and TOTP. Through nginx (`make cluster`), with `requests`.

A resident whose step answers 503 (the database restarting) or fails at the connection does
what the 503 page tells them: tries the same step again a moment later, with the same draft
and the same idempotency token. So `submit` returns the one receipt number, and the drills
check that the database holds exactly one case per receipt.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import requests

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_INPUT = re.compile(r'name="token" value="([^"]+)"')
RECEIPT = re.compile(r'id="receipt-number">([^<]+)<')
RETRYABLE = {502, 503, 504}


class StepFailed(RuntimeError):
    pass


@dataclass
class Outcome:
    receipt: str = ""
    retries: int = 0
    statuses: list[int] = field(default_factory=list)


def _retrying(call: Any, outcome: Outcome, *, attempts: int, pause: float) -> requests.Response:
    last: Exception | None = None
    for _ in range(attempts):
        try:
            response = call()
        except requests.RequestException as error:
            last = error
            outcome.retries += 1
            time.sleep(pause)
            continue
        outcome.statuses.append(response.status_code)
        if response.status_code in RETRYABLE:
            outcome.retries += 1
            time.sleep(pause)
            continue
        return response
    raise StepFailed(f"gave up after {attempts} attempts: {last!r}")


def inquiry_body(number: int) -> dict[str, str]:
    return {
        "guardian_name": f"試験 花子{number % 97}",
        "guardian_kana": "しけん はなこ",
        "child_name": "試験 太郎",
        "child_dob": "2020-05-03",
        "phone": "090-1234-5678",
        "email": "",
        "category": "",
        "message": f"負荷試験のお問い合わせ {number}",
        "consent": "on",
        "website": "",
    }


def submit_inquiry(
    base: str, program: str, number: int, *, host: str | None = None, attempts: int = 60, pause: float = 1.0
) -> Outcome:
    """One resident's inquiry, step by step as the browser sends it (GET the form, POST it:
    the confirmation, POST the confirmation: the receipt); retried as a person would."""
    outcome = Outcome()
    session = requests.Session()
    session.verify = False
    if host:
        session.headers["Host"] = host
    form = f"{base}/inquiry/{program}/"
    page = _retrying(lambda: session.get(form, timeout=30), outcome, attempts=attempts, pause=pause)
    csrf = CSRF_INPUT.search(page.text)
    if page.status_code != 200 or not csrf:
        raise StepFailed(f"GET form {page.status_code}")
    body = {"csrfmiddlewaretoken": csrf.group(1), **inquiry_body(number)}
    # The answer is the confirmation (its CSRF and idempotency tokens). Posting again after a
    # lost answer stores the same draft under a new token: the page finally read carries it.
    confirm = _retrying(
        lambda: session.post(form, data=body, allow_redirects=False, timeout=30),
        outcome,
        attempts=attempts,
        pause=pause,
    )
    token, csrf = TOKEN_INPUT.search(confirm.text), CSRF_INPUT.search(confirm.text)
    if confirm.status_code != 200 or not token or not csrf:
        raise StepFailed(f"POST form (the confirmation) {confirm.status_code}")
    final = {"csrfmiddlewaretoken": csrf.group(1), "token": token.group(1)}
    done = _retrying(
        lambda: session.post(f"{form}send/", data=final, timeout=30), outcome, attempts=attempts, pause=pause
    )
    receipt = RECEIPT.search(done.text)
    if done.status_code != 200 or not receipt:
        raise StepFailed(f"POST send {done.status_code}")
    outcome.receipt = receipt.group(1)
    return outcome


def totp_now(secret_base32: str, *, at: float | None = None) -> str:
    """The current 6-digit code of a TOTP secret (RFC 6238, 30 s, SHA-1), as django-otp checks it."""
    import base64
    import hashlib
    import hmac
    import struct

    key = base64.b32decode(secret_base32.upper() + "=" * (-len(secret_base32) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def csrf_of(text: str) -> str:
    match = CSRF_INPUT.search(text)
    if not match:
        raise StepFailed("no CSRF token on the page")
    return match.group(1)


def staff_login(session: Any, base: str, username: str, password: str, totp_secret: str) -> None:
    """Password, then the TOTP code: the two steps of /accounts/login/ (a requests.Session or
    locust's HttpSession, whose `name=` groups the statistics)."""
    extra: dict[str, Any] = {"name": "login"} if hasattr(session, "request_name") else {}
    page = session.get(f"{base}/accounts/login/", **extra)
    step = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": csrf_of(page.text), "username": username, "password": password},
        allow_redirects=False,
        **extra,
    )
    if step.status_code != 302:
        raise StepFailed(f"password step {step.status_code}")
    verify_url = urllib.parse.urljoin(f"{base}/", step.headers["Location"])
    page = session.get(verify_url, **extra)
    # A code is accepted once: wait for a fresh window if this user just used the current one.
    done = session.post(
        verify_url,
        data={"csrfmiddlewaretoken": csrf_of(page.text), "otp_token": totp_now(totp_secret)},
        allow_redirects=False,
        **extra,
    )
    if done.status_code != 302:
        raise StepFailed(f"TOTP step {done.status_code}")
