"""Japanese phone numbers: one canonical form for storage, digits for matching.

``phonenumbers`` (Google's libphonenumber data) decides what a valid Japanese number is
and where the hyphens go (``03-1234-5678``, ``090-1234-5678``, ``0120-123-456``), so the
area-code table is not ours to maintain.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers

from madoguchi.lib.errors import InputError
from madoguchi.lib.hyphens import unify_hyphens

__all__ = ["normalize_phone", "phone_digits"]

_ALLOWED = re.compile(r"\+?[0-9()\-. ]+")
_MAX_INPUT = 40
_NATIONAL_SEPARATORS = re.compile(r"[-. ]")
_NATIONAL_DIGITS = re.compile(r"0[1-9][0-9]{8,9}")
_MOBILE_OR_IP = re.compile(r"[5789]0[1-9]")


def _prepare(value: str) -> str:
    value = unify_hyphens(unicodedata.normalize("NFKC", value)).strip()
    # A leading "+81 (0)3 ..." keeps a trunk zero that must go.
    return re.sub(r"^\+81\s*\(0\)", "+81", value)


def _parse(text: str) -> phonenumbers.PhoneNumber:
    digits = _NATIONAL_SEPARATORS.sub("", text)
    if _NATIONAL_DIGITS.fullmatch(digits):
        # What phonenumbers.parse makes of a national number, without its 100 µs of parsing.
        return phonenumbers.PhoneNumber(country_code=81, national_number=int(digits[1:]))
    return phonenumbers.parse(text, "JP")


def _format_national(number: phonenumbers.PhoneNumber) -> str:
    significant = str(number.national_number)
    if len(significant) == 10 and _MOBILE_OR_IP.match(significant):
        # 0X0-XXXX-XXXX (mobile, IP phone): the one shape phonenumbers gives them; the test
        # suite checks that this shortcut agrees with format_number.
        return f"0{significant[:2]}-{significant[2:6]}-{significant[6:]}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def normalize_phone(value: str) -> str:
    """Canonical national notation with hyphens, e.g. ``03-1234-5678``.

    Accepts full-width digits, every hyphen-like dash, spaces, ``(03)1234-5678`` and
    ``+81 90 1234 5678``. A valid foreign number is kept in international notation
    (``+1 202-555-0123``). Raises ``InputError`` when the number is not a valid one.
    """
    text = _prepare(value)
    if not text:
        raise InputError("電話番号を入力してください。", code="required")
    if len(text) > _MAX_INPUT or not _ALLOWED.fullmatch(text):
        raise InputError("電話番号は数字とハイフンで入力してください。", code="invalid_phone")
    return _normalize(text)


@lru_cache(maxsize=4096)  # siblings' rows repeat the household's number
def _normalize(text: str) -> str:
    try:
        number = _parse(text)
    except phonenumbers.NumberParseException as error:
        raise InputError("電話番号の桁数が正しくありません。", code="invalid_phone") from error
    if not phonenumbers.is_valid_number(number):
        raise InputError("電話番号の桁数または番号が正しくありません。", code="invalid_phone")
    if number.country_code == 81:
        return _format_national(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_digits(value: str) -> str:
    """National digits only (``0312345678``), never raising: for partial or odd input.

    ``+81 90-1234-5678`` and ``81 90 1234 5678`` give ``09012345678``.
    """
    text = _prepare(value)
    digits = re.sub(r"\D", "", text)
    if text.startswith("+81") or (digits.startswith("81") and len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    return digits
