"""Comparison forms for identification: names, readings, addresses, phones, e-mails, dates.

Everything here is derived from what was written or said and is used only for comparing; the
registry keeps the values as written. The same functions prepare the target list (the
indexer) and the caller's words (the engine), so both sides fold the same differences away.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache

from madoguchi.lib import jpost
from madoguchi.lib.dates import kanji_number, parse_date
from madoguchi.lib.errors import InputError
from madoguchi.lib.hyphens import HYPHEN_LIKES
from madoguchi.lib.phone import phone_digits
from madoguchi.lib.text import hiragana_to_katakana, kana_key, kana_loose_key, name_key

_SPACES = re.compile(r"[\s\u3000]+")
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc\u30fd\u30fe]+")
_HYPHENS = "".join(re.escape(ch) for ch in sorted(HYPHEN_LIKES))

# --- names and readings ----------------------------------------------------------------


@dataclass(frozen=True)
class NamePart:
    """One part of a name as the caller gave it: kanji (or Latin) text, or a reading."""

    text: str  # name_key (kanji) or kana_key (reading)
    is_kana: bool


@dataclass(frozen=True)
class SpokenName:
    """A name as typed: family and given when a space separated them, else `whole` alone."""

    family: NamePart | None = None
    given: NamePart | None = None
    whole: NamePart | None = None

    @property
    def is_empty(self) -> bool:
        return self.family is None and self.given is None and self.whole is None


def _is_kana(text: str) -> bool:
    return bool(text) and _KATAKANA.fullmatch(text) is not None


def _part(raw: str) -> NamePart | None:
    key = name_key(raw)
    if not key:
        return None
    if _is_kana(key):
        # A reading: keep ー and small kana (name_key already made it katakana).
        return NamePart(kana_key(hiragana_to_katakana(unicodedata.normalize("NFKC", raw))), True)
    return NamePart(key, False)


def spoken_name(value: str | None) -> SpokenName:
    """Split what was typed into family/given on the first space, or keep it whole."""
    if not value:
        return SpokenName()
    text = unicodedata.normalize("NFKC", value).strip()
    parts = [p for p in _SPACES.split(text) if p]
    if len(parts) >= 2:
        return SpokenName(family=_part(parts[0]), given=_part("".join(parts[1:])))
    if len(parts) == 1:
        return SpokenName(whole=_part(parts[0]))
    return SpokenName()


_NEAR_TABLE = str.maketrans(
    {
        "ヴ": "ブ",
        "ヅ": "ズ",
        "ヂ": "ジ",
        "ヲ": "オ",
        "ァ": "ア",
        "ィ": "イ",
        "ゥ": "ウ",
        "ェ": "エ",
        "ォ": "オ",
        "ャ": "ヤ",
        "ュ": "ユ",
        "ョ": "ヨ",
        "ッ": "ツ",
        "ヮ": "ワ",
        "ヵ": "カ",
        "ヶ": "ケ",
    }
)
_VOWEL_ROWS = {
    "ア": "アカガサザタダナハバパマヤラワ",
    "イ": "イキギシジチヂニヒビピミリ",
    "ウ": "ウクグスズツヅヌフブプムユルヴ",
    "エ": "エケゲセゼテデネヘベペメレ",
    "オ": "オコゴソゾトドノホボポモヨロ",
}
_VOWEL_OF = {kana: vowel for vowel, row in _VOWEL_ROWS.items() for kana in row}
# How a long vowel is spelt in kana: o+ウ (ヨウ), e+イ (ヘイ), otherwise the vowel itself.
_LONG_SPELLING = {"ア": "ア", "イ": "イ", "ウ": "ウ", "エ": "イ", "オ": "ウ"}


@lru_cache(maxsize=65536)
def kana_near_key(reading: str) -> str:
    """A reading with spelling-only differences folded: ヴ/ブ, ヅ/ズ, ヂ/ジ, small/large
    kana (シヨウタ = ショウタ, as old registers wrote) and ー spelt out (ユーキ = ユウキ,
    ヨーヘー = ヨウヘイ). Unlike the loose key it keeps a long vowel apart from a short one:
    ユキ is not ユウキ."""
    text = reading.replace("ヴァ", "バ").replace("ヴィ", "ビ").replace("ヴェ", "ベ").replace("ヴォ", "ボ")
    text = text.translate(_NEAR_TABLE)
    out: list[str] = []
    for ch in text:
        if ch == "ー":
            vowel = _VOWEL_OF.get(out[-1]) if out else None
            if vowel:
                out.append(_LONG_SPELLING[vowel])
            continue
        out.append(ch)
    return "".join(out)


@lru_cache(maxsize=65536)
def loose_key(reading: str) -> str:
    return kana_loose_key(reading)


@dataclass
class PersonKeys:
    """The comparison forms of one registered person (guardian or child)."""

    role: str  # "g" guardian, "c" child
    family: str = ""  # name_key of the family name ("" when the name had no space)
    given: str = ""
    whole: str = ""  # name_key of the whole name
    family_kana: str = ""  # kana_key of the reading's parts
    given_kana: str = ""
    whole_kana: str = ""
    dob: str = ""  # ISO date


def person_keys(role: str, name: str, kana: str, dob: datetime.date | None) -> PersonKeys:
    keys = PersonKeys(role, *_name_forms(name, kana or ""), dob=dob.isoformat() if dob else "")
    return keys


@lru_cache(maxsize=262144)
def _name_forms(name: str, kana: str) -> tuple[str, str, str, str, str, str]:
    """(family, given, whole, family_kana, given_kana, whole_kana); names repeat across a list."""
    text = unicodedata.normalize("NFKC", name).strip()
    parts = [p for p in _SPACES.split(text) if p]
    whole = name_key(text)
    family = given = ""
    if len(parts) >= 2:
        family, given = name_key(parts[0]), name_key("".join(parts[1:]))
    family_kana = given_kana = whole_kana = ""
    if kana:
        ktext = unicodedata.normalize("NFKC", kana).strip()
        kparts = [p for p in _SPACES.split(ktext) if p]
        whole_kana = kana_key(ktext)
        if len(kparts) >= 2:
            family_kana, given_kana = kana_key(kparts[0]), kana_key("".join(kparts[1:]))
    return family, given, whole, family_kana, given_kana, whole_kana


def infer_family_split(people: list[PersonKeys]) -> None:
    """Split names written without a space using the family name the household shares.

    A list may write 田中花子 and 田中陽翔; their common beginning (田中) is the family name
    when another member's name was split, or when two members share it.
    """
    known = {p.family for p in people if p.family}
    known_kana = {p.family_kana for p in people if p.family_kana}
    for person in people:
        if not person.family and person.whole:
            for fam in sorted(known, key=len, reverse=True):
                if person.whole.startswith(fam) and len(person.whole) > len(fam):
                    person.family, person.given = fam, person.whole[len(fam) :]
                    break
        if not person.family_kana and person.whole_kana:
            for fam in sorted(known_kana, key=len, reverse=True):
                if person.whole_kana.startswith(fam) and len(person.whole_kana) > len(fam):
                    person.family_kana, person.given_kana = fam, person.whole_kana[len(fam) :]
                    break


# --- dates, phones, e-mail -------------------------------------------------------------


def spoken_date(value: str | None) -> datetime.date | None:
    """A date as said (era or Western, any digits); None when it cannot be read."""
    if not value:
        return None
    try:
        return parse_date(value, strict_era=False)
    except (InputError, ValueError, KeyError):
        return None


def spoken_phone(value: str | None) -> str:
    """National digits, or "" when too short to be a phone number."""
    if not value:
        return ""
    digits = phone_digits(value)
    return digits if 9 <= len(digits) <= 11 else ""


def email_key(value: str | None) -> str:
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", value).strip().casefold()
    return text if "@" in text else ""


# --- addresses -------------------------------------------------------------------------

_KANJI = r"\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_KE_BETWEEN = re.compile(rf"(?<=[{_KANJI}])[ケヶヵがガ](?=[{_KANJI}])")
_KANJI_NUM = "〇一二三四五六七八九十百千"
_KANJI_NUMBER_UNIT = re.compile(rf"([{_KANJI_NUM}]+)(?=丁目|番地|番(?!町)|号|の[0-9]|-[0-9])")
_POSTAL = re.compile(r"^〒?\s*\d{3}-?\d{4}\s*")
_DASH_AFTER_DIGIT = re.compile(rf"(?<=[0-9])\s*[{_HYPHENS}]+\s*(?=[0-9])")
_BLOCK = re.compile(r"(\d+)\s*(丁目|番地の|番地|番|号|の|-)?")
_ROOM_TAIL = re.compile(r"(\d+[A-Za-z]?)\s*(?:号室|号)?$")
_PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}県)")


@dataclass
class AddressKeys:
    town: str = ""  # kanji town name, folded (桜丘, 等等力, 深沢)
    town_kana: str = ""  # the town's reading, folded for comparison
    numbers: list[int] = field(default_factory=list)  # 丁目, 番, 号 as given
    building: str = ""  # building name, folded, without spaces
    room: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.town and not self.town_kana and not self.numbers


def town_reading_key(kana: str) -> str:
    """Town readings are compared without voicing marks: KEN_ALL and callers differ on them."""
    decomposed = unicodedata.normalize("NFD", loose_key(kana_key(kana)))
    return "".join(ch for ch in decomposed if ch not in "\u3099\u309a")


@cache
def _municipality_names() -> frozenset[str]:
    return frozenset(city for _pref, city in jpost.municipalities())


@cache
def _municipality_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(name) for name in _municipality_names()}, reverse=True))


def _split_municipality(text: str) -> tuple[str, str]:
    names = _municipality_names()
    for length in _municipality_lengths():
        if text[:length] in names:
            return text[:length], text[length:]
    return "", text


@cache
def _town_readings(city: str) -> dict[str, str]:
    readings: dict[str, str] = {}
    for pref, name in jpost.municipalities():
        if name != city:
            continue
        for place in jpost.towns(pref, name):
            town = _fold_town(re.sub(r"（.*", "", place.town))
            if town and place.town_kana:
                readings.setdefault(town, town_reading_key(re.sub(r"\(.*", "", place.town_kana)))
    return readings


def _fold_town(town: str) -> str:
    town = name_key(town)  # NFKC, variant kanji folded, 々 expanded, katakana
    return _KE_BETWEEN.sub("", town)


def parse_address(value: str | None, *, city_hint: str = "") -> AddressKeys:
    """Cut an address into town, block numbers, building and room, however it was written."""
    if not value:
        return AddressKeys()
    text = unicodedata.normalize("NFKC", value).strip()
    text = _POSTAL.sub("", text)
    text = _PREFECTURE.sub("", text)
    city, text = _split_municipality(text)
    text = _KANJI_NUMBER_UNIT.sub(lambda m: str(kanji_number(m.group(1))), text)
    text = _DASH_AFTER_DIGIT.sub("-", text)
    first_digit = re.search(r"\d", text)
    head = text[: first_digit.start()] if first_digit else text
    rest = text[first_digit.start() :] if first_digit else ""
    keys = AddressKeys()
    head = _SPACES.sub("", head)
    folded = _fold_town(head)
    if folded and _is_kana(folded):
        keys.town_kana = town_reading_key(folded)
    else:
        keys.town = folded
        readings = _town_readings(city or city_hint) if (city or city_hint) else {}
        if folded in readings:
            keys.town_kana = readings[folded]
    position = 0
    while len(keys.numbers) < 3:
        match = _BLOCK.match(rest, position)
        if not match:
            break
        keys.numbers.append(int(match.group(1)))
        position = match.end()
        if not match.group(2) or match.group(2) == "号":
            break
    tail = _SPACES.sub("", rest[position:]).lstrip("".join(HYPHEN_LIKES) + "-")
    room = _ROOM_TAIL.search(tail)
    if room:
        keys.room = room.group(1)
        tail = tail[: room.start()]
    keys.building = name_key(tail)
    return keys


def address_block_keys(address: AddressKeys) -> list[str]:
    """Index keys of an address: town + 丁目 and town + full block, by name and by reading."""
    keys: list[str] = []
    for prefix, town in (("a", address.town), ("ak", address.town_kana)):
        if not town:
            continue
        if address.numbers:
            keys.append(f"{prefix}:{town}|{address.numbers[0]}")
        if len(address.numbers) >= 3:
            keys.append(f"{prefix}:{town}|{'-'.join(map(str, address.numbers[:3]))}")
    return keys
