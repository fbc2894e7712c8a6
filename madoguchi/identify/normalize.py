"""Comparison forms for identification: names, readings, addresses, phones, e-mails, dates.

Everything here is derived from what was written or said and is used only for comparing; the
registry keeps the values as written. The same functions prepare the target list (the
indexer) and the caller's words (the engine), so both sides fold the same differences away.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from madoguchi.lib.address import AddressKeys, address_block_keys, address_keys, town_reading_key
from madoguchi.lib.dates import parse_date
from madoguchi.lib.errors import InputError
from madoguchi.lib.phone import phone_digits
from madoguchi.lib.text import hiragana_to_katakana, kana_key, kana_loose_key, name_key

_SPACES = re.compile(r"[\s\u3000]+")
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc\u30fd\u30fe]+")

__all__ = [
    "AddressKeys",
    "NamePart",
    "SpokenName",
    "address_block_keys",
    "email_key",
    "kana_near_key",
    "loose_key",
    "parse_address",
    "spoken_date",
    "spoken_name",
    "spoken_phone",
    "town_reading_key",
]

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
# One reading of an address for the whole system: `madoguchi.lib.address` (import, public
# form, identification). Re-exported here for the identification modules.

parse_address = address_keys
