"""A defensive check that an event's `details` holds no personal value (R-22, R-24).

`details` may hold field names, counts, ids, receipt numbers, hashes, flags and addresses of
machines: short ASCII tokens and numbers. It refuses what looks like free text or a personal
item, so a caller that passes a value by mistake fails in its own tests, loudly, instead of
copying a name into the trail. The check is a net, not a proof: a personal value that looks
like an id (a bare number) passes, which is why callers pass field NAMES, never values.

Refused: any non-ASCII character (names, kana, addresses), whitespace (free text), `@`
(e-mail), a value of 9 or more digits, with or without hyphens (phone numbers), and a date
(`1990-01-01`, `1990/1/1`: birth dates). UUIDs, hex digests and IP addresses pass.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

_TOKEN = re.compile(r"[A-Za-z0-9_.:/+#=\-]{0,200}")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,80}")
_PHONE_LIKE = re.compile(r"\+?[\d\-()]{9,}")
_DATE_LIKE = re.compile(r"\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}(T[0-9:.+\-Z]*)?")
_OPAQUE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,128}")
_MAX_DEPTH = 4
_MAX_ITEMS = 1000


class AuditDetailsError(ValueError):
    """A value in `details` (or `object_id`) looks like a personal value or free text."""


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def check_token(value: str, where: str) -> None:
    if not _TOKEN.fullmatch(value):
        raise AuditDetailsError(
            f"{where} looks like free text or a personal value; pass field names, counts, ids or hashes"
        )
    if _OPAQUE.fullmatch(value):
        return
    # An address of a machine passes; parsing one is asked only of a value that would
    # otherwise be refused (ipaddress raising on every field name was most of this check).
    if _DATE_LIKE.fullmatch(value) and not _is_ip(value):
        raise AuditDetailsError(f"{where} looks like a date (a birth date?): pass an id instead")
    if _PHONE_LIKE.fullmatch(value) and sum(ch.isdigit() for ch in value) >= 9 and not _is_ip(value):
        raise AuditDetailsError(f"{where} looks like a phone number: pass an id instead")


def check_details(details: Any, where: str = "details", depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise AuditDetailsError(f"{where} is nested too deeply")
    if details is None or isinstance(details, bool | int | float):
        return
    if isinstance(details, str):
        check_token(details, where)
        return
    if isinstance(details, list | tuple):
        if len(details) > _MAX_ITEMS:
            raise AuditDetailsError(f"{where} has more than {_MAX_ITEMS} items: record a count")
        for index, item in enumerate(details):
            check_details(item, f"{where}[{index}]", depth + 1)
        return
    if isinstance(details, dict):
        for key, value in details.items():
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise AuditDetailsError(f"{where} has a key that is not a field name")
            check_details(value, f"{where}.{key}", depth + 1)
        return
    raise AuditDetailsError(f"{where} holds a {type(details).__name__}: only JSON scalars, lists, dicts")
