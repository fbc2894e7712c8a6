"""The columns of a target list (formats.md §1) and how each value is cleaned and checked.

Every checker returns the value to store or raises `InputError` whose Japanese message never
repeats the value (it goes into a row-level report). Names are stored as written (minus
zero-width characters, R-26); readings, dates, postal codes, phones and e-mails are stored in
one canonical form, so that a notation change alone is not a change of the list.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from madoguchi.lib import dates as lib_dates
from madoguchi.lib import email as lib_email
from madoguchi.lib import phone as lib_phone
from madoguchi.lib import postal as lib_postal
from madoguchi.lib import text as lib_text
from madoguchi.lib.errors import InputError
from madoguchi.lib.hyphens import HYPHEN_LIKES
from madoguchi.programs.models import PersonalItem


@dataclass(frozen=True)
class Column:
    name: str
    item: str
    required: bool
    max_length: int


# Lengths in code points, the model's max_length: a longer value is refused, not cut.
COLUMNS: tuple[Column, ...] = (
    Column("世帯番号", PersonalItem.HOUSEHOLD_NUMBER, True, 50),
    Column("児童氏名", PersonalItem.CHILD_NAME, True, 100),
    Column("児童氏名カナ", PersonalItem.CHILD_KANA, False, 100),
    Column("児童生年月日", PersonalItem.CHILD_DOB, True, 40),
    Column("保護者氏名", PersonalItem.GUARDIAN_NAME, True, 100),
    Column("保護者氏名カナ", PersonalItem.GUARDIAN_KANA, False, 100),
    Column("保護者生年月日", PersonalItem.GUARDIAN_DOB, True, 40),
    Column("郵便番号", PersonalItem.POSTAL_CODE, False, 20),
    Column("住所", PersonalItem.ADDRESS, True, 300),
    Column("電話番号", PersonalItem.PHONE, False, 40),
    Column("メールアドレス", PersonalItem.EMAIL, False, 254),
)
COLUMN_BY_NAME = {column.name: column for column in COLUMNS}
# The target list's header in formats.md order: what the demo list, the return export and the
# tests write, so that each reads back through the import unchanged.
TARGET_LIST_HEADER: tuple[str, ...] = tuple(column.name for column in COLUMNS)

_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_EARLIEST_DOB = datetime.date(1900, 1, 1)


def check_length(value: str, column: Column) -> None:
    if len(value) > column.max_length:
        raise InputError(f"{column.max_length}文字を超えています。", code="max_length")


# Anything lib.text.clean_name would remove or refuse: zero-width, C0/C1 controls, bidi
# controls, surrogates. A value without any (nearly all of them) only needs its ends trimmed.
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_TRIM = " \u3000\u00a0"


def clean(value: str) -> str:
    """`lib.text.clean_name`, with a fast path for the common value that holds nothing to clean."""
    if _SUSPECT.search(value) is None:
        return value.strip(_TRIM)
    return lib_text.clean_name(value)


def household_number(value: str) -> str:
    # An identifier, not a name: stored in its NFKC form so that Ｈ１２３ and H123 are one household.
    text = clean(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.upper()
    if not text:
        raise InputError("世帯番号がありません。", code="required")
    if not _NUMBER.fullmatch(text):
        raise InputError("世帯番号は英字と数字で入力してください。", code="invalid_number")
    return text


def person_name(value: str) -> str:
    name = clean(value)
    if not name:
        raise InputError("氏名がありません。", code="required")
    return name


@lru_cache(maxsize=65536)
def kana(value: str) -> str:
    return lib_text.normalize_kana(value) if value.strip(" \u3000") else ""


_WESTERN = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})|(\d{4})(\d{2})(\d{2})")


# Dates repeat across a list (a few thousand days of birth, a handful of notations each).
@lru_cache(maxsize=65536)
def birth_date(value: str) -> datetime.date:
    if not value.strip():
        raise InputError("生年月日がありません。", code="required")
    result: datetime.date | None = None
    match = _WESTERN.fullmatch(value)
    if match:
        year, month, day = (part for part in match.groups() if part is not None)
        try:
            result = datetime.date(int(year), int(month), int(day))
        except ValueError:
            result = None  # lib explains what is wrong with it
    if result is None:
        result = lib_dates.parse_date(value)
    if result < _EARLIEST_DOB:
        raise InputError("生年月日が古すぎます（1900年以降の日付にしてください）。", code="too_old")
    return result


def check_not_future(value: datetime.date, today: datetime.date) -> None:
    if value > today:
        raise InputError("生年月日が未来の日付になっています。", code="future_date")


def postal_code(value: str) -> str:
    return lib_postal.normalize_postal(value) if value.strip() else ""


def address(value: str) -> str:
    # A line break typed inside the cell (Alt+Enter in Excel) separates the building: a space.
    text = clean(_LINE_BREAKS.sub(" ", value) if "\n" in value or "\r" in value else value)
    if not text:
        raise InputError("住所がありません。", code="required")
    return text


# Already-canonical mobile and Tokyo numbers are what most rows hold; libphonenumber takes
# ~0.1 ms a number, so these skip it. The equivalence is tested against lib.phone.
_CANONICAL_PHONE = re.compile(r"0[789]0-[1-9]\d{3}-\d{4}|03-[2-9]\d{3}-\d{4}")
_COMPACT_PHONE = re.compile(r"(0[789]0)([1-9]\d{3})(\d{4})|(03)([2-9]\d{3})(\d{4})")


_WIDE_TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789") | {ord(ch): "-" for ch in HYPHEN_LIKES}


def phone(value: str) -> str:
    if not value.strip():
        return ""
    if _CANONICAL_PHONE.fullmatch(value):
        return value
    # Full-width digits and dashes (０９０ー…) are the same number: try the fast path again.
    value = value.translate(_WIDE_TO_ASCII)
    if _CANONICAL_PHONE.fullmatch(value):
        return value
    match = _COMPACT_PHONE.fullmatch(value)
    if match:
        return "-".join(group for group in match.groups() if group)
    return lib_phone.normalize_phone(value)


# A plain ASCII address that Django's EmailValidator certainly accepts (dot-atom local part,
# lower-case LDH domain): checked here without the validator's cost. Anything else goes to lib.
_SIMPLE_EMAIL = re.compile(
    r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*@(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def email(value: str) -> str:
    if not value.strip():
        return ""
    if len(value) <= 254 and _SIMPLE_EMAIL.fullmatch(value):
        return value
    return lib_email.normalize_email(value)
