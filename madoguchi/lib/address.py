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
  town readings in Japan Post's data.

The parts are comparison forms, never for display: the address is stored as written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from madoguchi.lib import jpost
from madoguchi.lib.hyphens import HYPHEN_LIKES
from madoguchi.lib.numerals import DIGITS, UNITS, kanji_number
from madoguchi.lib.text import kana_key, kana_loose_key
from madoguchi.lib.variant_kanji import fold_variants

__all__ = ["AddressParts", "address_key", "split_address"]

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
