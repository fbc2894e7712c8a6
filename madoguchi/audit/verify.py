"""Checking the chain (`madoguchi audit verify`) and its heads kept outside the database.

`verify_chain()` walks each chain (docs/audit.md, "Several chains") in order, streaming, and
stops at the first problem:
- altered: an event's hash is not the hash of its fields (or its AuditChange does not match
  the digest the event carries, unless it was emptied by its program's erasure and a later
  erasure seal of that program vouches for it);
- removed: a position is missing (or a chain starts after 1 with no purge seal vouching for it,
  or a join seal saw events the chain no longer holds);
- inserted: an event sits between two that chain to each other, a position repeats, or events
  lie beyond the chain head (or in a chain that has no head).
Anyone with write access can rewrite a whole chain consistently: `export_head()` seals the
chains together and writes their heads to a file outside the database every day, and
`check_heads()` shows whether the database still holds those heads, which tells a rewritten
or restored database from the real one.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from madoguchi.audit.chain import LEGACY_CHAIN, change_digest, event_hash, position
from madoguchi.audit.models import GENESIS_HASH, Action, AuditChange, AuditEvent, ChainHead


@dataclass(frozen=True)
class Problem:
    kind: str  # altered | removed | inserted
    seq: int | None  # the position in the chain (in the legacy chain 0, the event's seq)
    message: str
    chain: int = LEGACY_CHAIN


@dataclass
class ChainReport:
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str = ""
    seals: int = 0
    chains: int = 0
    joins: int = 0
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _seal_for(first: Any) -> AuditEvent | None:
    """The purge seal that vouches for a chain starting at `first` (a position above 1)."""
    candidates = AuditEvent.objects.filter(
        action=Action.PURGE,
        object_type="audit_chain",
        details__purged_to_seq=position(first) - 1,
        details__purged_last_hash=first.prev_hash,
    ).order_by("seq")
    # Seals written before there were several chains name none: theirs is the legacy chain.
    return next(
        (seal for seal in candidates if seal.details.get("purged_chain", LEGACY_CHAIN) == first.chain), None
    )


# The seal of a program's erasure (`madoguchi.lifecycle.purge`): an event that says the
# before/after values of that program's earlier events were emptied.
ERASURE_SEAL_TYPE = "program_erasure"
# The seal that joins the chains (`export_head`): an event holding every chain's head then.
HEADS_SEAL_TYPE = "audit_heads"


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


@dataclass
class _Walked:
    """What one chain's walk saw: its ends, and the hashes at the positions join seals name."""

    first: int = 0
    last: int = 0
    claimed: dict[int, str] = field(default_factory=dict)


def _join_claims() -> dict[int, dict[int, list[tuple[int, str]]]]:
    """chain -> position -> [(seq of the join seal, the hash it saw there)]."""
    claims: dict[int, dict[int, list[tuple[int, str]]]] = {}
    seals = AuditEvent.objects.filter(action=Action.EXPORT, object_type=HEADS_SEAL_TYPE)
    for seal_seq, details in seals.values_list("seq", "details"):
        for key, value in (details.get("heads") or {}).items():
            chain, (at, head_hash) = int(str(key).removeprefix("chain_")), value
            claims.setdefault(chain, {}).setdefault(int(at), []).append((seal_seq, str(head_hash)))
    return claims


def _walk(
    chain: int,
    head: tuple[int, str],
    report: ChainReport,
    seals: dict[int, int],
    wanted: set[int],
    chunk_size: int,
) -> tuple[Problem | None, _Walked]:
    """Walk one chain in order; the first problem, if any, and what the walk saw."""
    walked = _Walked()
    ordering = "seq" if chain == LEGACY_CHAIN else "chain_seq"
    events = (
        AuditEvent.objects.filter(chain=chain)
        .select_related("change")
        .order_by(ordering)
        .iterator(chunk_size=chunk_size)
    )

    def problem(kind: str, at: int, message: str) -> tuple[Problem, _Walked]:
        return Problem(kind, at, message, chain), walked

    before_previous: Any = None
    previous: Any = None
    for event in events:
        report.checked += 1
        here = position(event)
        if previous is None:
            walked.first = here
            if here < 1:
                return problem("inserted", here, f"event {here} lies before the chain's start")
            if here == 1 and event.prev_hash != GENESIS_HASH:
                return problem("altered", 1, "event 1 does not start from the genesis hash")
            if here > 1 and _seal_for(event) is None:
                return problem(
                    "removed", 1, f"events 1..{here - 1} are missing and no purge seal vouches for it"
                )
        else:
            last = position(previous)
            if here == last:
                return problem("inserted", here, f"position {here} appears twice")
            if here > last + 1:
                missing = last + 1
                span = f"{missing}" if here == missing + 1 else f"{missing}..{here - 1}"
                return problem("removed", missing, f"event(s) {span} missing")
            if event.prev_hash != previous.hash:
                if before_previous is not None and event.prev_hash == before_previous.hash:
                    return problem("inserted", last, f"event {last} was inserted into the chain")
                if event_hash(previous) != previous.hash or event_hash(event) != event.hash:
                    return problem("altered", here, f"event {here} was altered")
                return problem(
                    "inserted", here, f"event {here} does not chain to event {last} (inserted or rewritten)"
                )
        if event_hash(event) != event.hash:
            return problem("altered", here, f"event {here} was altered")
        if not _check_change(event, seals):
            return problem("altered", here, f"the before/after record of event {here} was altered or removed")
        if event.action == Action.PURGE and event.object_type == "audit_chain":
            report.seals += 1
        if here in wanted:
            walked.claimed[here] = event.hash
        if report.last_seq is None or event.seq > report.last_seq:
            report.last_seq, report.last_hash = event.seq, event.hash
        if report.first_seq is None or event.seq < report.first_seq:
            report.first_seq = event.seq
        before_previous, previous = previous, event
    head_seq, head_hash = head
    if previous is None:
        if head_seq > 0:
            return problem("removed", 1, f"every event is missing (the head says {head_seq})")
        return None, walked
    walked.last = last = position(previous)
    if last > head_seq:
        return problem("inserted", head_seq + 1, f"event(s) {head_seq + 1}..{last} lie beyond the chain head")
    if last < head_seq:
        span = f"{last + 1}..{head_seq}" if head_seq > last + 1 else str(head_seq)
        return problem("removed", last + 1, f"event(s) {span} missing at the end")
    if previous.hash != head_hash:
        return problem("altered", last, f"event {last} differs from the chain head")
    return None, walked


def verify_chain(*, chunk_size: int = 5000) -> ChainReport:
    """Walk every chain, each in order, then check what the join seals say of each."""
    report = ChainReport()
    seals = erasure_seals()
    heads = {
        pk: (seq, head_hash) for pk, seq, head_hash in ChainHead.objects.values_list("pk", "seq", "hash")
    }
    if LEGACY_CHAIN not in heads:
        heads[LEGACY_CHAIN] = (0, GENESIS_HASH)  # a database created after the legacy chain
    stray = AuditEvent.objects.exclude(chain__in=list(heads)).values_list("chain", "chain_seq").first()
    if stray is not None:
        report.problem = Problem(
            "inserted", stray[1], f"chain {stray[0]} has events but no head: they were inserted", stray[0]
        )
        return report
    claims = _join_claims()
    walks: dict[int, _Walked] = {}
    for chain in sorted(heads):
        problem, walks[chain] = _walk(
            chain, heads[chain], report, seals, set(claims.get(chain, {})), chunk_size
        )
        if problem is not None:
            report.problem = problem
            return report
        if walks[chain].last:
            report.chains += 1
    for chain, positions in sorted(claims.items()):
        walked = walks.get(chain, _Walked())
        for at, seen_by in sorted(positions.items()):
            for seal_seq, claimed in seen_by:
                report.joins += 1
                if at == 0 or (walked.first and at < walked.first):
                    continue  # an empty chain then, or purged since (its start is sealed)
                if at > walked.last:
                    report.problem = Problem(
                        "removed",
                        walked.last + 1,
                        f"the join seal {seal_seq} saw event {at}, beyond the chain's end",
                        chain,
                    )
                    return report
                if walked.claimed.get(at) != claimed:
                    report.problem = Problem(
                        "altered",
                        at,
                        f"event {at} differs from the join seal {seal_seq}",
                        chain,
                    )
                    return report
    return report


# --- heads kept outside the database ---------------------------------------------------------

HEADS_FILE = "audit-heads.jsonl"


def _ends(chain: int) -> tuple[int, int]:
    """The first and last position held of `chain` (0, 0 when it is empty)."""
    ordering = "seq" if chain == LEGACY_CHAIN else "chain_seq"
    positions = AuditEvent.objects.filter(chain=chain).values_list(ordering, flat=True)
    return positions.order_by(ordering).first() or 0, positions.order_by(f"-{ordering}").first() or 0


def current_head() -> dict[str, Any]:
    """Every chain's last position and hash, the number of events held and the newest time."""
    chains: dict[str, dict[str, Any]] = {}
    count = 0
    newest: datetime.datetime | None = None
    for chain in sorted(ChainHead.objects.values_list("pk", flat=True)):
        first, last = _ends(chain)
        if not last:
            continue
        ordering = "seq" if chain == LEGACY_CHAIN else "chain_seq"
        event = AuditEvent.objects.filter(chain=chain, **{ordering: last}).values("hash", "at").get()
        chains[str(chain)] = {"seq": last, "hash": event["hash"]}
        # Each chain is gapless, so the count needs no COUNT(*) over millions of rows.
        count += last - first + 1
        newest = event["at"] if newest is None else max(newest, event["at"])
    return {
        "chains": chains,
        "count": count,
        "event_at": newest.astimezone(datetime.UTC).isoformat() if newest else None,
    }


def seal_heads() -> AuditEvent:
    """Record a join seal: one event, in whichever chain is free, holding every other chain's head.

    Whoever rewrites a chain from some point must then also rewrite the chain holding each
    later join seal, and the exported heads show that too.
    """
    from madoguchi.audit.services import record

    heads = {
        f"chain_{chain}": [entry["seq"], entry["hash"]] for chain, entry in current_head()["chains"].items()
    }
    with transaction.atomic():
        return record(action=Action.EXPORT, object_type=HEADS_SEAL_TYPE, details={"heads": heads})


def export_head(out_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Seal the chains together, then append every chain's head to `out_dir/audit-heads.jsonl`
    (one JSON object a line, fsynced)."""
    seal_heads()
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


def _purge_sealed(chain: int, at: int) -> bool:
    seals = AuditEvent.objects.filter(
        action=Action.PURGE, object_type="audit_chain", details__purged_to_seq__gte=at
    ).values_list("details", flat=True)
    return any(details.get("purged_chain", LEGACY_CHAIN) == chain for details in seals)


def check_heads(path: Path) -> HeadsReport:
    """Does the database still hold every head exported to `path`?

    A line written before there were several chains holds one `seq` and `hash`: the legacy
    chain's head.
    """
    report = HeadsReport()
    ends: dict[int, tuple[int, int]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if "chains" in entry:
                heads = [(int(c), int(v["seq"]), str(v["hash"])) for c, v in entry["chains"].items()]
            else:
                heads = [(LEGACY_CHAIN, int(entry["seq"]), str(entry["hash"]))]
        except (ValueError, KeyError, TypeError, AttributeError):
            report.problems.append(f"line {number}: not a head entry")
            continue
        report.checked += 1
        for chain, at, expected in heads:
            if at == 0:
                continue
            if chain not in ends:
                ends[chain] = _ends(chain)
            first, last = ends[chain]
            where = f"line {number}: chain {chain}"
            if at > last:
                report.problems.append(
                    f"{where}: head {at} (exported {entry.get('exported_at')}) is beyond the database's "
                    f"last event {last}: the database was restored from an older copy or events were removed"
                )
                continue
            if at < first:
                if _purge_sealed(chain, at):
                    report.purged += 1
                else:
                    report.problems.append(f"{where}: head {at} is missing and no purge seal covers it")
                continue
            ordering = "seq" if chain == LEGACY_CHAIN else "chain_seq"
            stored = (
                AuditEvent.objects.filter(chain=chain, **{ordering: at})
                .values_list("hash", flat=True)
                .first()
            )
            if stored is None:
                report.problems.append(f"{where}: event {at} is missing")
            elif stored != expected:
                report.problems.append(
                    f"{where}: event {at} has hash {stored[:16]}…, the exported head says "
                    f"{expected[:16]}…: the chain was rewritten"
                )
    return report
