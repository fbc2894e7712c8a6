"""PostgreSQL: wait until no transaction can still read the row versions the purge erased.

`VACUUM FULL` writes a table's files anew, but it copies every dead row version that some
snapshot may still read ("recently dead"), with its TOAST values. Which snapshots count: every
session of this database (its xmin), and the rewrite's own snapshot, whose xmin is the oldest
transaction running anywhere on the server, in any database (a snapshot lists every running
transaction). So while an older transaction is open anywhere (another database's long load, a
forgotten `BEGIN` in psql), a rewrite keeps the erased versions in the new files, and the
certificate's "rewritten" would not be true.

It also fails then: `missing chunk number 0 for toast value … in pg_toast_…` (seen in the
PostgreSQL runs of `lifecycle/tests/test_purge.py` while another database loaded a million
rows). Pruning, which ignores other databases' transactions once a VACUUM of this session has
computed the database's own horizon, had already removed the TOAST chunks of a version that
the rewrite, counting the other database through its snapshot, still copies. PostgreSQL bugs
#18351 and #19519 (unresolved in 15): a horizon that differs between a table and its TOAST.

Once no session or running transaction older than the erasure is left, every version it erased
is dead to the rewrite: not copied, its TOAST never read. `wait_for_older_transactions` waits
for that, and names what it waited for when it gives up.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from typing import Any

WRAP = 2**32


@dataclass(frozen=True)
class Holder:
    """A session, a prepared transaction or a replication slot older than the mark."""

    what: str
    since: datetime.datetime | None = None

    def __str__(self) -> str:
        return f"{self.what}（{self.since:%Y-%m-%d %H:%M:%S %Z} から）" if self.since else self.what


class StillVisible(Exception):
    def __init__(self, holder: Holder, waited: float) -> None:
        super().__init__(str(holder))
        self.holder = holder
        self.waited = waited


def _precedes(xid: int, mark: int) -> bool:
    """Whether the 32-bit `xid` (pg_stat_activity, slots) is older than the 64-bit `mark`, in
    PostgreSQL's modulo-2**32 order (`TransactionIdPrecedes`)."""
    return (xid - mark) % WRAP >= WRAP // 2


def mark(cursor: Any) -> int:
    """The first transaction id not yet finished: every transaction the purge committed so far
    is older."""
    cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
    return int(cursor.fetchone()[0])


def older_than(cursor: Any, mark: int) -> Holder | None:
    """What could still read a row version deleted before `mark`, or None.

    The oldest running transaction of the server (its snapshot's xmin, counted by the rewrite's
    own snapshot whatever its database), the snapshots of this database's other sessions and of
    the standbys' feedback (walsenders), and the replication slots. A role outside
    `pg_read_all_stats` sees other roles' sessions without their xmin (it sees its own role's,
    the application's sessions, and any running transaction through its snapshot).
    """
    cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
    oldest_running = int(cursor.fetchone()[0])
    cursor.execute(
        "SELECT pid, coalesce(datname, ''), backend_type, backend_xid::text, backend_xmin::text, "
        "coalesce(xact_start, backend_start), datname = current_database() "
        "FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL) ORDER BY xact_start NULLS LAST"
    )
    for pid, database, kind, xid, xmin, since, here in cursor.fetchall():
        where = f"pid {pid}、{database or kind}"
        if xid is not None and _precedes(int(xid), mark):
            return Holder(where, since)
        if xmin is not None and (here or kind == "walsender") and _precedes(int(xmin), mark):
            return Holder(where, since)
    cursor.execute("SELECT slot_name, xmin::text FROM pg_replication_slots WHERE xmin IS NOT NULL")
    for slot, xmin in cursor.fetchall():
        if _precedes(int(xmin), mark):
            return Holder(f"replication slot {slot}")
    if oldest_running < mark:  # a prepared transaction (pg_prepared_xacts), or a session just gone
        cursor.execute("SELECT gid, prepared FROM pg_prepared_xacts ORDER BY prepared LIMIT 1")
        prepared = cursor.fetchone()
        return (
            Holder(f"prepared transaction {prepared[0]}", prepared[1]) if prepared else Holder("transaction")
        )
    return None


def wait_for_older_transactions(cursor: Any, *, timeout: float, poll: float = 0.2) -> float:
    """Wait until nothing older than now can read the erased versions; the seconds waited.
    Raises StillVisible after `timeout` seconds."""
    since = mark(cursor)
    started = time.monotonic()
    while True:
        holder = older_than(cursor, since)
        waited = time.monotonic() - started
        if holder is None:
            return round(waited, 1)
        if waited >= timeout:
            raise StillVisible(holder, round(waited, 1))
        time.sleep(poll)
