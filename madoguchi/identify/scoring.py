"""Score one candidate household against what the caller said (Fellegi-Sunter).

Each field comparison ends in an agreement level; each level has a probability under "this is
the caller's household" (m) and under "it is some other household" (u). The score adds the
log-likelihood ratios log(m/u) to the prior log-odds of one given household, so the result is
a log-odds that turns into a probability the abstention threshold can be set on.

* u of an exact agreement is how common the value is in this list (IdentKeyStat counts), with a
  floor for how common it is in the population: a name unique in a small list is still shared
  by many people who call.
* m of a disagreement is how often a real caller's value differs from the list: someone other
  than the registered guardian calls, a family moved, a digit is misheard. A disagreement
  lowers the score but never vetoes alone.
* The names of the people in one household are not independent (a family shares its family
  name), so the family name counts once per household, whichever member it came from.

The m values are set from how the noise in calls is described (see docs/identification.md),
not fitted to the development set.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from madoguchi.identify.normalize import NamePart, SpokenName, kana_near_key, loose_key
from madoguchi.lib.address import AddressKeys


class Level(IntEnum):
    MISSING = 0
    DISAGREE = 1
    FUZZY = 2
    HOMOPHONE = 3  # other kanji, same reading (the list itself teaches 可奈子 = カナコ)
    LOOSE = 4  # readings equal only when long vowels are ignored (ユキ/ユウキ)
    READING = 5  # readings equal (ユーキ/ユウキ, ヴ/ブ, small kana folded)
    EXACT = 6  # same characters once variant kanji are folded (髙/高)


# P(level | same household) for name parts; exact and reading share "the name agrees".
M_FAMILY = {
    Level.EXACT: 0.90,
    Level.READING: 0.90,
    Level.LOOSE: 0.03,
    Level.HOMOPHONE: 0.10,  # heard on the phone and typed in the common kanji
    Level.FUZZY: 0.03,
    Level.DISAGREE: 0.04,
}
M_GUARDIAN_GIVEN = {
    Level.EXACT: 0.85,
    Level.READING: 0.85,
    Level.LOOSE: 0.03,
    Level.HOMOPHONE: 0.10,
    Level.FUZZY: 0.04,
    Level.DISAGREE: 0.08,  # the other parent calls
}
M_CHILD_GIVEN = {
    Level.EXACT: 0.88,
    Level.READING: 0.88,
    Level.LOOSE: 0.03,
    Level.HOMOPHONE: 0.10,
    Level.FUZZY: 0.04,
    Level.DISAGREE: 0.05,
}
# The caller's family name disagrees with the guardian's and with the child's.
M_FAMILY_BOTH_DISAGREE = 0.005
U_FUZZY_NAME = 0.02
U_NAME_FLOOR = 2e-5  # no name is rarer than this among callers
# Callers not in the list who have exactly a listed guardian's whole name, per listed
# guardian: about a third of the callers not in the list are such namesakes (the synthetic
# population's share, bench/identify_synth.py), and they are namesakes of any listed
# household alike, so a whole name is shared with callers at NAMESAKE_SHARE / N at least.
NAMESAKE_SHARE = 0.3
W_NAME_TOKEN = 0.05  # an agreeing name part that adds nothing beyond the other part
U_DISAGREE = 0.97

M_DOB = {"exact": 0.92, "near": 0.04, "disagree": 0.04}
M_GUARDIAN_DOB_DISAGREE = 0.06  # the caller gives their own date, not the registered guardian's
# ... and when the caller's given name is not the guardian's either, another adult of the
# household is calling (M_GUARDIAN_GIVEN[DISAGREE]) and gives their own date of birth: the two
# disagreements are one fact, so the date's is nearly as likely as for another household.
M_GUARDIAN_DOB_OTHER_CALLER = 0.90
# "near" = day and month swapped, the year off by one, or the day off by one or two: about
# one date in two hundred of a three-year birth window is that close by chance.
U_DOB_NEAR = 0.005
U_DOB_FLOOR = 3e-5

M_ADDRESS = {"full": 0.85, "block_near": 0.03, "chome": 0.03, "town": 0.03, "disagree": 0.06}
U_TOWN = 0.03
U_ADDRESS_FLOOR = 1e-5
M_ROOM = {"agree": 0.95, "disagree": 0.05}
U_ROOM = {"agree": 0.05, "disagree": 0.95}

M_PHONE = {"exact": 0.85, "disagree": 0.10}
W_PHONE_NEAR = 4.0  # one digit misheard: strong, but an error is not proof
M_EMAIL = {"exact": 0.80, "disagree": 0.25}
# Another adult of the household calling (the guardian's given name disagrees) gives their own
# phone and e-mail, not the registered ones (the development sets' such callers: 53 of 53
# phones, 17 of 17 e-mails): as for the date of birth, the contact's disagreement is the same
# fact as the given name's, nearly as likely as for another household, not a second miss.
M_CONTACT_OTHER_CALLER = 0.90
W_EMAIL_NEAR = 4.0
U_CONTACT_FLOOR = 1e-6

# Share of callers who are in the list; the engine is meant for the list's own callers.
PRIOR_IN_LIST = 0.8


@dataclass
class PreparedQuery:
    guardian: list[SpokenName] = field(default_factory=list)
    child: list[SpokenName] = field(default_factory=list)
    child_dob: datetime.date | None = None
    guardian_dob: datetime.date | None = None
    address: AddressKeys | None = None
    phone: str = ""
    email: str = ""
    fields_used: list[str] = field(default_factory=list)
    # Readings the list gives for kanji the caller used: {"可奈子": {"カナコ"}}.
    readings: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Evidence:
    field: str  # guardian_name, child_name, child_dob, guardian_dob, address, phone, email
    how: str  # exact, variant, reading, loose, fuzzy, partial, disagree
    weight: float


@dataclass
class Scored:
    household_id: int
    log_odds: float
    evidence: list[Evidence]
    profile: dict[str, Any]
    # The family name the caller gave disagrees for the guardian and for the child alike.
    family_disagrees_everywhere: bool = False

    @property
    def agreeing_groups(self) -> int:
        """Independent items that agree (a family name alone is not one).

        When the caller's family name disagrees with the guardian's and the child's alike, no
        other parent or changed surname explains it: the given names that agree are then one
        item together (common given names of another family), not two."""
        groups = {e.field for e in self.evidence if e.weight > 0 and e.how != "disagree"}
        groups.discard("family_name")
        if self.family_disagrees_everywhere and {"guardian_name", "child_name"} <= groups:
            groups.discard("child_name")
        return len(groups)

    @property
    def supporting_items(self) -> int:
        """Agreeing items with the family name counted as one when it agrees: a whole name is
        two (family and given), a family name with an address two, a birth date or a family
        name alone one. The floor under any decision to name a household."""
        family_agrees = any(
            e.field == "family_name" and e.how in AGREEING_NAME and e.weight > 0 for e in self.evidence
        )
        return self.agreeing_groups + int(family_agrees)

    def is_corroborated(self, *, said_only_names: bool) -> bool:
        """Enough independent support to name a household: two agreeing items, or a whole
        name (family and given) when names are all the caller said and nothing contradicts.

        A name is one item however it is written. When the caller also said something the list
        cannot confirm (an e-mail where the household has none on file), the name stays alone:
        the operator asks one more question rather than the engine guessing."""
        if self.agreeing_groups >= 2:
            return True
        if not said_only_names:
            return False
        fields = {e.field: e for e in self.evidence}
        whole_name = all(
            name in fields and fields[name].how in AGREEING_NAME for name in ("family_name", "guardian_name")
        ) or all(
            name in fields and fields[name].how in AGREEING_NAME for name in ("family_name", "child_name")
        )
        contradicted = any(e.how == "disagree" or e.weight < 0 for e in self.evidence)
        return whole_name and not contradicted


def _w(m: float, u: float) -> float:
    return math.log(m / u)


def _freq(profile: dict[str, Any], key: str, n: int, floor: float) -> float:
    count = profile.get("c", {}).get(key, 1)
    # Capped: in a tiny list every value is "common", yet agreeing is never evidence against.
    return min(max(count / max(n, 1), floor), 0.5)


# --- names -----------------------------------------------------------------------------


def _kana_level(q: str, target: str) -> Level:
    if not target:
        return Level.MISSING
    if q == target or kana_near_key(q) == kana_near_key(target):
        return Level.READING
    if loose_key(q) == loose_key(target):
        return Level.LOOSE
    if len(q) >= 3 and fuzz.ratio(kana_near_key(q), kana_near_key(target)) >= 80:
        return Level.FUZZY
    return Level.DISAGREE


def _is_kana_text(text: str) -> bool:
    return bool(text) and all("\u30a1" <= ch <= "\u30fe" for ch in text)


def part_level(q: NamePart, kanji: str, kana: str, readings: dict[str, set[str]] | None = None) -> Level:
    """Compare one name part with a registered person's (kanji, reading) of the same part."""
    if q.is_kana or _is_kana_text(q.text):  # a reading, or a given name typed in kana
        if kana:
            return _kana_level(q.text, kana)
        if _is_kana_text(kanji):  # the list wrote the name itself in katakana
            return _kana_level(q.text, kanji)
        return Level.MISSING
    if not kanji or _is_kana_text(kanji):
        # The list holds this part in kana only: compare through the readings the list
        # gives for the caller's kanji elsewhere (花 → ハナ), when it gives any.
        listed = kana or (kanji if _is_kana_text(kanji) else "")
        known = readings.get(q.text) if readings else None
        if not listed or not known:
            return Level.MISSING
        target = kana_near_key(listed)
        if any(kana_near_key(r) == target for r in known):
            return Level.HOMOPHONE
        return Level.DISAGREE
    if q.text == kanji:
        return Level.EXACT
    if kana and readings and q.text in readings:
        target = kana_near_key(kana)
        if any(kana_near_key(r) == target for r in readings[q.text]):
            return Level.HOMOPHONE
    if len(q.text) >= 2 and len(kanji) >= 2 and fuzz.ratio(q.text, kanji) >= 66:
        return Level.FUZZY
    return Level.DISAGREE


def _whole_level(
    q: NamePart, person: dict[str, Any], readings: dict[str, set[str]] | None = None
) -> tuple[Level, Level]:
    """(family, given) levels of a name typed without a space."""
    if q.is_kana:
        fam, giv, whole = person["fk"], person["gk"], person["wk"]
        if not whole and _is_kana_text(person["w"]):
            fam, giv, whole = person["f"], person["g"], person["w"]
        if not whole:
            return Level.MISSING, Level.MISSING
        qn = kana_near_key(q.text)
        if _kana_level(q.text, whole) >= Level.LOOSE:
            level = _kana_level(q.text, whole)
            return level, level
        if fam and qn.startswith(kana_near_key(fam)) and len(qn) > len(kana_near_key(fam)):
            rest = qn[len(kana_near_key(fam)) :]
            return Level.READING, _kana_level(rest, giv) if giv else Level.MISSING
        if giv and qn.endswith(kana_near_key(giv)) and len(qn) > len(kana_near_key(giv)):
            head = qn[: len(qn) - len(kana_near_key(giv))]
            return (_kana_level(head, fam) if fam else Level.MISSING), Level.READING
        if giv:
            level = _kana_level(q.text, giv)
            if level >= Level.FUZZY:
                return Level.MISSING, level
        if fam and _kana_level(q.text, fam) >= Level.LOOSE:
            return _kana_level(q.text, fam), Level.MISSING
        if not fam and not giv:
            split = _unsplit_part(qn, kana_near_key(whole), shortest_family=2)
            if split is not None:
                return (Level.READING, Level.MISSING) if split == "family" else (Level.MISSING, Level.READING)
        if len(q.text) <= 4:
            return Level.MISSING, Level.DISAGREE
        return Level.DISAGREE, Level.DISAGREE
    fam, giv, whole = person["f"], person["g"], person["w"]
    if not whole or _is_kana_text(whole):
        return Level.MISSING, Level.MISSING
    text = q.text
    if text == whole:
        return Level.EXACT, Level.EXACT
    fk, gk = person["fk"], person["gk"]
    if fam and text.startswith(fam) and len(text) > len(fam):
        return Level.EXACT, part_level(NamePart(text[len(fam) :], False), giv, gk, readings)
    if giv and text.endswith(giv) and len(text) > len(giv):
        return part_level(NamePart(text[: -len(giv)], False), fam, fk, readings), Level.EXACT
    if giv and text == giv:
        return Level.MISSING, Level.EXACT
    if fam and text == fam:
        return Level.EXACT, Level.MISSING
    if not fam and not giv:
        split = _unsplit_part(text, whole, shortest_family=1)
        if split is not None:
            return (Level.EXACT, Level.MISSING) if split == "family" else (Level.MISSING, Level.EXACT)
    if readings and fk and gk:
        # Both parts in other kanji of the same reading: try each cut the list knows.
        for cut in range(1, len(text)):
            head, rest = text[:cut], text[cut:]
            if head in readings and rest in readings:
                fam_level = part_level(NamePart(head, False), fam, fk, readings)
                giv_level = part_level(NamePart(rest, False), giv, gk, readings)
                if fam_level >= Level.HOMOPHONE and giv_level >= Level.HOMOPHONE:
                    return fam_level, giv_level
    if giv:
        level = part_level(q, giv, gk, readings)
        if level in (Level.FUZZY, Level.HOMOPHONE):
            return Level.MISSING, level
    if len(text) <= 2:
        return Level.MISSING, Level.DISAGREE
    if fuzz.ratio(text, whole) >= 75:
        return Level.FUZZY, Level.FUZZY
    return Level.DISAGREE, Level.DISAGREE


def _unsplit_part(said: str, whole: str, *, shortest_family: int) -> str | None:
    """ "given" or "family" when a name part said on its own begins or ends a name the list
    writes without a space (真綾 for 石谷真綾, マアヤ for イシタニマアヤ), else None.

    Nothing tells where such a name splits, so a given name said alone (a child's, often)
    used to be compared with the whole name and counted as a disagreement. A family name is
    one to three kanji (two to six kana), and so is the rest; the part said is at least two
    characters, or one kanji after two or more."""
    rest = len(whole) - len(said)
    if not shortest_family <= rest <= 3 * shortest_family:
        return None
    if whole.endswith(said) and (len(said) >= 2 or rest >= 2):
        return "given"
    if whole.startswith(said) and len(said) >= 2:
        return "family"
    return None


def name_levels(
    names: list[SpokenName], person: dict[str, Any], readings: dict[str, set[str]] | None = None
) -> tuple[Level, Level]:
    """Best (family, given) levels of everything said about one person's name."""
    best_fam, best_giv = Level.MISSING, Level.MISSING
    for spoken in names:
        if spoken.whole is not None:
            fam, giv = _whole_level(spoken.whole, person, readings)
        else:
            fam = (
                part_level(spoken.family, person["f"], person["fk"], readings)
                if spoken.family
                else Level.MISSING
            )
            giv = (
                part_level(spoken.given, person["g"], person["gk"], readings)
                if spoken.given
                else Level.MISSING
            )
            if not person["f"] and not person["fk"] and spoken.family and spoken.given:
                # Registered without a space: compare the joined name.
                joined = NamePart(spoken.family.text + spoken.given.text, spoken.family.is_kana)
                if spoken.family.is_kana == spoken.given.is_kana:
                    fam, giv = _whole_level(joined, person, readings)
        best_fam, best_giv = max(best_fam, fam), max(best_giv, giv)
    return best_fam, best_giv


def _name_weight(
    level: Level,
    m_table: dict[Level, float],
    profile: dict[str, Any],
    person: dict[str, Any],
    part: str,
    n: int,
) -> float:
    if level == Level.MISSING:
        return 0.0
    m = m_table[level]
    if level == Level.DISAGREE:
        return _w(m, U_DISAGREE)
    if level == Level.FUZZY:
        return _w(m, U_FUZZY_NAME)
    prefix = "f" if part == "family" else "g"
    kanji, kana = person[prefix], person[prefix + "k"]
    if (level == Level.EXACT and kanji) or (kanji and not kana and _is_kana_text(kanji)):
        key = f"{prefix}:{kanji}"
    elif kana:
        key = f"{prefix}k:{loose_key(kana)}"
    else:
        # Listed without a space: only the whole name's frequency is known. It is the
        # frequency of family and given name together, so each part takes half of its
        # log-rarity; charged to both in full, a household listed without a space would
        # outweigh its namesake listed with one by the whole name's rarity a second time.
        key = f"w:{person['w']}" if person["w"] else f"wk:{loose_key(person['wk'])}"
        count = profile.get("c", {}).get(key, 1)
        return _w(m, min(max(math.sqrt(count / max(n, 1)), U_NAME_FLOOR), 0.5))
    return _w(m, _freq(profile, key, n, U_NAME_FLOOR))


def _shared_whole_name(
    fam: Level, giv: Level, wf: float, wg: float, profile: dict[str, Any], person: dict[str, Any], n: int
) -> tuple[float, float]:
    """The family and the given name weights of a whole name that agrees, bounded by how many
    others have exactly that whole name: the other households of the list, and the callers
    who are not in the list but have a listed guardian's name.

    Family and given name are weighed as independent, which is right for the list's other
    households when nobody else in the list has the name; but agreeing on a whole name tells
    the household from its namesakes no better than 1 in (their number + 1), however rare each
    part is. And namesakes call who are not in the list: about a third of such callers have
    exactly a listed guardian's name, whichever name it is (a rare name is as likely to have a
    namesake calling as a common one: the namesake calls because of the list's household, not
    because of the name's frequency). So the pair weighs at most log(m / ((others +
    NAMESAKE_SHARE) / N)); at 2,000 households a name the list has once weighed up to 10.5 by
    its parts' rarity, where its namesakes' rate allows 8.4. The given name then adds only
    what is left (never below a token amount: it does agree)."""
    if fam < Level.READING or giv < Level.READING:
        return wf, wg
    if fam == Level.EXACT and giv == Level.EXACT and person["w"]:
        key = f"w:{person['w']}"
    elif person["wk"]:
        key = f"wk:{loose_key(person['wk'])}"
    else:
        return wf, wg
    others = max(profile.get("c", {}).get(key, 1) - 1, 0)
    m = M_FAMILY[fam] * M_GUARDIAN_GIVEN[giv]
    pair = _w(m, min((others + NAMESAKE_SHARE) / max(n, 1), 0.5))
    if not person["f"] and not person["fk"]:
        # Listed without a space, the parts weigh halves of the whole name's rarity
        # (`_name_weight`), which counts the household itself: less than the same whole name
        # listed with a space, so of two households with the caller's whole name, spaced and
        # not, the spaced one came first and could be named. The whole name weighs by how
        # many share it, whichever way it is written.
        return pair - W_NAME_TOKEN, W_NAME_TOKEN
    if wf + wg <= pair:
        return wf, wg
    family = min(wf, pair)
    return family, max(pair - family, W_NAME_TOKEN)


AGREEING_NAME = frozenset({"exact", "reading", "loose", "homophone"})

_HOW = {
    Level.EXACT: "exact",
    Level.HOMOPHONE: "homophone",
    Level.READING: "reading",
    Level.LOOSE: "loose",
    Level.FUZZY: "fuzzy",
    Level.DISAGREE: "disagree",
}


# --- dates, address, contacts ----------------------------------------------------------


def date_level(q: datetime.date, registered: str) -> str:
    if not registered:
        return "missing"
    r = datetime.date.fromisoformat(registered)
    if q == r:
        return "exact"
    swapped = q.year == r.year and q.month == r.day and q.day == r.month
    year_off = abs(q.year - r.year) == 1 and (q.month, q.day) == (r.month, r.day)
    day_off = (q.year, q.month) == (r.year, r.month) and abs(q.day - r.day) <= 2
    return "near" if swapped or year_off or day_off else "disagree"


def _date_weight(level: str, key: str, profile: dict[str, Any], n: int, m_disagree: float) -> float:
    if level == "exact":
        return _w(M_DOB["exact"], _freq(profile, key, n, U_DOB_FLOOR))
    if level == "near":
        return _w(M_DOB["near"], U_DOB_NEAR)
    if level == "disagree":
        return _w(m_disagree, U_DISAGREE)
    return 0.0


def _room_agrees(q: AddressKeys, building: str, room: str) -> bool:
    return q.room == room or (building + room).endswith(q.room) or room.endswith(q.room)


def address_evidence(q: AddressKeys, profile: dict[str, Any], n: int) -> Evidence | None:
    a = profile["a"]
    if q.is_empty or not (a["t"] or a["tk"]):
        return None
    town_agrees = bool((q.town and q.town == a["t"]) or (q.town_kana and q.town_kana == a["tk"]))
    if not town_agrees and q.town and a["t"] and not (q.town_kana and a["tk"]) and not q.area:
        # A town name written slightly differently (ヶ/ケ are already folded).
        town_agrees = fuzz.ratio(q.town, a["t"]) >= 80
    # A station or area name (二子玉川, 下北沢) said instead of the town: it agrees with each
    # town it lies in, as loosely as a town alone when it spans several.
    in_area = not town_agrees and bool(a["t"]) and a["t"] in q.area
    if in_area and q.numbers and not q.town_is_place:
        in_area = False  # 三軒茶屋2-… is the town 三軒茶屋; only a place's name alone is an area
    if not (town_agrees or in_area):
        return Evidence("address", "disagree", _w(M_ADDRESS["disagree"], U_DISAGREE))
    town = a["t"] or a["tk"]
    prefix = "a" if a["t"] else "ak"
    qn, rn = q.numbers, a["n"]
    if not qn:
        spread = max(1, len(q.area)) if in_area or q.area else 1
        return Evidence("address", "partial", _w(0.9, min(0.5, U_TOWN * spread)))
    agree = 0
    for x, y in zip(qn, rn, strict=False):
        if x != y:
            break
        agree += 1
    if agree == len(qn) and len(qn) <= len(rn):
        if len(qn) >= 3:
            weight = _w(
                M_ADDRESS["full"],
                _freq(profile, f"{prefix}:{town}|{'-'.join(map(str, rn[:3]))}", n, U_ADDRESS_FLOOR),
            )
            how = "exact"
            if q.room and a["r"]:
                room_level = "agree" if _room_agrees(q, a["b"], a["r"]) else "disagree"
                weight += _w(M_ROOM[room_level], U_ROOM[room_level])
                if room_level == "disagree":
                    how = "partial"
            return Evidence("address", how, weight)
        u = _freq(profile, f"{prefix}:{town}|{rn[0]}", n, U_ADDRESS_FLOOR)
        if len(qn) == 2:
            u /= 20
        return Evidence("address", "partial", _w(0.85, u))
    if agree >= 2:
        return Evidence(
            "address",
            "fuzzy",
            _w(M_ADDRESS["block_near"], _freq(profile, f"{prefix}:{town}|{rn[0]}", n, U_ADDRESS_FLOOR) / 20),
        )
    if agree == 1:
        return Evidence(
            "address",
            "fuzzy",
            _w(M_ADDRESS["chome"], _freq(profile, f"{prefix}:{town}|{rn[0]}", n, U_ADDRESS_FLOOR)),
        )
    return Evidence("address", "disagree", _w(M_ADDRESS["town"], U_TOWN))


def phone_near(registered: str, q: str) -> bool:
    """One digit misheard, or two neighbouring digits swapped (0901234**65**78 for …5678)."""
    if len(registered) != len(q):
        return False
    diff = [i for i, (a, b) in enumerate(zip(registered, q, strict=True)) if a != b]
    if len(diff) <= 1:
        return True
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and registered[diff[0]] == q[diff[1]]
        and registered[diff[1]] == q[diff[0]]
    )


def phone_evidence(
    q: str, profile: dict[str, Any], n: int, *, m_disagree: float = M_PHONE["disagree"]
) -> Evidence | None:
    phones: list[str] = profile["t"]
    if not q or not phones:
        return None
    if q in phones:
        return Evidence("phone", "exact", _w(M_PHONE["exact"], _freq(profile, f"t:{q}", n, U_CONTACT_FLOOR)))
    near = [p for p in phones if phone_near(p, q)]
    if near:
        # Never more than an exact agreement would weigh, halved: in a small list an exact
        # phone is worth little (u is capped), and a neighbour's number one digit away must
        # not outweigh the caller's own.
        exact = max(_w(M_PHONE["exact"], _freq(profile, f"t:{p}", n, U_CONTACT_FLOOR)) for p in near)
        return Evidence("phone", "fuzzy", min(W_PHONE_NEAR, exact - math.log(2)))
    return Evidence("phone", "disagree", _w(m_disagree, U_DISAGREE))


def email_evidence(
    q: str, profile: dict[str, Any], n: int, *, m_disagree: float = M_EMAIL["disagree"]
) -> Evidence | None:
    emails: list[str] = profile["e"]
    if not q or not emails:
        return None
    if q in emails:
        return Evidence("email", "exact", _w(M_EMAIL["exact"], _freq(profile, f"e:{q}", n, U_CONTACT_FLOOR)))
    near = [e for e in emails if Levenshtein.distance(e, q) <= 2]
    if near:
        exact = max(_w(M_EMAIL["exact"], _freq(profile, f"e:{e}", n, U_CONTACT_FLOOR)) for e in near)
        return Evidence("email", "fuzzy", min(W_EMAIL_NEAR, exact - math.log(2)))
    return Evidence("email", "disagree", _w(m_disagree, U_DISAGREE))


# --- the household ---------------------------------------------------------------------


def score_household(household_id: int, profile: dict[str, Any], q: PreparedQuery, n: int) -> Scored:
    evidence: list[Evidence] = []
    people = profile["p"]
    guardians = [p for p in people if p["r"] == "g"]
    children = [p for p in people if p["r"] == "c"]

    family_best: tuple[float, Level] = (0.0, Level.MISSING)
    guardian_family = child_family = Level.MISSING
    # The guardian's whole name is shared with other households of the list, so its weight is
    # bounded by how many share it (`_shared_whole_name`): the family name is part of that
    # bound, and the child's family name (the same name) must not bring it back in full.
    shared_whole_name = False
    if q.guardian and guardians:
        best: tuple[float, float, Level, Level, bool] | None = None
        for person in guardians:
            fam, giv = name_levels(q.guardian, person, q.readings)
            wf = _name_weight(fam, M_FAMILY, profile, person, "family", n)
            wg = _name_weight(giv, M_GUARDIAN_GIVEN, profile, person, "given", n)
            bounded = _shared_whole_name(fam, giv, wf, wg, profile, person, n)
            if best is None or sum(bounded) > best[0] + best[1]:
                best = (*bounded, fam, giv, bounded != (wf, wg))
        assert best is not None
        guardian_family = best[2]
        shared_whole_name = best[4] and best[2] >= Level.READING
        if best[2] != Level.MISSING:
            family_best = (best[0], best[2])
        if best[3] != Level.MISSING:
            evidence.append(Evidence("guardian_name", _HOW[best[3]], best[1]))

    if (q.child or q.child_dob) and children:
        best_child: tuple[float, float, list[Evidence], Level] | None = None
        for person in children:
            items: list[Evidence] = []
            wf, fam = 0.0, Level.MISSING
            if q.child:
                fam, giv = name_levels(q.child, person, q.readings)
                wf = _name_weight(fam, M_FAMILY, profile, person, "family", n)
                if giv != Level.MISSING:
                    wg = _name_weight(giv, M_CHILD_GIVEN, profile, person, "given", n)
                    items.append(Evidence("child_name", _HOW[giv], wg))
            if q.child_dob:
                level = date_level(q.child_dob, person["d"])
                if level != "missing":
                    w = _date_weight(level, f"cd:{person['d']}", profile, n, M_DOB["disagree"])
                    items.append(Evidence("child_dob", "fuzzy" if level == "near" else level, w))
            # The family name counts once: a child's only adds what the guardian's did not.
            total = sum(e.weight for e in items) + (wf if fam != Level.MISSING else 0.0)
            if best_child is None or total > best_child[0]:
                best_child = (total, wf, items, fam)
        assert best_child is not None
        child_family = best_child[3]
        evidence += best_child[2]
        if best_child[3] != Level.MISSING and (
            family_best[1] == Level.MISSING or (best_child[1] > family_best[0] and not shared_whole_name)
        ):
            family_best = (best_child[1], best_child[3])
    everywhere = guardian_family == Level.DISAGREE and child_family == Level.DISAGREE
    if everywhere:
        # The allowance for another parent or a changed surname (M_FAMILY[DISAGREE]) is for
        # one person's name; the child's disagreeing as well is a second, independent miss.
        family_best = (_w(M_FAMILY_BOTH_DISAGREE, U_DISAGREE), Level.DISAGREE)
    if family_best[1] != Level.MISSING:
        evidence.append(Evidence("family_name", _HOW[family_best[1]], family_best[0]))

    # Another adult of the household is calling: their date of birth, phone and e-mail are
    # their own, so those disagreeing is one fact with the given name's disagreement.
    other_caller = any(e.field == "guardian_name" and e.how == "disagree" for e in evidence)
    if q.guardian_dob and guardians:
        levels = [(date_level(q.guardian_dob, g["d"]), g["d"]) for g in guardians]
        order = ["exact", "near", "disagree", "missing"]
        level, dob = min(levels, key=lambda item: order.index(item[0]))
        if level != "missing":
            m_disagree = M_GUARDIAN_DOB_OTHER_CALLER if other_caller else M_GUARDIAN_DOB_DISAGREE
            w = _date_weight(level, f"gd:{dob}", profile, n, m_disagree)
            evidence.append(Evidence("guardian_dob", "fuzzy" if level == "near" else level, w))

    for item in (
        address_evidence(q.address, profile, n) if q.address else None,
        phone_evidence(
            q.phone, profile, n, m_disagree=M_CONTACT_OTHER_CALLER if other_caller else M_PHONE["disagree"]
        ),
        email_evidence(
            q.email, profile, n, m_disagree=M_CONTACT_OTHER_CALLER if other_caller else M_EMAIL["disagree"]
        ),
    ):
        if item is not None:
            evidence.append(item)

    prior = math.log(PRIOR_IN_LIST / (1 - PRIOR_IN_LIST) / max(n, 1))
    return Scored(household_id, prior + sum(e.weight for e in evidence), evidence, profile, everywhere)
