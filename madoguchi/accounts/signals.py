"""Hooks into django-axes: lockouts go to the audit log; axes' own log lines carry no user name."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.dispatch import receiver


def client_str(username: str, ip_address: str, user_agent: str, path_info: Any, request: Any) -> str:
    """What axes writes in its log lines (AXES_CLIENT_STR_CALLABLE): the address and path only,
    because the typed user name may be a mistyped password or a person's name."""
    if isinstance(path_info, list | tuple):
        path_info = path_info[0] if path_info else ""
    return f"{{ip_address: {ip_address!r}, path_info: {str(path_info)!r}}}"


@receiver(user_locked_out, dispatch_uid="madoguchi.accounts.audit_lockout")
def audit_lockout(sender: Any, request: Any = None, username: str | None = None, **kwargs: Any) -> None:
    from madoguchi.accounts.services import record_lockout

    record_lockout(username=username or "", factor="password")
