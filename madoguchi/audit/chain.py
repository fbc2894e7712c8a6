"""The hash chain: the canonical serialisation of an event and its SHA-256.

`hash = sha256(canonical(event))`, where the canonical form is the JSON object of every
recorded field plus `prev_hash`, keys sorted, no spaces, UTF-8, the time in UTC with
microseconds. Events of chains 1..N also carry `chain` and `chain_seq` in the object; events
of the legacy chain 0 (written before there were several chains) do not, so their stored
hashes still verify. Changing this function invalidates every stored hash: it is a format, not code
to tidy. `docs/audit.md` describes it so a verifier can be written without this code.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

# The fields covered by the hash, in no particular order (the serialisation sorts keys).
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "actor_name",
    "actor_organisation",
    "actor_role",
    "client_ip",
    "request_id",
    "action",
    "program_id",
    "object_type",
    "object_id",
    "outcome",
    "details",
    "change_digest",
    "prev_hash",
)
# Added to the hashed object for every chain but the legacy one.
CHAIN_FIELDS = ("chain", "chain_seq")
# The single chain written before migration 0007: frozen, its position is `seq`.
LEGACY_CHAIN = 0


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def format_at(at: datetime.datetime) -> str:
    return at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: Any) -> bytes:
    """The bytes hashed for `event` (an AuditEvent or anything with the same attributes)."""
    payload: dict[str, Any] = {}
    legacy = getattr(event, "chain", LEGACY_CHAIN) == LEGACY_CHAIN
    for name in HASHED_FIELDS if legacy else HASHED_FIELDS + CHAIN_FIELDS:
        value = getattr(event, name)
        if name == "at":
            value = format_at(value)
        payload[name] = value
    return canonical_json(payload)


def position(event: Any) -> int:
    """Where `event` sits in its chain: `chain_seq`, or `seq` in the legacy chain."""
    return int(event.seq if event.chain == LEGACY_CHAIN else event.chain_seq)


def event_hash(event: Any) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def change_digest(before: dict[str, Any], after: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({"before": before, "after": after})).hexdigest()
