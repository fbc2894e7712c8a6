"""Reads that tolerate a little lag go to the read replica; everything else stays on the primary.

Nothing goes to the replica unless the code asks for it: a view or selector whose reads may be
a few seconds old (dashboards, reports, exports, the audit screens) runs inside `use_replica()`
(a context manager and a view decorator). Even there the reads stay on the primary when

- no replica is configured (`DATABASE_REPLICA_URL` unset: the tests and the demo);
- the user wrote something in the last `REPLICA_PIN_SECONDS` (their session carries the time
  of their last write, so they never see the list without the case they just saved);
- the replica does not answer, or lags more than `REPLICA_MAX_LAG_SECONDS` behind the primary.
  Its state is checked at most every `REPLICA_CHECK_SECONDS` per process (one short query).

Writes always go to the primary; migrations run on the primary only (a streaming replica
follows it by itself).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

logger = logging.getLogger("madoguchi.replica")

REPLICA_ALIAS = "replica"
# The session key holding the time (epoch seconds) of the user's last write.
WROTE_AT_KEY = "_mdg_wrote_at"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# True inside use_replica(); False inside primary_only() and for a user who just wrote.
_wanted: contextvars.ContextVar[bool] = contextvars.ContextVar("madoguchi_replica_wanted", default=False)
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar("madoguchi_replica_pinned", default=False)
# How many reads went to the replica in this context (for the decorator's retry on the primary).
_used: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "madoguchi_replica_used", default=None
)
# Set by the middleware per request; the decorator notes there that the view only reads.
_request_marks: contextvars.ContextVar[dict[str, bool] | None] = contextvars.ContextVar(
    "madoguchi_replica_request", default=None
)

F = TypeVar("F", bound=Callable[..., Any])

# PostgreSQL: the standby's replay lag, 0 when it has replayed all it received (an idle primary
# sends nothing, and the last replayed transaction's age then says nothing about lag).
_PG_LAG_SQL = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0
  WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
  ELSE COALESCE(EXTRACT(EPOCH FROM (clock_timestamp() - pg_last_xact_replay_timestamp())), 0)
END
"""


def configured() -> bool:
    return REPLICA_ALIAS in connections.settings


@dataclass
class _State:
    checked_at: float = -1e18
    healthy: bool = False
    lag: float | None = None
    reason: str = ""


_state = _State()
_lock = threading.Lock()


def measure_lag(alias: str = REPLICA_ALIAS) -> float:
    """The replica's lag in seconds (0 for a database that is not a standby). Raises when down."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_LAG_SQL)
        else:
            cursor.execute("SELECT 0")
        row = cursor.fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def _check() -> None:
    try:
        lag = measure_lag()
    except Exception as error:  # any failure to connect or to answer: the replica is down
        with contextlib.suppress(Exception):
            connections[REPLICA_ALIAS].close()
        logger.debug("replica check failed", exc_info=True)
        _record(False, None, f"down ({type(error).__name__})")
        return
    limit = float(settings.REPLICA_MAX_LAG_SECONDS)
    if lag > limit:
        _record(False, lag, f"lagging {lag:.1f}s > {limit:g}s")
    else:
        _record(True, lag, "ok")


def _record(healthy: bool, lag: float | None, reason: str) -> None:
    if healthy != _state.healthy or (not healthy and reason.split(" ")[0] != _state.reason.split(" ")[0]):
        if healthy:
            logger.warning("read replica back in use (lag %.1fs)", lag or 0.0)
        else:
            logger.warning("read replica not used: %s; reads go to the primary", reason)
    _state.healthy, _state.lag, _state.reason = healthy, lag, reason
    _state.checked_at = time.monotonic()


def replica_healthy(*, now: float | None = None) -> bool:
    """Whether the replica may serve reads now (checked at most every REPLICA_CHECK_SECONDS)."""
    moment = time.monotonic() if now is None else now
    if moment - _state.checked_at < float(settings.REPLICA_CHECK_SECONDS):
        return _state.healthy
    with _lock:
        if moment - _state.checked_at >= float(settings.REPLICA_CHECK_SECONDS):
            _check()
    return _state.healthy


def mark_down(reason: str) -> None:
    """Stop using the replica until the next check (a query on it failed)."""
    with _lock:
        _record(False, None, f"down ({reason})")


def reset_state() -> None:
    """Forget the last check (tests, and after a configuration change)."""
    with _lock:
        _state.checked_at, _state.healthy, _state.lag, _state.reason = -1e18, False, None, ""


def status() -> dict[str, Any]:
    return {"configured": configured(), "healthy": _state.healthy, "lag": _state.lag, "reason": _state.reason}


def read_alias() -> str:
    """The alias the next read goes to."""
    if not _wanted.get() or _pinned.get() or not configured():
        return DEFAULT_DB_ALIAS
    if not replica_healthy():
        return DEFAULT_DB_ALIAS
    used = _used.get()
    if used is not None:
        used[0] += 1
    return REPLICA_ALIAS


class ReplicaRouter:
    """Django's database router (settings.DATABASE_ROUTERS)."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # The replica is the primary's copy: objects from either relate freely.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db != REPLICA_ALIAS


@contextlib.contextmanager
def _entered(value: bool) -> Iterator[None]:
    token = _wanted.set(value)
    try:
        yield
    finally:
        _wanted.reset(token)


@contextlib.contextmanager
def primary_only() -> Iterator[None]:
    """Inside use_replica(), a part that must read the primary (before a write, say)."""
    with _entered(False):
        yield


def _stream(content: Iterator[Any], *, pinned: bool) -> Iterator[Any]:
    """A streamed response's rows are read after the view returned: read them where it read.

    By then the middleware has forgotten the request's pin, so the pin the view saw (a user
    who just wrote reads the primary) is carried here and set again around each chunk.
    """
    iterator = iter(content)
    while True:
        tokens = (_wanted.set(True), _pinned.set(pinned))
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _pinned.reset(tokens[1])
            _wanted.reset(tokens[0])
        yield chunk


class use_replica(contextlib.ContextDecorator):
    """Mark reads that tolerate a little lag: `with use_replica(): ...` or `@use_replica()`.

    As a view decorator it also covers a streamed response's rows, and when a read on the
    replica fails (the replica went away mid-request), marks it down and runs the view once
    more on the primary.
    """

    def __enter__(self) -> use_replica:
        self._token = _wanted.set(True)
        return self

    def __exit__(self, *exc: object) -> None:
        _wanted.reset(self._token)

    def __call__(self, func: F) -> F:  # type: ignore[override]
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            marks = _request_marks.get()
            if marks is not None:
                marks["reads_only"] = True
            counter = [0]
            used_token = _used.set(counter)
            try:
                with _entered(True):  # not `self`: one decorator instance serves every thread
                    result = func(*args, **kwargs)
            except DatabaseError as error:
                if counter[0] == 0:
                    raise
                mark_down(type(error).__name__)
                with contextlib.suppress(Exception):
                    connections[REPLICA_ALIAS].close()
                result = func(*args, **kwargs)
            finally:
                _used.reset(used_token)
            if isinstance(result, StreamingHttpResponse) and not result.is_async:
                result.streaming_content = _stream(
                    cast(Iterator[Any], result.streaming_content), pinned=_pinned.get()
                )
            return result

        return cast(F, inner)


def wrote_recently(request: HttpRequest, *, now: float | None = None) -> bool:
    session = getattr(request, "session", None)
    if session is None:
        return False
    try:
        wrote_at = float(session.get(WROTE_AT_KEY) or 0)
    except (TypeError, ValueError):
        return False
    moment = time.time() if now is None else now
    return moment - wrote_at < float(settings.REPLICA_PIN_SECONDS)


class ReplicaPinMiddleware:
    """Read-your-writes: a user's reads stay on the primary for a while after their own write.

    A write is any request with an unsafe method by a signed-in user (a POST that failed
    validation counts too: cheap, and never wrong), except a POST to a view decorated with
    `use_replica()` (an export: POST keeps its filters out of the URL, it writes nothing but
    its audit event). After the session and the user are known.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not configured():
            return self.get_response(request)
        marks: dict[str, bool] = {}
        tokens = (_pinned.set(wrote_recently(request)), _request_marks.set(marks))
        try:
            response = self.get_response(request)
        finally:
            _request_marks.reset(tokens[1])
            _pinned.reset(tokens[0])
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        writes = request.method not in _SAFE_METHODS and not marks.get("reads_only")
        if writes and session is not None and user is not None and user.is_authenticated:
            session[WROTE_AT_KEY] = time.time()
        return response
