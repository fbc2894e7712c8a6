"""django-otp's middleware, with the session's TOTP device read in the same query as its user.

Every staff page reads the session's user (with the organisation) and the device that verified
the session. `OTPMiddleware` tells `StaffBackend.get_user` which device the session names; the
backend then reads the device with its user and organisation in one statement, and the
middleware takes that device instead of reading it again. Both are still read on every request:
a deleted or unconfirmed device, a disabled user or a suspended organisation take effect on the
next request exactly as before. When the device is not found with the session's user, both are
read the usual way (and django-otp refuses the session as before).

The same statement reads what every staff request asks next about that user, each as one more
column (`SessionRead`): the organisation's allowlist (accounts.allowlist), and whatever another
app registers (the user's program ids, madoguchi.programs). Each is kept in the request's memo
(`core.request_context`), so the request reads it from the database once, as it did, but
without a round trip of its own (or the cache's, for the allowlist).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts import allowlist
from madoguchi.accounts.models import AllowedNetwork, Organisation, User
from madoguchi.lib.sql import from_row, select_list, table

# The session's device id while its user is being read, and the device read with the user.
_wanted: contextvars.ContextVar[str | None] = contextvars.ContextVar("otp_wanted", default=None)
_found: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("otp_found", default=None)


def _totp_id(persistent_id: str | None) -> int | None:
    label = TOTPDevice._meta.label_lower  # "otp_totp.totpdevice"
    if not persistent_id or not persistent_id.startswith(label + "/"):
        return None
    try:
        return int(persistent_id[len(label) + 1 :])
    except ValueError:
        return None


def user_with_device(user_id: Any) -> Any:
    """The session's user read through its TOTP device (with the organisation), or None when
    no device of that user is named by the session (the caller reads the user alone)."""
    persistent_id = _wanted.get()
    device_id = _totp_id(persistent_id)
    found = _found.get()
    if device_id is None or found is None:
        return None
    try:
        device = _device_with_user(device_id, int(user_id))
    except (TypeError, ValueError):
        return None
    if device is None:
        return None
    found[str(persistent_id)] = device
    return device.user


def _device_with_user(device_id: int, user_id: int) -> TOTPDevice | None:
    """`TOTPDevice.objects.select_related("user__organisation").filter(pk=device_id,
    user_id=user_id).first()` as one written statement: compiling that queryset cost about
    0.7 ms of CPU on every staff request, more than running it (test_session_reads)."""
    connection = connections[TOTPDevice.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(_device_sql(connection), [device_id, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    device_end = len(TOTPDevice._meta.concrete_fields)
    user_end = device_end + len(User._meta.concrete_fields)
    organisation_end = user_end + len(Organisation._meta.concrete_fields)
    device = from_row(TOTPDevice, row[:device_end], connection)
    user = from_row(User, row[device_end:user_end], connection)
    organisation = (
        from_row(Organisation, row[user_end:organisation_end], connection) if user.organisation_id else None
    )
    User._meta.get_field("organisation").set_cached_value(user, organisation)
    TOTPDevice._meta.get_field("user").set_cached_value(device, user)
    for read, value in zip(_READS.values(), row[organisation_end:], strict=True):
        read.keep(user, value)
    return device


@dataclass(frozen=True)
class SessionRead:
    """One more column of the session's statement: `sql(connection, user_table,
    organisation_table)` is a scalar subquery on the user's row (and its organisation's, NULL
    when it has none); `keep(user, value)` puts the value in the request's memo."""

    name: str
    sql: Callable[[Any, str, str], str]
    keep: Callable[[Any, Any], None]


_READS: dict[str, SessionRead] = {}
# The statement's text (table and column names only), made once per database.
_DEVICE_SQL: dict[str, str] = {}


def register_session_read(read: SessionRead) -> None:
    """Add `read` to the session's statement (an app's `ready()`)."""
    _READS[read.name] = read
    _DEVICE_SQL.clear()


def aggregate(connection: Any, expression: str, separator: str, *, order: str = "") -> str:
    """`expression`'s values joined by `separator` (NULL for none). `order`: PostgreSQL sorts
    the values by it; SQLite (before 3.44, no ORDER BY in an aggregate) keeps the order of the
    rows it is given, so a subquery that needs an order also sorts its rows by it."""
    if connection.vendor == "postgresql":
        return f"string_agg(({expression})::text, '{separator}'{f' ORDER BY {order}' if order else ''})"
    return f"group_concat({expression}, '{separator}')"


def _allowlist_sql(connection: Any, user_table: str, organisation_table: str) -> str:
    """The networks of the user's organisation while it is active: what `allowlist._lists()`
    keeps for it (an inactive organisation's users never get this far)."""
    networks = table(AllowedNetwork)
    return (
        f"SELECT {aggregate(connection, 'n.network', ' ')} FROM {networks} n "  # noqa: S608 - names only
        f"WHERE n.organisation_id = {organisation_table}.id AND {organisation_table}.is_active"
    )


def _keep_allowlist(user: Any, value: Any) -> None:
    allowlist.remember(user.organisation_id, value.split(" ") if value else [])


register_session_read(SessionRead("allowlist", _allowlist_sql, _keep_allowlist))


def _device_sql(connection: Any) -> str:
    """The statement's text (table and column names only), made once per database."""
    if connection.alias not in _DEVICE_SQL:
        _DEVICE_SQL[connection.alias] = _make_device_sql(connection)
    return _DEVICE_SQL[connection.alias]


def _make_device_sql(connection: Any) -> str:
    device_table, user_table, organisation_table = table(TOTPDevice), table(User), table(Organisation)
    reads = "".join(f", ({read.sql(connection, user_table, organisation_table)})" for read in _READS.values())
    return (
        f"SELECT {select_list(TOTPDevice, connection)}, {select_list(User, connection)}, "  # noqa: S608 - names only
        f"{select_list(Organisation, connection)}{reads} FROM {device_table} "
        f"INNER JOIN {user_table} ON {device_table}.user_id = {user_table}.id "
        f"LEFT OUTER JOIN {organisation_table} ON {user_table}.organisation_id = {organisation_table}.id "
        f"WHERE {device_table}.id = %s AND {device_table}.user_id = %s"
    )


class OTPMiddleware(BaseOTPMiddleware):
    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        session = getattr(request, "session", None)
        wanted = _wanted.set(session.get(DEVICE_ID_SESSION_KEY) if session is not None else None)
        found = _found.set({})
        try:
            return super()._verify_user_sync(request, user)
        finally:
            _wanted.reset(wanted)
            _found.reset(found)

    def _device_from_persistent_id(self, persistent_id: str) -> Any:
        device = (_found.get() or {}).get(persistent_id)
        if device is not None:
            return device
        return super()._device_from_persistent_id(persistent_id)
