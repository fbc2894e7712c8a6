"""The current request's id and client address, available outside the view (logs, audit)."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
client_ip_var: contextvars.ContextVar[str] = contextvars.ContextVar("client_ip", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def current_request_id() -> str:
    return request_id_var.get()


def current_client_ip() -> str:
    return client_ip_var.get()


# What one request looks up more than once and cannot change under it within the request (the
# program ids a user reaches: read by the list, its count, the badges and the filters). Set by
# RequestIdMiddleware for the length of a request; outside a request (commands, tests calling
# selectors) nothing is kept, so a change made between two calls is always seen.
request_memo_var: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar(
    "request_memo", default=None
)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, kept for the rest of the current request under `key`."""
    memo = request_memo_var.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]


def remember(key: Hashable, value: Any) -> None:
    """Keep `value` under `key` for the rest of the current request, as `memoized` would have
    computed it (a value read early, in the same statement as something else). Outside a
    request nothing is kept."""
    memo = request_memo_var.get()
    if memo is not None:
        memo[key] = value


def forget(kind: str) -> None:
    """Drop what the current request keeps under keys `(kind, ...)`: the thing they hold
    changed in this request, so the next look-up reads it again."""
    memo = request_memo_var.get()
    if memo is not None:
        for key in [key for key in memo if isinstance(key, tuple) and key[:1] == (kind,)]:
            del memo[key]
