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

from madoguchi.identify import calibration
from madoguchi.identify.indexer import ensure_index, index_token
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
from madoguchi.identify.scoring import AGREEING_NAME, Evidence, PreparedQuery, Scored, score_household
from madoguchi.lib.sql import placeholders
from madoguchi.registry.models import Household

MAX_CANDIDATES = 5
SCORED_CANDIDATES = 20  # households fully scored per query
KEY_CAP = 200  # a key shared by more households only counts in combination with another
TIE_BREAK_LIMIT = 3000  # candidates from rare keys whose common keys are looked up before the cut
CREDIBLE = 0.5  # posterior the best household needs: likelier than all alternatives together
SHOWN = 0.01  # below this a candidate is noise, not worth an operator's glance
# Log-odds closer than this are the same evidence (the same weights summed in another order).
TIED = 1e-6
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
    # The items the household has on file to compare with (QUERY_FIELDS' names, a name field
    # for both its kanji and kana): which one more question could settle (`follow_up`). Names
    # of items only, never their values.
    on_file: frozenset[str] = frozenset()


@dataclass
class Result:
    candidates: list[Candidate] = field(default_factory=list)
    # No household is named: the first candidate is not sure enough to be the caller's.
    abstained: bool = True
    # The caller is judged to be one of the listed households (not necessarily which): what
    # a batch answer's non-empty list says (formats.md §2). Naming implies it.
    in_list: bool = False
    fields_used: list[str] = field(default_factory=list)
    # What the decision was taken on (calibration.FEATURES), the calibrated probability that
    # the first candidate is the caller's household and that the caller is in the list at all
    # (None: no fitted model).
    features: dict[str, float] = field(default_factory=dict)
    confidence: float | None = None
    listed: float | None = None
    # Searched on an index older than the list (a large import not yet reindexed).
    index_stale: bool = False

    @property
    def answer(self) -> list[Candidate]:
        """The batch answer's candidates (formats.md §2): all of them, best first, when the
        caller is judged in the list; none ("not in the target list") otherwise."""
        return self.candidates if self.in_list else []


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


def _reading_keys(spoken: SpokenName, readings: dict[str, set[str]]) -> list[str]:
    """Keys of the readings the list gives for the caller's kanji (可奈子 → gk:カナコ), so a
    name typed in other kanji of the same reading, or listed in kana only, is found."""
    keys: list[str] = []
    for prefix, part in (("f", spoken.family), ("g", spoken.given)):
        if part is not None and not part.is_kana:
            keys += [f"{prefix}k:{loose_key(r)}" for r in sorted(readings.get(part.text, ()))[:3]]
            keys += [f"{prefix}:{r}" for r in sorted(readings.get(part.text, ()))[:3]]
    return keys


def _name_fact(key: str, role: str) -> str:
    """The fact a name key stands for: the family name (one fact, whoever gave it, as the score
    counts it once per household), or this person's given or whole name. A part's kanji and
    its reading (f:南部, fk:ミナミベ) are one fact, not two."""
    prefix = key.split(":", 1)[0].rstrip("k")
    return "family" if prefix == "f" else f"{role} {'whole' if prefix == 'w' else 'given'}"


def blocking_facts(q: PreparedQuery) -> dict[str, str]:
    """The query's blocking keys, each with the fact it stands for (`_candidates` credits a
    household once per fact, by the rarest key of it that it shares)."""
    facts: dict[str, str] = {}

    def add(keys: Iterable[str], fact: str | None = None, role: str = "") -> None:
        for key in keys:
            if len(key) <= 160:
                facts.setdefault(key, fact or _name_fact(key, role))

    for role, names in (("guardian", q.guardian), ("child", q.child)):
        for spoken in names:
            add(_name_keys(spoken) + _reading_keys(spoken, q.readings), role=role)
    if q.child_dob:
        add([f"cd:{q.child_dob.isoformat()}"], "child dob")
    if q.guardian_dob:
        add([f"gd:{q.guardian_dob.isoformat()}"], "guardian dob")
    if q.address:
        add(address_block_keys(q.address), "address")
    if q.phone:
        add([f"t:{number}" for number in (q.phone, *phone_variants(q.phone))], "phone")
    if q.email:
        add([f"e:{q.email}"], "email")
    return facts


def phone_variants(phone: str) -> list[str]:
    """The numbers a misheard phone may have been (`scoring.phone_near`): two neighbouring
    digits swapped, or one digit wrong (the leading 0 kept). The score counts such a number as
    a near agreement; looked up too, the household is found when the phone is all that tells it
    from the others sharing its other items."""
    digits = list(phone)
    variants: list[str] = []
    for i in range(1, len(digits) - 1):
        if digits[i] != digits[i + 1]:
            swapped = [*digits]
            swapped[i], swapped[i + 1] = digits[i + 1], digits[i]
            variants.append("".join(swapped))
    for i in range(1, len(digits)):
        variants += [phone[:i] + d + phone[i + 1 :] for d in "0123456789" if d != phone[i]]
    return variants


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    # Plain SQL on the hot path: building ORM lookups for a few hundred keys cost more than
    # running the query.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _any(column: str, values: Iterable[Any], array_type: str = "text") -> tuple[str, list[Any]]:
    """`column` is one of `values`: `IN (%s, …)`, or on PostgreSQL `= ANY(%s)` with one array.

    A search's lists run to hundreds of keys: as hundreds of parameters, psycopg parsed each
    statement anew (it keeps only short ones) and PostgreSQL planned a list of constants."""
    items = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{array_type}[])", [items]
    return f"{column} IN ({', '.join(['%s'] * len(items))})", items


class KeyCounts:
    """How many households have each key, as one search has read them (IdentKeyStat): a key
    is read once per search, for blocking or for scoring, whichever asks first. A key the
    list does not have is remembered as absent."""

    def __init__(self, program_id: int) -> None:
        self.program_id = program_id
        self.known: dict[str, int] = {}
        self.asked: set[str] = set()

    def get(self, keys: Iterable[str]) -> dict[str, int]:
        """The counts of those of `keys` the list has."""
        keys = list(keys)
        missing = [key for key in keys if key not in self.asked]
        if missing:
            where, params = _any("key", missing)
            table = IdentKeyStat._meta.db_table
            sql = f"SELECT key, count FROM {table} WHERE program_id = %s AND {where}"  # noqa: S608
            self.known.update(_rows(sql, [self.program_id, *params]))  # type: ignore[arg-type]
            self.asked.update(missing)
        known = self.known
        return {key: known[key] for key in keys if key in known}


def _key_weight(count: int, n: int) -> float:
    """How much sharing a key says, for ranking candidates before they are scored."""
    return math.log((n + 1) / count)


NAME_FACTS = frozenset({"family", "guardian given", "child given", "guardian whole", "child whole"})


def _prescore(held: dict[str, float]) -> float:
    """A household's rank before scoring, from the facts it shares (`_name_fact`; each by its
    rarest key): their rarities summed, as the score adds independent items, with a person's
    whole name standing for their family and given name rather than beside them.

    A whole name is the family and the given name agreeing at once, and says no more than how
    many share it: a household listed without a space between family and given name has only
    its whole-name keys, so its unique whole name must outrank households that merely share
    the family name or a common given name (長﨑 裕子 against six 長崎 and forty 裕子). Counted
    beside its parts (twice, as it was, and the family and given name by their kanji and
    their readings as well: six times), 44 households named 佐藤 裕香 outranked the one whose
    full address, unique, the caller gave, and it was never scored."""
    if "guardian whole" not in held and "child whole" not in held:
        return sum(held.values())  # the same sum, for the hundreds of households without one
    family = held.get("family", 0.0)
    given = [held.get(f"{role} given", 0.0) for role in ("guardian", "child")]
    whole = [held.get(f"{role} whole", 0.0) for role in ("guardian", "child")]
    names = max(
        family + given[0] + given[1],
        whole[0] + given[1],
        given[0] + whole[1],
        whole[0] + whole[1] - family,
    )
    others = sum(weight for fact, weight in held.items() if fact not in NAME_FACTS)
    return names + others


# The tie-break can read the common keys' rows of the (program, key, household) index and keep
# the candidates' (SQLite does so by itself), or every key row of each candidate through the
# household index, from the table. PostgreSQL's planner preferred the latter for a few hundred
# candidates, three times slower at 100,000 households: there a candidate's rows cost about
# as much as HOUSEHOLD_ROWS rows of the key index (25 µs against 0.1 µs, on this machine).
# The counts of the common keys are known, so the engine chooses, and `+ 0` keeps PostgreSQL
# off the household index when the key index is the cheaper.
HOUSEHOLD_ROWS = 250


def _tie_break_household(common_rows: int, candidates: int) -> str:
    if connection.vendor == "postgresql" and common_rows <= HOUSEHOLD_ROWS * candidates:
        return "household_id + 0"
    return "household_id"


def _any_id(column: str, household_ids: Iterable[int]) -> tuple[str, list[Any]]:
    """`column` is one of these households, for `_tie_break_household`'s two paths.

    On the key index's path (`+ 0`) the ids are a filter over every row of the common keys
    (28,000 rows for a frequent given name at 1,000,000 households). As a parameter, the
    prepared statement's generic plan compared each row with every id in turn (60–220 ms
    against 250 ids); written into the statement as constants, PostgreSQL hashes them (2 ms),
    in a plan of its own or, should the same search recur until it is prepared, in the
    prepared one. The ids are integers read from the database, never text from a caller."""
    if column.endswith("+ 0"):
        constants = ",".join(str(int(household_id)) for household_id in household_ids)
        return f"{column} = ANY('{{{constants}}}'::bigint[])", []
    return _any(column, household_ids, "bigint")


def _candidates(
    program_id: int, facts: dict[str, str], n: int, key_counts: KeyCounts | None = None
) -> list[int]:
    """Households sharing the most informative facts with the query, best first.

    Rare keys (≤ KEY_CAP households) give candidates directly. Before any cut, the keys that
    were too common to fetch whole (a frequent given name, a birthday, a reading) are looked
    up for those candidates only, so that households tied on a rare key (50 households named
    佐藤 at 50,000) are told apart by the other keys rather than by database order. Common keys
    alone give candidates only in combination (households having two facts of them).

    `facts` maps each key to the fact it stands for (`blocking_facts`). A household is
    credited once per fact, by the rarest of its keys it shares: a family name by
    its kanji and by its reading, a town by its name and by its reading, are one fact. Counted
    twice, 29 households named 竹橋 outranked the one whose phone the caller gave (a unique
    key), and it was never scored."""
    if not facts:
        return []
    counts = (key_counts or KeyCounts(program_id)).get(facts)
    rare = [k for k, c in counts.items() if c <= KEY_CAP]
    common = [k for k, c in counts.items() if c > KEY_CAP]
    # Each key's weight once, not once per household having it (hundreds of rows a search).
    key_weights = {key: _key_weight(count, n) for key, count in counts.items()}
    shared: dict[int, dict[str, float]] = defaultdict(dict)

    def credit(rows: Iterable[tuple[Any, ...]]) -> None:
        for key, household_id in rows:
            fact, weight = facts[key], key_weights[key]
            held = shared[household_id]
            if weight > held.get(fact, 0.0):
                held[fact] = weight

    table = IdentKey._meta.db_table
    if rare:
        where, params = _any("key", rare)
        credit(
            _rows(
                f"SELECT key, household_id FROM {table} WHERE program_id = %s AND {where}",  # noqa: S608
                [program_id, *params],
            )
        )
    combinable = [k for k in common if counts[k] <= KEY_CAP * 10]
    combine = len({facts[k] for k in combinable}) >= 2 and len(shared) < SCORED_CANDIDATES
    if common and 0 < len(shared) <= TIE_BREAK_LIMIT and (len(shared) > SCORED_CANDIDATES or combine):
        # Break ties among the rare keys' households by the common keys they also have; and
        # before households having two common facts compete with them, credit them theirs
        # (a whole name's household in the town the caller said, against the town's 鈴木).
        where, params = _any("key", common)
        household = _tie_break_household(sum(counts[key] for key in common), len(shared))
        id_where, ids = _any_id(household, shared)
        credit(
            _rows(
                f"SELECT key, household_id FROM {table} WHERE program_id = %s AND {where} AND {id_where}",  # noqa: S608
                [program_id, *params, *ids],
            )
        )
    prescore = {household_id: _prescore(held) for household_id, held in shared.items()}
    if combine:
        # Common keys (a frequent family name, a birthday) only in combination, the rarer
        # combinations first.
        for household_id, weight in _combinations(program_id, combinable, facts, counts, n):
            if household_id not in prescore:
                prescore[household_id] = float(weight)
    # Equal facts rank by household id, whatever order their rarities were added in.
    ranked = sorted(prescore.items(), key=lambda item: (-round(item[1], 9), item[0]))
    return [household_id for household_id, _ in ranked[:SCORED_CANDIDATES]]


def _combinations(
    program_id: int, keys: list[str], facts: dict[str, str], counts: dict[str, int], n: int
) -> list[tuple[Any, ...]]:
    """Households having two facts among these common keys, by summed rarity (each fact by its
    rarest key), the best SCORED_CANDIDATES * 5 of them."""
    fact_ids = {fact: index for index, fact in enumerate(dict.fromkeys(facts[k] for k in keys))}
    marks, params = placeholders(keys)
    weights = " ".join("WHEN %s THEN %s" for _ in keys)
    fact_of = " ".join(f"WHEN %s THEN {fact_ids[facts[key]]}" for key in keys)
    weight_params: list[Any] = []
    for key in keys:
        weight_params += [key, _key_weight(counts[key], n)]
    table = IdentKey._meta.db_table
    return _rows(
        "SELECT household_id, SUM(weight) AS total FROM ("  # noqa: S608
        f"SELECT household_id, MAX(CASE key {weights} ELSE 0 END) AS weight FROM {table} "
        f"WHERE program_id = %s AND key IN ({marks}) GROUP BY household_id, CASE key {fact_of} END"
        ") AS facts GROUP BY household_id HAVING COUNT(*) >= 2 ORDER BY total DESC, household_id LIMIT %s",
        [*weight_params, program_id, *params, *keys, SCORED_CANDIDATES * 5],
    )


def identify(program_id: int, query: Query, *, rebuild_large: bool = True) -> Result:
    """The households the caller may belong to, best first, or an abstention.

    `rebuild_large=False` (web searches): a large list's stale index is searched as it is
    (`Result.index_stale`) rather than rebuilt inside the request (`indexer.ensure_index`)."""
    state = ensure_index(program_id, rebuild_large=rebuild_large)
    n = max(state.household_count, 1)
    prepared = prepare(query)
    prepared.readings = _readings(list_readings(program_id, index_token(state)), prepared)
    result = Result(fields_used=prepared.fields_used, index_stale=state.is_stale)
    key_counts = KeyCounts(program_id)
    ids = _candidates(program_id, blocking_facts(prepared), n, key_counts)
    if not ids:
        return result
    profiles = load_candidate_profiles(program_id, ids)
    _attach_counts(key_counts, profiles, _count_prefixes(prepared))
    scored = [score_household(hid, profiles[hid], prepared, n) for hid in ids if hid in profiles]
    return rank(scored, result, n=n, readable=_readable_fields(prepared))


def _readable_fields(q: PreparedQuery) -> list[str]:
    """The items said that could be read (an unreadable date says nothing)."""
    values = {
        "guardian_name": q.guardian,
        "child_name": q.child,
        "child_dob": q.child_dob,
        "guardian_dob": q.guardian_dob,
        "address": q.address,
        "phone": q.phone,
        "email": q.email,
    }
    readable = [name for name in q.fields_used if name not in values or values[name]]
    return [
        name
        for name in readable
        if not (name.endswith("_kana") and not values[name.replace("_kana", "_name")])
    ]


def load_candidate_profiles(program_id: int, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The comparison profiles of the candidate households: the one place where households
    are loaded for scoring (a rule that keeps a household from being offered belongs here).

    Households whose use a ward manager suspended (APPI; issue #10) are left out here: the
    panel, the standalone page and the screen-pop API all get their candidates from
    `identify()`."""
    if not ids:
        return {}
    where, params = _any("p.household_id", ids, "bigint")
    # By household id alone (the one-to-one's unique index), the program compared on the row:
    # given `program_id = %s` as well, SQLite read the program's index instead, every profile of
    # the list (45 ms a search at 50,000 households).
    return {
        household_id: json.loads(data) if isinstance(data, str) else data
        for household_id, row_program_id, data in _rows(
            f"SELECT p.household_id, p.program_id, p.data FROM {IdentProfile._meta.db_table} p "  # noqa: S608
            f"JOIN {Household._meta.db_table} h ON h.id = p.household_id "
            f"WHERE {where} AND h.suspended_at IS NULL",
            params,
        )
        if row_program_id == program_id
    }


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


def _attach_counts(
    key_counts: KeyCounts, profiles: dict[int, dict[str, Any]], prefixes: tuple[str, ...]
) -> None:
    """Give each profile the number of households sharing each of its keys (`c`)."""
    wanted = {
        key for profile in profiles.values() for key in profile.get("k", []) if key.startswith(prefixes)
    }
    counts = key_counts.get(wanted)
    for profile in profiles.values():
        profile["c"] = {key: counts.get(key, 1) for key in profile.get("k", []) if key in wanted}


# The readings each program's list gives (IdentReading: a few thousand pairs at 50,000
# households), kept by the process with the index content they were read from.
_LIST_READINGS: dict[int, tuple[Any, dict[str, frozenset[str]]]] = {}


def list_readings(program_id: int, token: Any) -> dict[str, frozenset[str]]:
    """Every (text → readings) of the program's list, read once per index content (`token`:
    `indexer.index_token`) instead of once per search."""
    cached = _LIST_READINGS.get(program_id)
    if cached is not None and cached[0] == token:
        return cached[1]
    pairs: dict[str, set[str]] = defaultdict(set)
    table = IdentReading._meta.db_table
    for text, reading in _rows(f"SELECT text, reading FROM {table} WHERE program_id = %s", [program_id]):  # noqa: S608
        pairs[text].add(reading)
    readings = {text: frozenset(values) for text, values in pairs.items()}
    _LIST_READINGS[program_id] = (token, readings)
    return readings


def _readings(known: dict[str, frozenset[str]], q: PreparedQuery) -> dict[str, set[str]]:
    """Readings the list knows for every piece of kanji the caller used in a name."""
    texts: set[str] = set()
    for spoken in q.guardian + q.child:
        for part in (spoken.family, spoken.given, spoken.whole):
            if part is None or part.is_kana or len(part.text) > 8:
                continue
            text = part.text
            texts.update(text[i:j] for i in range(len(text)) for j in range(i + 1, len(text) + 1))
    return {text: set(known[text]) for text in texts if text in known}


def rank(scored: list[Scored], result: Result, *, n: int = 1, readable: list[str] | None = None) -> Result:
    """Posteriors over "one of these households, or nobody in the list"; abstain when weak.

    The first candidate is named only when the calibrated probability that it is the
    caller's household (`calibration`) reaches the threshold; without a fitted model, when
    its posterior is at least CREDIBLE and two independent items corroborate it. Apart from
    that, `in_list` says whether the caller is one of the listed households at all (the
    second calibrated model): a batch answer is empty only when it is not, so two
    households that fit a caller equally well are listed, neither named."""
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
                on_file=items_on_file(item.profile),
            )
        )
    best = ranked[0]
    if readable is None:
        readable = result.fields_used
    said_only_names = set(readable) <= NAME_FIELDS
    corroborated = best.is_corroborated(said_only_names=said_only_names)
    if not result.candidates:
        return result
    posterior = result.candidates[0].score
    second = ranked[1].log_odds if len(ranked) > 1 else best.log_odds - 30
    result.features = decision_features(
        best,
        gap=best.log_odds - second,
        posterior=posterior,
        corroborated=corroborated,
        only_names=said_only_names,
        n=n,
        readable=readable,
    )
    result.confidence = calibration.probability(result.features)
    # Two households the caller's words fit exactly as well are a coin flip, never a name,
    # whatever the threshold: the tie bound makes such a first one chance in two, which a
    # threshold of one half (a model without thresholds, or a size whose tuning sets allow
    # it) would still name, the first by household id.
    tied = len(ranked) > 1 and best.log_odds - ranked[1].log_odds < TIED
    if result.confidence is None:
        result.abstained = tied or not (posterior >= CREDIBLE and corroborated)
        result.in_list = not result.abstained
        return result
    result.candidates[0].score = round(result.confidence, 4)
    for candidate in result.candidates[1:]:
        candidate.score = min(candidate.score, result.candidates[0].score)
    # Whatever the model says, one item alone (a birth date, a family name, an address) never
    # names a household: two items agree, a whole name counting as two (family and given).
    supported = result.features["supporting_items"] >= 2
    sure = supported and not tied and result.confidence >= calibration.threshold(households=n)
    # Whether the caller is in the list at all is its own question (`calibration.
    # listed_probability`): two households the caller fits equally well are a coin flip
    # between them, not a caller from outside the list.
    result.listed = calibration.listed_probability(result.features)
    if result.listed is None:
        result.in_list = sure
    else:
        result.in_list = supported and result.listed >= calibration.listed_threshold(households=n)
    result.abstained = not (sure and result.in_list)
    return result


def items_on_file(profile: dict[str, Any]) -> frozenset[str]:
    """What a household's profile (`indexer.household_profile`) holds to compare a caller's
    item with: a guardian's or a child's name and date of birth, an address, a phone, an
    e-mail."""
    people = profile.get("p", [])
    items = set()
    for person in people:
        role = "guardian" if person.get("r") == "g" else "child"
        if person.get("f") or person.get("g") or person.get("w") or person.get("wk"):
            items.add(f"{role}_name")
        if person.get("d"):
            items.add(f"{role}_dob")
    address = profile.get("a") or {}
    if address.get("t") or address.get("n"):
        items.add("address")
    if profile.get("t"):
        items.add("phone")
    if profile.get("e"):
        items.add("email")
    return frozenset(items)


NAME_EVIDENCE = frozenset({"family_name", "guardian_name", "child_name"})


def decision_features(
    best: Scored,
    *,
    gap: float,
    posterior: float,
    corroborated: bool,
    only_names: bool,
    n: int,
    readable: list[str],
) -> dict[str, float]:
    """The features of `calibration.FEATURES` for the best-scored household (and
    `supporting_items`, the floor `rank` applies whatever the model says)."""
    evidence = best.evidence
    compared = {e.field for e in evidence}
    said = {"guardian_name" if name == "guardian_kana" else "child_name" if name == "child_kana" else name
            for name in readable}  # fmt: skip
    # Items said that the household has nothing on file to compare with (an e-mail, a phone):
    # they neither confirm nor contradict, which a caller who is not in the list can also do.
    unconfirmed = len(
        said - compared - ({"guardian_name", "child_name"} if "family_name" in compared else set())
    )
    agreeing = {e.field for e in evidence if e.weight > 0 and e.how != "disagree"} - {"family_name"}
    clipped = min(max(posterior, 1e-6), 1 - 1e-6)
    name_weight = sum(e.weight for e in evidence if e.field in NAME_EVIDENCE and e.weight > 0)
    non_name_agreeing = len(agreeing - NAME_EVIDENCE)
    disagreeing = sum(1 for e in evidence if e.how == "disagree" or e.weight < 0)
    return {
        "log_odds": max(-30.0, min(60.0, best.log_odds)),
        "gap": max(0.0, min(30.0, gap)),
        "posterior_logit": math.log(clipped / (1 - clipped)),
        "name_weight": name_weight,
        "other_weight": sum(e.weight for e in evidence if e.field not in NAME_EVIDENCE and e.weight > 0),
        "against_weight": sum(e.weight for e in evidence if e.weight < 0),
        "agreeing_items": float(len(agreeing)),
        "agreeing_non_name_items": float(non_name_agreeing),
        "disagreeing_items": float(disagreeing),
        "corroborated": float(corroborated),
        "only_names": float(only_names),
        "log_households": math.log(max(n, 1)),
        "fields_said": float(len(readable)),
        "unconfirmed_items": float(unconfirmed),
        "family_agrees": float(
            any(e.field == "family_name" and e.how in AGREEING_NAME and e.weight > 0 for e in evidence)
        ),
        "family_disagrees": float(any(e.field == "family_name" and e.how == "disagree" for e in evidence)),
        # A name that nothing else supports, and one that something else contradicts: a
        # namesake's pattern, which the sum of log-likelihood ratios overrates.
        "name_alone": name_weight if non_name_agreeing == 0 else 0.0,
        "name_contradicted": name_weight if non_name_agreeing == 0 and disagreeing else 0.0,
        "supporting_items": float(best.supporting_items),
        **calibration.evidence_features((e.field, e.how, e.weight) for e in evidence),
    }
