"""Dates of birth in every notation a ward list or a caller uses, Western or Japanese era.

Accepted (full-width digits and separators, spaces, and ㋿/㍻-style era squares too):
``2020-05-03``, ``2020/5/3``, ``2020.5.3``, ``20200503``, ``2020年5月3日``,
``令和2年5月3日``, ``令和元年5月1日``, ``令和二年五月三日``, ``R2.5.3``, ``R02/05/03``,
``r2-5-3``, ``R020503``, ``H31.4.2``, ``S63.1.2``, ``T15.12.24``, ``M45.7.29``.

An era date is checked against the era's real span: 平成31年5月1日 and 令和元年4月30日 do
not exist, 昭和64年1月7日 does (the last day of Shōwa) and 昭和64年1月8日 does not.
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass

from madoguchi.lib.errors import InputError
from madoguchi.lib.hyphens import unify_hyphens
from madoguchi.lib.numerals import kanji_number, replace_kanji_numbers

__all__ = [  # kanji_number is re-exported: it lived here first
    "ERAS",
    "Era",
    "format_date_ja",
    "format_wareki",
    "kanji_number",
    "parse_birth_date",
    "parse_date",
    "to_wareki",
]


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    first_day: datetime.date
    last_day: datetime.date | None  # None: the current era

    def year(self, era_year: int) -> int:
        return self.first_day.year + era_year - 1


# Meiji is counted from the adoption of the Gregorian calendar's equivalent of the
# proclamation (1868-10-23); nobody in a target list is born before it.
ERAS: tuple[Era, ...] = (
    Era("明治", "M", datetime.date(1868, 10, 23), datetime.date(1912, 7, 29)),
    Era("大正", "T", datetime.date(1912, 7, 30), datetime.date(1926, 12, 24)),
    Era("昭和", "S", datetime.date(1926, 12, 25), datetime.date(1989, 1, 7)),
    Era("平成", "H", datetime.date(1989, 1, 8), datetime.date(2019, 4, 30)),
    Era("令和", "R", datetime.date(2019, 5, 1), None),
)
_ERA_BY_KEY = {era.name: era for era in ERAS} | {era.letter: era for era in ERAS}


_WESTERN = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_WESTERN_KANJI = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ERA = re.compile(r"(明治|大正|昭和|平成|令和|[MTSHR])(\d{1,2}|元)[年.\-/](\d{1,2})[月.\-/](\d{1,2})日?")
_ERA_COMPACT = re.compile(r"([MTSHR])(\d{2})(\d{2})(\d{2})")
_YEAR_ONLY = re.compile(r"(明治|大正|昭和|平成|令和|[MTSHR])?(\d{1,4}|元)年?(\d{1,2}月?)?")


def _canonical(value: str) -> str:
    value = unicodedata.normalize("NFKC", value)
    value = unify_hyphens("".join(value.split())).upper()
    value = replace_kanji_numbers(value)
    for suffix in ("生まれ", "生"):
        value = value.removesuffix(suffix)
    return value


def _make_date(year: int, month: int, day: int) -> datetime.date:
    if not 1 <= month <= 12:
        raise InputError("月は1から12の数字で入力してください。", code="invalid_month")
    if not 1 <= year <= 9999:
        raise InputError("年が正しくありません。", code="invalid_year")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise InputError(f"存在しない日付です（その年の{month}月は{last}日までです）。", code="invalid_date")
    return datetime.date(year, month, day)


def _era_date(key: str, era_year_text: str, month: int, day: int, *, strict_era: bool) -> datetime.date:
    era = _ERA_BY_KEY[key]
    era_year = 1 if era_year_text == "元" else int(era_year_text)
    if era_year < 1:
        raise InputError(f"{era.name}の年は元年（1年）からです。", code="invalid_era_year")
    result = _make_date(era.year(era_year), month, day)
    if not strict_era:
        return result
    if result < era.first_day:
        raise InputError(
            f"{era.name}は{_western(era.first_day)}からです。日付または元号を確かめてください。",
            code="outside_era",
        )
    if era.last_day is not None and result > era.last_day:
        raise InputError(
            f"{era.name}は{_western(era.last_day)}までです。日付または元号を確かめてください。",
            code="outside_era",
        )
    return result


def parse_date(value: str, *, strict_era: bool = True) -> datetime.date:
    """Parse a date in any accepted notation; ``InputError`` with the reason otherwise.

    ``strict_era=False`` is for what callers *say*: 平成31年7月3日 (an era year that had
    already ended) is read as the Western date it names, 2019-07-03, instead of refused.
    Stored values and imports keep the default.
    """
    text = _canonical(value)
    if not text:
        raise InputError("日付を入力してください。", code="required")
    for pattern in (_WESTERN, _WESTERN_KANJI, _COMPACT):
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(group) for group in match.groups())
            return _make_date(year, month, day)
    match = _ERA.fullmatch(text) or _ERA_COMPACT.fullmatch(text)
    if match:
        return _era_date(
            match.group(1), match.group(2), int(match.group(3)), int(match.group(4)), strict_era=strict_era
        )
    if text in _ERA_BY_KEY or _YEAR_ONLY.fullmatch(text):
        raise InputError(
            "年月日まで入力してください（例: 2020-05-03、令和2年5月3日）。", code="incomplete_date"
        )
    raise InputError(
        "日付の形式が正しくありません（例: 2020-05-03、2020/5/3、令和2年5月3日、R2.5.3）。",
        code="invalid_format",
    )


def parse_birth_date(
    value: str, *, today: datetime.date | None = None, earliest: datetime.date = datetime.date(1900, 1, 1)
) -> datetime.date:
    """``parse_date`` for a date of birth: not in the future and not before ``earliest``."""
    result = parse_date(value)
    if result > (today or datetime.date.today()):
        raise InputError("生年月日が未来の日付になっています。", code="future_date")
    if result < earliest:
        raise InputError(f"生年月日は{_western(earliest)}以降の日付を入力してください。", code="too_old")
    return result


def _western(d: datetime.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def to_wareki(d: datetime.date) -> tuple[Era, int]:
    """The era and the era year of a date (``(令和, 1)`` for 2019-05-01)."""
    for era in reversed(ERAS):
        if d >= era.first_day:
            return era, d.year - era.first_day.year + 1
    raise InputError("明治より前の日付は和暦で表せません。", code="before_meiji")


def _era_year_label(era: Era, year: int) -> str:
    return f"{era.name}{'元' if year == 1 else year}年"


def format_wareki(d: datetime.date) -> str:
    """``令和2年5月3日``; the first year of an era is written ``元年``."""
    era, year = to_wareki(d)
    return f"{_era_year_label(era, year)}{d.month}月{d.day}日"


def format_date_ja(d: datetime.date) -> str:
    """``2020年5月3日（令和2年）``, the form used on screens and letters."""
    try:
        era, year = to_wareki(d)
    except InputError:
        return _western(d)
    return f"{_western(d)}（{_era_year_label(era, year)}）"
