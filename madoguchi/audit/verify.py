"""Checking the chain (`madoguchi audit verify`) and its heads kept outside the database.

`verify_chain()` walks every event in seq order, streaming, and stops at the first problem:
- altered: an event's hash is not the hash of its fields (or its AuditChange does not match
  the digest the event carries, unless it was emptied by its program's erasure and a later
  erasure seal of that program vouches for it);
- removed: a seq is missing (or the chain starts after 1 with no purge seal vouching for it);
- inserted: an event sits between two that chain to each other, a seq repeats, or events
  lie beyond the chain head.
Anyone with write access can rewrite the whole chain consistently: `export_head()` writes the
head to a file outside the database every day, and `check_heads()` shows whether the database
still holds those heads, which tells a rewritten or restored database from the real one.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from madoguchi.audit.chain import change_digest, event_hash
from madoguchi.audit.models import GENESIS_HASH, Action, AuditChange, AuditEvent, ChainHead


@dataclass(frozen=True)
class Problem:
    kind: str  # altered | removed | inserted
    seq: int | None
    message: str


@dataclass
class ChainReport:
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str = ""
    seals: int = 0
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _seal_for(first: Any) -> AuditEvent | None:
    """The purge seal that vouches for a chain starting at `first` (seq > 1)."""
    return (
        AuditEvent.objects.filter(
            action=Action.PURGE,
            object_type="audit_chain",
            details__purged_to_seq=first.seq - 1,
            details__purged_last_hash=first.prev_hash,
        )
        .order_by("seq")
        .first()
    )


# The seal of a program's erasure (`madoguchi.lifecycle.purge`): an event that says the
# before/after values of that program's earlier events were emptied.
ERASURE_SEAL_TYPE = "program_erasure"


def erasure_seals() -> dict[int, int]:
    """The last erasure seal's seq for each program that has one."""
    seals: dict[int, int] = {}
    rows = AuditEvent.objects.filter(action=Action.PURGE, object_type=ERASURE_SEAL_TYPE).values_list(
        "program_id", "seq"
    )
    for program_id, seq in rows:
        if program_id is not None:
            seals[program_id] = max(seq, seals.get(program_id, 0))
    return seals


def _check_change(event: Any, seals: dict[int, int]) -> bool:
    try:
        change = event.change
    except AuditChange.DoesNotExist:
        change = None
    if not event.change_digest:
        return change is None
    if change is None:
        return False
    if change.erased_at is not None:
        # Erased with its program: the values are gone, so the digest cannot be checked; it
        # is accepted only emptied, and only before a seal of its own program's erasure.
        sealed_at = seals.get(event.program_id) if event.program_id is not None else None
        return change.before == {} and change.after == {} and sealed_at is not None and sealed_at > event.seq
    return change_digest(change.before, change.after) == event.change_digest


def verify_chain(*, chunk_size: int = 5000) -> ChainReport:
    report = ChainReport()
    seals = erasure_seals()
    events = AuditEvent.objects.select_related("change").order_by("seq").iterator(chunk_size=chunk_size)
    before_previous: Any = None
    previous: Any = None
    for event in events:
        report.checked += 1
        if previous is None:
            report.first_seq = event.seq
            if event.seq < 1:
                report.problem = Problem(
                    "inserted", event.seq, f"event {event.seq} lies before the chain's start"
                )
                return report
            if event.seq == 1 and event.prev_hash != GENESIS_HASH:
                report.problem = Problem("altered", 1, "event 1 does not start from the genesis hash")
                return report
            if event.seq > 1 and _seal_for(event) is None:
                report.problem = Problem(
                    "removed", 1, f"events 1..{event.seq - 1} are missing and no purge seal vouches for it"
                )
                return report
        else:
            if event.seq == previous.seq:
                report.problem = Problem("inserted", event.seq, f"seq {event.seq} appears twice")
                return report
            if event.seq > previous.seq + 1:
                missing = previous.seq + 1
                span = f"{missing}" if event.seq == missing + 1 else f"{missing}..{event.seq - 1}"
                report.problem = Problem("removed", missing, f"event(s) {span} missing")
                return report
            if event.prev_hash != previous.hash:
                if before_previous is not None and event.prev_hash == before_previous.hash:
                    report.problem = Problem(
                        "inserted", previous.seq, f"event {previous.seq} was inserted into the chain"
                    )
                elif event_hash(previous) != previous.hash or event_hash(event) != event.hash:
                    report.problem = Problem("altered", event.seq, f"event {event.seq} was altered")
                else:
                    report.problem = Problem(
                        "inserted",
                        event.seq,
                        f"event {event.seq} does not chain to event {previous.seq} (inserted or rewritten)",
                    )
                return report
        if event_hash(event) != event.hash:
            report.problem = Problem("altered", event.seq, f"event {event.seq} was altered")
            return report
        if not _check_change(event, seals):
            report.problem = Problem(
                "altered", event.seq, f"the before/after record of event {event.seq} was altered or removed"
            )
            return report
        if event.action == Action.PURGE and event.object_type == "audit_chain":
            report.seals += 1
        before_previous, previous = previous, event
    head = ChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if previous is None:
        if head_seq > 0:
            report.problem = Problem("removed", 1, f"every event is missing (the head says {head_seq})")
        return report
    report.last_seq, report.last_hash = previous.seq, previous.hash
    if previous.seq > head_seq:
        report.problem = Problem(
            "inserted", head_seq + 1, f"event(s) {head_seq + 1}..{previous.seq} lie beyond the chain head"
        )
    elif previous.seq < head_seq:
        span = f"{previous.seq + 1}..{head_seq}" if head_seq > previous.seq + 1 else str(head_seq)
        report.problem = Problem("removed", previous.seq + 1, f"event(s) {span} missing at the end")
    elif previous.hash != head_hash:
        report.problem = Problem("altered", previous.seq, f"event {previous.seq} differs from the chain head")
    return report


# --- heads kept outside the database ---------------------------------------------------------

HEADS_FILE = "audit-heads.jsonl"


def current_head() -> dict[str, Any]:
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash", "at").first()
    first = AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first()
    if last is None:
        return {"seq": 0, "hash": GENESIS_HASH, "count": 0, "event_at": None}
    return {
        "seq": last["seq"],
        "hash": last["hash"],
        # The chain is gapless, so the count needs no COUNT(*) over millions of rows.
        "count": last["seq"] - (first or last["seq"]) + 1,
        "event_at": last["at"].astimezone(datetime.UTC).isoformat(),
    }


def export_head(out_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Append the chain head to `out_dir/audit-heads.jsonl` (one JSON object a line), fsynced."""
    entry = {"exported_at": timezone.now().astimezone(datetime.UTC).isoformat(), **current_head()}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / HEADS_FILE
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path, entry


@dataclass
class HeadsReport:
    checked: int = 0
    purged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_heads(path: Path) -> HeadsReport:
    """Does the database still hold every head exported to `path`?"""
    report = HeadsReport()
    first = AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first()
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            seq, expected = int(entry["seq"]), str(entry["hash"])
        except (ValueError, KeyError, TypeError):
            report.problems.append(f"line {number}: not a head entry")
            continue
        report.checked += 1
        if seq == 0:
            continue
        if seq > last:
            report.problems.append(
                f"line {number}: head {seq} (exported {entry.get('exported_at')}) is beyond the database's "
                f"last event {last}: the database was restored from an older copy or events were removed"
            )
            continue
        if first is not None and seq < first:
            seal = AuditEvent.objects.filter(
                action=Action.PURGE, object_type="audit_chain", details__purged_to_seq__gte=seq
            ).exists()
            if seal:
                report.purged += 1
            else:
                report.problems.append(f"line {number}: head {seq} is missing and no purge seal covers it")
            continue
        stored = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
        if stored is None:
            report.problems.append(f"line {number}: event {seq} is missing")
        elif stored != expected:
            report.problems.append(
                f"line {number}: event {seq} has hash {stored[:16]}…, the exported head says "
                f"{expected[:16]}…: the chain was rewritten"
            )
    return report
