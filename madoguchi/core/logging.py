"""Logging that cannot be forged or leak (R-24)."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

from madoguchi.core.request_context import current_request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


def escape_controls(text: str) -> str:
    """Make CR, LF and other control characters visible so one message stays one line."""
    out = []
    for char in text:
        code = ord(char)
        if char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code < 0xA0 or 0x2028 <= code <= 0x2029:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


class EscapingFormatter(logging.Formatter):
    """Control characters escaped; times in ISO 8601 with their UTC offset.

    Django sets the process's time zone (Asia/Tokyo) when it starts, so a gunicorn master
    (UTC) and its workers (JST) write into the same file in two zones: the offset makes every
    line's time unambiguous.
    """

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        moment = datetime.datetime.fromtimestamp(record.created).astimezone()
        return moment.isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class RedactingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports never carry POST bodies: every field we post may be a personal item."""

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}


class DatabaseErrorFilter(logging.Filter):
    """Withholds the message of a database error in a logged traceback (R-24, issue #14).

    A PostgreSQL error can quote the failing row ("Failing row contains (...)"), which holds
    personal items; Django's `django.request` logs every 500 with its traceback. The frames,
    the exception's class and the SQLSTATE stay; the message and the chained causes go.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        from django.db import DatabaseError

        error = record.exc_info[1]
        chain = [error, error.__cause__, error.__context__]
        if not any(
            isinstance(item, DatabaseError) or type(item).__module__.startswith(("psycopg", "sqlite3"))
            for item in chain
            if item is not None
        ):
            return True
        import traceback

        sqlstate = getattr(error.__cause__, "sqlstate", None) or getattr(error, "sqlstate", None) or "-"
        frames = "".join(traceback.format_tb(record.exc_info[2]))
        record.exc_text = (
            f"Traceback (most recent call last):\n{frames}"
            f"{type(error).__module__}.{type(error).__name__}: (message withheld: it may quote a row; "
            f"SQLSTATE {sqlstate})"
        )
        record.exc_info = None
        return True
