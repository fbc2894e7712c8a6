"""Japanese addresses as comparison keys: the same place however it is written.

``東京都世田谷区弦巻二丁目19番6号``, ``世田谷区弦巻2-19-6``, ``弦巻２ー１９ー６`` and
``弦巻2丁目19番地6`` all split into town ``弦巻`` and block ``2-19-6``. What is folded:

* NFKC (full-width digits and letters, half-width kana), variant kanji (駒澤→駒沢,
  豪德寺→豪徳寺), 々 expanded (等々力 = 等等力), a ケ/ヶ/が between kanji dropped
  (桜ケ丘 = 桜丘, 祖師ヶ谷 = 祖師谷), every hyphen-like dash after a digit;
* the prefecture and the municipality, recognised against Japan Post's list of
  municipalities (so a town named like a number, 三軒茶屋 or 一番町, is not cut);
* kanji numerals in the block (二丁目十九番六号 → 2-19-6) but not in town names;
* a town written in kana (さくらじょうすい) when the municipality is known, through the
  town readings in Japan Post's data;
* station and area names people say instead of their town (二子玉川, 下北沢, 三軒茶屋 …):
  ``place_towns`` gives the towns they lie in, from the table ``data/places.tsv`` (per
  municipality; Setagaya now, another city by adding rows).

The parts are comparison forms, never for display: the address is stored as written.
``split_address`` serves the import and the public form; ``address_keys`` is the same
reading cut into what identification compares (town, its reading, the places it may mean,
block numbers, building, room), so every part of the system reads an address one way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from madoguchi.lib import jpost
from madoguchi.lib.hyphens import HYPHEN_LIKES
from madoguchi.lib.numerals import DIGITS, UNITS, kanji_number
from madoguchi.lib.text import kana_key, kana_loose_key, name_key
from madoguchi.lib.variant_kanji import fold_variants

__all__ = [
    "AddressKeys",
    "AddressParts",
    "address_block_keys",
    "address_key",
    "address_keys",
    "place_towns",
    "split_address",
    "town_reading_key",
]

PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)  # fmt: skip

_HYPHENS = "".join(re.escape(ch) for ch in sorted(HYPHEN_LIKES))
_KANJI = r"\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_KE_BETWEEN_KANJI = re.compile(rf"(?<=[{_KANJI}])[ケヶヵが](?=[{_KANJI}])")
_DASH_AFTER_NUMBER = re.compile(rf"(?<=[0-9号地目])\s*[{_HYPHENS}]+\s*(?=[0-9])")
_POSTAL_PREFIX = re.compile(r"^〒?\s*\d{3}-?\d{4}\s*")
_KANJI_NUM = "[" + "".join(DIGITS) + "".join(UNITS) + "]+"
# Where the block starts: an arabic number, or a kanji number that a block unit follows.
_BLOCK_START = re.compile(rf"\d|{_KANJI_NUM}(?=丁目|番地|番(?!町)|号|の[0-9{''.join(DIGITS)}])")
_TOKEN = re.compile(rf"(\d+|{_KANJI_NUM})(丁目|番地の?|番|号|の|-)?")
_ROOM = re.compile(r"[-#]?([0-9]+[A-Za-z]?)(?:号室|号)?$")
_KANA_ONLY = re.compile(r"[\u3041-\u309f\u30a0-\u30ffー]+")


@dataclass(frozen=True)
class AddressParts:
    """An address cut into comparison forms (see the module docstring).

    ``block`` is the 丁目-番-号 numbers joined by ``-`` (``2-19-6``, or ``2`` when only
    the 丁目 was given); ``building`` is the building name without the room, ``room`` the
    room number (``401`` from ``401号室`` or a trailing ``-401``).
    """

    prefecture: str = ""
    city: str = ""
    town: str = ""
    block: str = ""
    building: str = ""
    room: str = ""

    @property
    def town_block(self) -> str:
        return f"{self.town}{self.block}"

    @property
    def key(self) -> str:
        rest = f"{self.building}{self.room}"
        return f"{self.town_block} {rest}" if rest else self.town_block


def _canonical(value: str) -> str:
    value = unicodedata.normalize("NFKC", value)
    value = fold_variants(value)
    if "々" in value or "〻" in value:
        out: list[str] = []
        for ch in value:  # 々 repeats the previous character
            out.append(out[-1] if ch in "々〻" and out else ch)
        value = "".join(out)
    value = _KE_BETWEEN_KANJI.sub("", value)
    return _DASH_AFTER_NUMBER.sub("-", value).strip()


@cache
def _municipality_index() -> dict[str, tuple[tuple[str, str], ...]]:
    """Canonical municipality name -> the (prefecture, city) pairs it can mean.

    A municipality in a 郡 is also indexed without the 郡 (瑞穂町 for 西多摩郡瑞穂町).
    """
    index: dict[str, set[tuple[str, str]]] = {}
    for prefecture, city in jpost.municipalities():
        names = {city, re.sub(r"^.+?郡", "", city)}
        for name in names:
            index.setdefault(_canonical(name), set()).add((prefecture, city))
    return {name: tuple(sorted(pairs)) for name, pairs in index.items()}


def _fallback_city(text: str) -> str:
    # Without Japan Post's list: a designated city's ward, a 郡's town, or a city/ward.
    match = re.match(r"(\D{1,6}?市\D{1,4}?区|\D{1,5}?郡\D{1,5}?[町村]|\D{1,6}?[市区])(?=\D)", text)
    return match.group(1) if match else ""


def _take_city(text: str, prefecture: str) -> tuple[str, str, str]:
    """(prefecture, city, rest); a municipality only counts when a town name follows it."""
    index = _municipality_index()
    if not index:
        city = _fallback_city(text)
        return prefecture, city, text[len(city) :]
    for end in range(min(len(text) - 1, 12), 1, -1):
        if text[end - 1] not in "市区町村":  # every municipality name ends with one of them
            continue
        candidates = index.get(text[:end])
        if not candidates or _BLOCK_START.match(text[end:]) or not text[end:].strip():
            continue
        if prefecture:
            candidates = tuple(pair for pair in candidates if pair[0] == prefecture)
            if not candidates:
                continue
        if len(candidates) == 1:
            return candidates[0][0], candidates[0][1], text[end:]
        return prefecture, candidates[0][1], text[end:]
    return prefecture, "", text


@cache
def _parse_city_hint(hint: str) -> tuple[str, str]:
    text = _canonical(hint)
    prefecture = next((name for name in PREFECTURES if text.startswith(name)), "")
    text = text[len(prefecture) :].strip()
    candidates = _municipality_index().get(text, ())
    if prefecture:
        candidates = tuple(pair for pair in candidates if pair[0] == prefecture)
    if len(candidates) == 1:
        return candidates[0]
    return prefecture, text


def _resolve_kana_town(town: str, prefecture: str, city: str) -> str:
    """A town written in kana -> its name, using Japan Post's readings of the city's towns."""
    if not _KANA_ONLY.fullmatch(town):
        return town
    if not (prefecture and city):
        return kana_key(town)
    exact, loose = kana_key(town), kana_loose_key(town)
    towns = jpost.towns(prefecture, city)
    for place in towns:
        if kana_key(place.town_kana) == exact:
            return _canonical(place.town)
    matches = [place for place in towns if kana_loose_key(place.town_kana) == loose]
    return _canonical(matches[0].town) if len(matches) == 1 else kana_key(town)


def _number(token: str) -> str:
    return token if token.isdigit() else str(kanji_number(token))


def _take_block(text: str) -> tuple[str, str]:
    """('2-19-6', rest) from '2丁目19番6号 rest'; at most three numbers, 号 closes."""
    numbers: list[str] = []
    position = 0
    while len(numbers) < 3:
        match = _TOKEN.match(text, position)
        if not match:
            break
        number, unit = match.groups()
        if not number.isdigit() and unit is None:
            break  # a kanji numeral that is not a block number (弐番館)
        numbers.append(_number(number))
        position = match.end()
        if unit == "号":
            break
    return "-".join(numbers), text[position:]


def _split_building(rest: str) -> tuple[str, str]:
    words = rest.split()
    last = _ROOM.fullmatch(words[-1]) if len(words) > 1 else None
    if last:
        # "上北沢荘第2 1206号室": the space tells the room from a number in the name
        return "".join(words[:-1]).lstrip("-"), last.group(1)
    rest = "".join(words).lstrip("-")
    match = _ROOM.search(rest)
    if not match:
        return rest, ""
    return rest[: match.start()].rstrip("-"), match.group(1)


def split_address(value: str, *, city_hint: str | None = None) -> AddressParts:
    """Cut an address into prefecture, city, town, block, building and room.

    ``city_hint`` (``東京都世田谷区``) names the municipality to assume when the address
    leaves it out, so a town written in kana can still be resolved.
    """
    return _split_address(value, city_hint)


@lru_cache(maxsize=4096)  # a household's rows repeat the same address one after another
def _split_address(value: str, city_hint: str | None) -> AddressParts:
    text = _POSTAL_PREFIX.sub("", _canonical(value))
    prefecture = next((name for name in PREFECTURES if text.startswith(name)), "")
    text = text[len(prefecture) :].lstrip()
    prefecture, city, text = _take_city(text, prefecture)
    if not city and city_hint:
        hint_prefecture, hint_city = _parse_city_hint(city_hint)
        if not prefecture or prefecture == hint_prefecture:
            prefecture, city = hint_prefecture, hint_city
    text = text.lstrip()
    start = _BLOCK_START.search(text)
    town_end = start.start() if start else len(text)
    town = "".join(text[:town_end].split()).removeprefix("大字")
    town = _resolve_kana_town(town, prefecture, city)
    block, rest = _take_block(text[town_end:].lstrip())
    building, room = _split_building(rest)
    return AddressParts(prefecture, city, town, block, building, room)


def address_key(value: str, *, city_hint: str | None = None) -> str:
    """Comparison key: town and block, then the building and room after one space.

    ``address_key("東京都世田谷区瀬田四丁目38番1号　瀬田テラス401号室")`` is
    ``"瀬田4-38-1 瀬田テラス401"``; the prefecture and municipality are left out.
    """
    return split_address(value, city_hint=city_hint).key


# --- station and area names ------------------------------------------------------------

PLACES_FILE = Path(__file__).with_name("data") / "places.tsv"
_PLACE_SUFFIX = re.compile(r"(?:駅前|駅|の?付近|の?周辺|の近く|のあたり|の辺り|辺り|あたり|方面)+$")


@cache
def _places() -> dict[str, dict[str, tuple[str, ...]]]:
    """Canonical place name -> {"prefecture+city": canonical towns} from data/places.tsv."""
    table: dict[str, dict[str, tuple[str, ...]]] = {}
    for line in PLACES_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        prefecture, city, place, towns = line.split("\t")[:4]
        names = tuple(_canonical(town) for town in towns.split(",") if town.strip())
        table.setdefault(_canonical(place), {})[prefecture + city] = names
    return table


def place_towns(name: str, *, prefecture: str = "", city: str = "") -> tuple[str, ...]:
    """The towns a station or area name lies in (canonical forms), or () when it is none.

    ``place_towns("二子玉川駅")`` is ``("玉川", "瀬田", "玉川台")``. With the municipality
    known only its rows count; without it, every municipality's that has the name.
    """
    text = _PLACE_SUFFIX.sub("", _canonical(name).replace(" ", ""))
    found = _places().get(text)
    if not found:
        return ()
    if city:
        key = prefecture + city
        rows = [towns for where, towns in found.items() if where == key or where.endswith(city)]
    else:
        rows = list(found.values())
    return tuple(dict.fromkeys(town for towns in rows for town in towns))


# --- comparison keys for identification ---------------------------------------------------

_KE_BETWEEN_FOLD = re.compile(rf"(?<=[{_KANJI}])[ケヶヵがガ](?=[{_KANJI}])")


@dataclass
class AddressKeys:
    """What identification compares of an address (``address_keys``)."""

    town: str = ""  # kanji town name, folded (桜丘, 等等力, 深沢)
    town_kana: str = ""  # the town's reading, folded for comparison
    numbers: list[int] = field(default_factory=list)  # 丁目, 番, 号 as given
    building: str = ""  # building name, folded, without spaces
    room: str = ""
    # The towns a station or area name said instead of the town lies in (folded), or ().
    area: tuple[str, ...] = ()
    # True when `town` is only such a place (二子玉川), not a town of its own.
    town_is_place: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.town and not self.town_kana and not self.numbers


def town_reading_key(kana: str) -> str:
    """Town readings are compared without voicing marks: KEN_ALL and callers differ on them."""
    decomposed = unicodedata.normalize("NFD", kana_loose_key(kana_key(kana)))
    return "".join(ch for ch in decomposed if ch not in "\u3099\u309a")


def fold_town(town: str) -> str:
    """A town name as compared: name_key (NFKC, variants, 々, katakana), ケ/ヶ/が dropped."""
    return _KE_BETWEEN_FOLD.sub("", name_key(town))


@cache
def _town_readings(prefecture: str, city: str) -> dict[str, str]:
    readings: dict[str, str] = {}
    for pref, name in jpost.municipalities():
        if name != city or (prefecture and pref != prefecture):
            continue
        for place in jpost.towns(pref, name):
            town = fold_town(re.sub(r"（.*", "", place.town))
            if town and place.town_kana:
                readings.setdefault(town, town_reading_key(re.sub(r"\(.*", "", place.town_kana)))
    return readings


@lru_cache(maxsize=65536)
def address_keys(value: str | None, *, city_hint: str | None = None) -> AddressKeys:
    """An address as identification compares it, read by ``split_address``."""
    if not value or not value.strip():
        return AddressKeys()
    parts = split_address(value, city_hint=city_hint)
    keys = AddressKeys(
        numbers=[int(n) for n in parts.block.split("-") if n.isdigit()][:3],
        building=name_key(parts.building),
        room=parts.room,
    )
    town = re.sub(_PLACE_SUFFIX, "", parts.town)
    folded = fold_town(town)
    if folded and _KANA_ONLY.fullmatch(folded):
        keys.town_kana = town_reading_key(folded)
        return keys
    keys.town = folded
    readings = _town_readings(parts.prefecture, parts.city) if parts.city else {}
    if folded in readings:
        keys.town_kana = readings[folded]
    area = place_towns(town, prefecture=parts.prefecture, city=parts.city)
    if area:
        keys.area = tuple(fold_town(t) for t in area)
        keys.town_is_place = folded not in keys.area
    return keys


def address_block_keys(address: AddressKeys) -> list[str]:
    """Index keys of an address: town + 丁目 and town + full block, by name and by reading.

    A place said instead of the town (二子玉川 2-…) gives the keys of each town it may mean."""
    keys: list[str] = []
    towns = [("a", address.town), ("ak", address.town_kana)]
    if address.town_is_place:
        towns = [("a", town) for town in address.area]
    for prefix, town in towns:
        if not town:
            continue
        if address.numbers:
            keys.append(f"{prefix}:{town}|{address.numbers[0]}")
        if len(address.numbers) >= 3:
            keys.append(f"{prefix}:{town}|{'-'.join(map(str, address.numbers[:3]))}")
    return keys
