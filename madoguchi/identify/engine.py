"""Find the caller's household in a program's target list, or abstain.

1. The caller's words are normalised (`normalize`) and turned into blocking keys.
2. Candidates come from the index (`IdentKey`) by exact key hits, never by a scan: keys
   common enough to flood the candidate list are only used in combination.
3. A few dozen candidates, ranked by how rare their shared keys are, are scored field by field
   (`scoring`), and the log-odds become probabilities over "one of these households or
   nobody in the list". The engine abstains unless the best is more likely than everything
   else together and rests on at least two independent agreeing items.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from madoguchi.identify.indexer import ensure_index
from madoguchi.identify.models import IdentKey, IdentKeyStat, IdentProfile, IdentReading
from madoguchi.identify.normalize import (
    NamePart,
    SpokenName,
    address_block_keys,
    email_key,
    loose_key,
    parse_address,
    spoken_date,
    spoken_name,
    spoken_phone,
)
from madoguchi.identify.scoring import Evidence, PreparedQuery, Scored, score_household
from madoguchi.registry.models import Household

MAX_CANDIDATES = 5
SCORED_CANDIDATES = 15  # households fully scored per query
KEY_CAP = 200  # a key shared by more households only counts in combination with another
CREDIBLE = 0.5  # posterior the best household needs: likelier than all alternatives together
SHOWN = 0.01  # below this a candidate is noise, not worth an operator's glance
NAME_FIELDS = frozenset({"guardian_name", "guardian_kana", "child_name", "child_kana"})
QUERY_FIELDS = (
    "guardian_name",
    "guardian_kana",
    "child_name",
    "child_kana",
    "child_dob",
    "guardian_dob",
    "address",
    "phone",
    "email",
)


@dataclass
class Query:
    guardian_name: str = ""
    guardian_kana: str = ""
    child_name: str = ""
    child_kana: str = ""
    child_dob: str = ""
    guardian_dob: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Query:
        return cls(**{name: str(data.get(name) or "") for name in QUERY_FIELDS})

    def fields_given(self) -> list[str]:
        return [name for name in QUERY_FIELDS if getattr(self, name).strip()]


@dataclass
class Candidate:
    household_id: int
    number: str  # the ward's household number (世帯番号)
    public_id: str
    score: float
    evidence: list[Evidence]


@dataclass
class Result:
    candidates: list[Candidate] = field(default_factory=list)
    abstained: bool = True
    fields_used: list[str] = field(default_factory=list)


def prepare(query: Query) -> PreparedQuery:
    q = PreparedQuery(fields_used=query.fields_given())
    q.guardian = [
        s for s in (spoken_name(query.guardian_name), _reading(query.guardian_kana)) if not s.is_empty
    ]
    q.child = [s for s in (spoken_name(query.child_name), _reading(query.child_kana)) if not s.is_empty]
    q.child_dob = spoken_date(query.child_dob)
    q.guardian_dob = spoken_date(query.guardian_dob)
    address = parse_address(query.address)
    q.address = None if address.is_empty else address
    q.phone = spoken_phone(query.phone)
    q.email = email_key(query.email)
    return q


def _reading(value: str) -> SpokenName:
    # A reading field holds kana; anything else typed there is treated as a name.
    return spoken_name(value)


def _name_keys(spoken: SpokenName) -> list[str]:
    keys: list[str] = []

    def part_keys(prefix: str, part: NamePart) -> list[str]:
        return [f"{prefix}k:{loose_key(part.text)}"] if part.is_kana else [f"{prefix}:{part.text}"]

    if spoken.family is not None:
        keys += part_keys("f", spoken.family)
    if spoken.given is not None:
        keys += part_keys("g", spoken.given)
    if (
        spoken.family is not None
        and spoken.given is not None
        and spoken.family.is_kana == spoken.given.is_kana
    ):
        keys += part_keys("w", NamePart(spoken.family.text + spoken.given.text, spoken.family.is_kana))
    if spoken.whole is not None:
        part = spoken.whole
        text = loose_key(part.text) if part.is_kana else part.text
        suffix = "k" if part.is_kana else ""
        keys += [f"w{suffix}:{text}", f"g{suffix}:{text}", f"f{suffix}:{text}"]
        if len(text) <= 12:
            for cut in range(1, len(text)):
                keys += [f"f{suffix}:{text[:cut]}", f"g{suffix}:{text[cut:]}"]
    return keys


def blocking_keys(q: PreparedQuery) -> list[str]:
    keys: list[str] = []
    for spoken in q.guardian + q.child:
        keys += _name_keys(spoken)
    if q.child_dob:
        keys.append(f"cd:{q.child_dob.isoformat()}")
    if q.guardian_dob:
        keys.append(f"gd:{q.guardian_dob.isoformat()}")
    if q.address:
        keys += address_block_keys(q.address)
    if q.phone:
        keys.append(f"t:{q.phone}")
    if q.email:
        keys.append(f"e:{q.email}")
    return list(dict.fromkeys(k for k in keys if len(k) <= 160))


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    # Plain SQL on the hot path: building ORM lookups for a few hundred keys cost more than
    # running the query.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _in(values: Iterable[Any]) -> tuple[str, list[Any]]:
    items = list(values)
    return ", ".join(["%s"] * len(items)), items


def _key_counts(program_id: int, keys: Iterable[str]) -> dict[str, int]:
    marks, params = _in(keys)
    if not params:
        return {}
    table = IdentKeyStat._meta.db_table
    sql = f"SELECT key, count FROM {table} WHERE program_id = %s AND key IN ({marks})"  # noqa: S608
    return dict(_rows(sql, [program_id, *params]))  # type: ignore[arg-type]


def _candidates(program_id: int, keys: list[str], n: int) -> list[int]:
    """Households sharing the most informative keys with the query, best first."""
    if not keys:
        return []
    counts = _key_counts(program_id, keys)
    rare = [k for k, c in counts.items() if c <= KEY_CAP]
    # Keys so common that scanning their rows costs more than they tell (a frequent family name
    # in a million households) are left to the scoring of candidates found otherwise.
    common = [k for k, c in counts.items() if KEY_CAP < c <= KEY_CAP * 10]
    prescore: dict[int, float] = defaultdict(float)
    table = IdentKey._meta.db_table
    if rare:
        marks, params = _in(rare)
        for key, household_id in _rows(
            f"SELECT key, household_id FROM {table} WHERE program_id = %s AND key IN ({marks})",  # noqa: S608
            [program_id, *params],
        ):
            prescore[household_id] += math.log((n + 1) / counts[key])
    if len(common) >= 2 and len(prescore) < SCORED_CANDIDATES:
        # Common keys (a frequent family name, a birthday) only in combination.
        marks, params = _in(common)
        for household_id, hits in _rows(
            f"SELECT household_id, COUNT(*) AS hits FROM {table} WHERE program_id = %s AND key IN ({marks}) "  # noqa: S608
            "GROUP BY household_id HAVING COUNT(*) >= 2 ORDER BY hits DESC LIMIT %s",
            [program_id, *params, SCORED_CANDIDATES * 5],
        ):
            prescore[household_id] += float(hits)
    ranked = sorted(prescore.items(), key=lambda item: item[1], reverse=True)
    return [household_id for household_id, _ in ranked[:SCORED_CANDIDATES]]


def without_suspended(household_ids: list[int]) -> list[int]:
    """The candidates minus households whose use a ward manager suspended (APPI; issue #10).

    The one place identification leaves them out: the panel, the standalone page and the
    screen-pop API all get their candidates from `identify()`.
    """
    if not household_ids:
        return household_ids
    suspended = set(
        Household.objects.filter(pk__in=household_ids, suspended_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    return [household_id for household_id in household_ids if household_id not in suspended]


def identify(program_id: int, query: Query) -> Result:
    """The households the caller may belong to, best first, or an abstention."""
    state = ensure_index(program_id)
    n = max(state.household_count, 1)
    prepared = prepare(query)
    prepared.readings = _readings(program_id, prepared)
    result = Result(fields_used=prepared.fields_used)
    ids = without_suspended(_candidates(program_id, blocking_keys(prepared), n))
    if not ids:
        return result
    marks, params = _in(ids)
    profiles = {
        household_id: json.loads(data) if isinstance(data, str) else data
        for household_id, data in _rows(
            f"SELECT household_id, data FROM {IdentProfile._meta.db_table} WHERE household_id IN ({marks})",  # noqa: S608
            params,
        )
    }
    _attach_counts(program_id, profiles, _count_prefixes(prepared))
    scored = [score_household(hid, profiles[hid], prepared, n) for hid in ids if hid in profiles]
    return rank(scored, result)


def _count_prefixes(q: PreparedQuery) -> tuple[str, ...]:
    """Key kinds whose frequencies the scoring of this query can use."""
    prefixes = ["w", "f", "g"] if (q.guardian or q.child) else []
    if q.child_dob:
        prefixes.append("cd")
    if q.guardian_dob:
        prefixes.append("gd")
    if q.address:
        prefixes += ["a", "ak"]
    if q.phone:
        prefixes.append("t")
    if q.email:
        prefixes.append("e")
    return tuple(f"{p}:" for p in prefixes) + tuple(f"{p}k:" for p in ("w", "f", "g") if "w" in prefixes)


def _attach_counts(program_id: int, profiles: dict[int, dict[str, Any]], prefixes: tuple[str, ...]) -> None:
    """Give each profile the number of households sharing each of its keys (`c`)."""
    wanted = {
        key for profile in profiles.values() for key in profile.get("k", []) if key.startswith(prefixes)
    }
    counts = _key_counts(program_id, wanted)
    for profile in profiles.values():
        profile["c"] = {key: counts.get(key, 1) for key in profile.get("k", []) if key in wanted}


def _readings(program_id: int, q: PreparedQuery) -> dict[str, set[str]]:
    """Readings the list knows for every piece of kanji the caller used in a name."""
    texts: set[str] = set()
    for spoken in q.guardian + q.child:
        for part in (spoken.family, spoken.given, spoken.whole):
            if part is None or part.is_kana or len(part.text) > 8:
                continue
            text = part.text
            texts.update(text[i:j] for i in range(len(text)) for j in range(i + 1, len(text) + 1))
    if not texts:
        return {}
    readings: dict[str, set[str]] = defaultdict(set)
    marks, params = _in(texts)
    table = IdentReading._meta.db_table
    sql = f"SELECT text, reading FROM {table} WHERE program_id = %s AND text IN ({marks})"  # noqa: S608
    for text, reading in _rows(sql, [program_id, *params]):
        readings[text].add(reading)
    return dict(readings)


def rank(scored: list[Scored], result: Result) -> Result:
    """Posteriors over "one of these households, or nobody in the list"; abstain when weak."""
    if not scored:
        return result
    top = max(s.log_odds for s in scored)
    # exp(s) / (1 + sum exp(s)), computed stably.
    denominator = math.exp(-top) + sum(math.exp(s.log_odds - top) for s in scored)
    ranked = sorted(scored, key=lambda s: s.log_odds, reverse=True)
    for item in ranked[:MAX_CANDIDATES]:
        probability = math.exp(item.log_odds - top) / denominator
        if probability < SHOWN:
            break
        result.candidates.append(
            Candidate(
                household_id=item.household_id,
                number=item.profile["no"],
                public_id=item.profile["pid"],
                score=round(probability, 4),
                evidence=[e for e in item.evidence if e.field != "family_name" or e.how != "disagree"],
            )
        )
    best = ranked[0]
    said_only_names = set(result.fields_used) <= NAME_FIELDS
    result.abstained = not (
        result.candidates
        and result.candidates[0].score >= CREDIBLE
        and best.is_corroborated(said_only_names=said_only_names)
    )
    return result
