"""Mail without personal data in any log (R-24, issue #14).

`EMAIL_BACKEND` is always `madoguchi.core.mail.EmailBackend`, a wrapper around the transport
chosen by the environment (`EMAIL_TRANSPORT` in settings, from the `EMAIL_BACKEND` variable):

- every message sent is logged as one line with the subject's length, the number of
  recipients and the result, never an address or the body;
- a transport failure is re-raised as `MailNotSent` carrying only the exception's class name
  (an SMTP error quotes the refused addresses), without the original in its traceback;
- Django's console backend is replaced by `SummaryConsoleBackend`, which prints the same
  summary instead of the whole message (the demo's console must not show `To:` or the body).

Production refuses the console, file and in-memory transports at start-up
(`UNDELIVERED_EMAIL_TRANSPORTS` in settings.py).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger("madoguchi.mail")

CONSOLE_BACKENDS = {"django.core.mail.backends.console.EmailBackend", "console"}
SUMMARY_CONSOLE = "madoguchi.core.mail.SummaryConsoleBackend"


class MailNotSent(Exception):
    """The transport refused or failed; the message names the error's class only."""


def summary(message: EmailMessage) -> str:
    recipients = len(message.recipients())
    body = len(str(message.body))
    return f"subject {len(message.subject)} chars, {recipients} recipient(s), body {body} chars"


def transport_path() -> str:
    path: str = getattr(settings, "EMAIL_TRANSPORT", "") or SUMMARY_CONSOLE
    if path in CONSOLE_BACKENDS:
        return SUMMARY_CONSOLE
    aliases = {
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
    }
    return aliases.get(path, path)


class SummaryConsoleBackend(BaseEmailBackend):
    """The demo's console mail: one summary line per message, no address, no body."""

    def __init__(self, *args: Any, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        with self._lock:
            for message in email_messages:
                self.stream.write(f"[mail not delivered: console] {summary(message)}\n")
            self.stream.flush()
        return len(email_messages)


class EmailBackend(BaseEmailBackend):
    """Delegates to the configured transport and logs each message without its addresses."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self.inner = get_connection(transport_path(), fail_silently=fail_silently, **kwargs)

    def open(self) -> bool | None:
        try:
            return self.inner.open()
        except Exception as exc:
            raise MailNotSent(type(exc).__name__) from None

    def close(self) -> None:
        try:
            self.inner.close()
        except Exception as exc:
            raise MailNotSent(type(exc).__name__) from None

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        try:
            sent = self.inner.send_messages(email_messages) or 0
        except Exception as exc:
            # `from None`: the original (SMTPRecipientsRefused lists the addresses) must not
            # follow into a logged traceback.
            logger.warning("mail failed: %s, %d message(s)", type(exc).__name__, len(email_messages))
            raise MailNotSent(type(exc).__name__) from None
        for message in email_messages:
            logger.info("mail sent: %s", summary(message))
        return int(sent)
